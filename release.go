package railyard

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/railyard-cd/railyard/internal/yamlcheck"
)

// Release is one immutable version of an application, with a manifest per
// environment it can be deployed to.
type Release struct {
	Application    string            `json:"application"`
	Version        int64             `json:"version"`
	Manifests      map[string]string `json:"manifests,omitempty"`
	Environments   []string          `json:"environments"`
	Team           string            `json:"team,omitempty"`
	SourceCommitID string            `json:"sourceCommitId,omitempty"`
	SourceAuthor   string            `json:"sourceAuthor,omitempty"`
	SourceMessage  string            `json:"sourceMessage,omitempty"`
	SourceBranch   string            `json:"sourceBranch,omitempty"`
	DisplayVersion string            `json:"displayVersion,omitempty"`
	CILink         string            `json:"ciLink,omitempty"`
	Undeploy       bool              `json:"undeploy,omitempty"`
	CreatedAt      time.Time         `json:"createdAt"`
}

// Release size limits; the HTTP layer enforces request-level limits.
const (
	DefaultMaxManifestBytes = 8 << 20
	MaxSourceMessageBytes   = 64 << 10
	maxShortFieldBytes      = 1000
)

var commitIDRE = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

// commitPrefixRE matches a source commit id or a prefix of one used in queries.
var commitPrefixRE = commitIDRE

// HasManifest reports whether the release can be deployed to env.
func (r *Release) HasManifest(env string) bool {
	for _, e := range r.Environments {
		if e == env {
			return true
		}
	}
	return false
}

// Validate checks the release's own fields (not against the store). It
// names the field and the rule at fault. maxManifestBytes <= 0 means the
// default limit.
func (r *Release) Validate(maxManifestBytes int) error {
	if maxManifestBytes <= 0 {
		maxManifestBytes = DefaultMaxManifestBytes
	}
	if err := ValidateApplicationName(r.Application); err != nil {
		return err
	}
	if err := validateVersion(r.Version, true); err != nil {
		return err
	}
	if r.Team != "" {
		if err := ValidateTeamName(r.Team); err != nil {
			return err
		}
	}
	if r.SourceCommitID != "" && !commitIDRE.MatchString(r.SourceCommitID) {
		return Errorf(EINVALID, "sourceCommitId %q must be 7 to 40 hexadecimal characters", truncateForMessage(r.SourceCommitID)).WithField("sourceCommitId")
	}
	if err := r.validateText(); err != nil {
		return err
	}
	if len(r.Manifests) == 0 {
		return Errorf(EINVALID, "manifests: give a manifest for at least one environment").WithField("manifests")
	}
	// Environments often share one manifest: parse each distinct one once.
	// The first environment (in sorted order) with a bad manifest is named.
	var validated []string
	for _, env := range slices.Sorted(maps.Keys(r.Manifests)) {
		field := "manifests[" + env + "]"
		if err := ValidateEnvironmentName(env); err != nil {
			return Errorf(EINVALID, "%s: %s", field, ErrorMessage(err)).WithField(field)
		}
		m := r.Manifests[env]
		if len(m) > maxManifestBytes {
			return Errorf(ETOOLARGE, "%s is %d bytes; at most %d are allowed", field, len(m), maxManifestBytes).WithField(field)
		}
		if r.Undeploy {
			if m != "" {
				return Errorf(EINVALID, "%s must be empty in an undeploy release", field).WithField(field)
			}
			continue
		}
		if slices.Contains(validated, m) {
			continue
		}
		if err := ValidateManifestYAML(m); err != nil {
			return Errorf(EINVALID, "%s is not valid YAML: %v", field, err).WithField(field)
		}
		validated = append(validated, m)
	}
	return nil
}

// validateText checks the release's text fields: lengths, and the rules
// for text that reaches Git and terminals (see text.go). The source
// message is the only multi-line one.
func (r *Release) validateText() error {
	if len(r.DisplayVersion) > MaxDisplayVersionLength {
		return Errorf(EINVALID, "displayVersion %q is %d characters long; at most %d are allowed", truncateForMessage(r.DisplayVersion), len(r.DisplayVersion), MaxDisplayVersionLength).WithField("displayVersion")
	}
	for _, f := range []struct{ field, value string }{
		{"sourceAuthor", r.SourceAuthor}, {"sourceBranch", r.SourceBranch}, {"displayVersion", r.DisplayVersion},
	} {
		if len(f.value) > maxShortFieldBytes {
			return Errorf(EINVALID, "%s is longer than %d bytes", f.field, maxShortFieldBytes).WithField(f.field)
		}
		if err := validateLine(f.field, f.value); err != nil {
			return err
		}
	}
	if err := validateLink("ciLink", r.CILink); err != nil {
		return err
	}
	if len(r.SourceMessage) > MaxSourceMessageBytes {
		return Errorf(EINVALID, "sourceMessage is longer than %d bytes", MaxSourceMessageBytes).WithField("sourceMessage")
	}
	return validateMultiline("sourceMessage", r.SourceMessage)
}

// MaxVersion is the highest release version: 2^53-1, the largest integer
// that every JSON parser reads exactly (JavaScript's numbers are doubles),
// so a version survives every client and tool unchanged.
const MaxVersion = 1<<53 - 1

// validateVersion checks a version given by a user. optional allows 0,
// which means "choose for me" (the next version, the previous one).
func validateVersion(v int64, optional bool) error {
	switch {
	case v > MaxVersion:
		return Errorf(EINVALID, "version %d is too large: versions go up to %d (2^53-1)", v, int64(MaxVersion)).WithField("version")
	case v < 0 || (v == 0 && !optional):
		return Errorf(EINVALID, "version must be a positive integer, got %d", v).WithField("version")
	}
	return nil
}

// ParseVersion parses a version written as text (a path segment, a form
// field): the canonical decimal form only, digits without sign, spaces or
// leading zeros, from 1 to MaxVersion. "+5", " 5" and "05" are refused
// rather than read as 5, so that one version has one spelling (in URLs,
// in Git paths, in logs).
func ParseVersion(s string) (int64, error) {
	canonical := s != "" && s[0] != '0'
	for i := 0; canonical && i < len(s); i++ {
		canonical = s[i] >= '0' && s[i] <= '9'
	}
	if !canonical {
		return 0, Errorf(EINVALID, "version %q must be a positive integer written with digits only (no sign, spaces or leading zeros), such as 5", truncateForMessage(s)).WithField("version")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v > MaxVersion {
		return 0, Errorf(EINVALID, "version %s is too large: versions go up to %d (2^53-1)", truncateForMessage(s), int64(MaxVersion)).WithField("version")
	}
	return v, nil
}

// ValidateManifestYAML checks that every document of a multi-document YAML
// stream parses and that no mapping repeats a key (see internal/yamlcheck
// for its fast path). The messages are yaml.v3's; a repeated key is quoted
// as far as a message quotes input.
func ValidateManifestYAML(manifest string) error {
	err := yamlcheck.Validate(manifest)
	var dup *yamlcheck.DuplicateKeyError
	if errors.As(err, &dup) {
		return &yamlcheck.DuplicateKeyError{Key: truncateForMessage(dup.Key), Line: dup.Line, FirstLine: dup.FirstLine}
	}
	return err
}

// FirstDifference compares two releases of the same application and
// version and returns the first field whose content differs ("" if they
// are identical). Creation time is not content.
func (r *Release) FirstDifference(o *Release) string {
	switch {
	case r.SourceCommitID != o.SourceCommitID:
		return "sourceCommitId"
	case r.SourceAuthor != o.SourceAuthor:
		return "sourceAuthor"
	case r.SourceMessage != o.SourceMessage:
		return "sourceMessage"
	case r.SourceBranch != o.SourceBranch:
		return "sourceBranch"
	case r.DisplayVersion != o.DisplayVersion:
		return "displayVersion"
	case r.Team != o.Team:
		return "team"
	case r.CILink != o.CILink:
		return "ciLink"
	case r.Undeploy != o.Undeploy:
		return "undeploy"
	}
	if len(r.Manifests) != len(o.Manifests) {
		return "manifests"
	}
	for env, m := range r.Manifests {
		if om, ok := o.Manifests[env]; !ok || om != m {
			return "manifests"
		}
	}
	return ""
}

// ReleaseFilter selects releases.
type ReleaseFilter struct {
	Application string
	// WithManifests loads the manifests too (they can be large).
	WithManifests bool
	// Limit caps the number of releases (newest first); 0 means no limit.
	Limit int
}

// versionString formats an optional version for messages.
func versionString(v *int64) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprint(*v)
}
