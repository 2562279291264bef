package railyard

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
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
	if r.Version < 0 {
		return Errorf(EINVALID, "version must be a positive integer, got %d", r.Version).WithField("version")
	}
	if r.Team != "" {
		if err := ValidateTeamName(r.Team); err != nil {
			return err
		}
	}
	if r.SourceCommitID != "" && !commitIDRE.MatchString(r.SourceCommitID) {
		return Errorf(EINVALID, "sourceCommitId %q must be 7 to 40 hexadecimal characters", truncateForMessage(r.SourceCommitID)).WithField("sourceCommitId")
	}
	if len(r.DisplayVersion) > MaxDisplayVersionLength {
		return Errorf(EINVALID, "displayVersion %q is %d characters long; at most %d are allowed", truncateForMessage(r.DisplayVersion), len(r.DisplayVersion), MaxDisplayVersionLength).WithField("displayVersion")
	}
	for field, v := range map[string]string{"sourceAuthor": r.SourceAuthor, "sourceBranch": r.SourceBranch, "displayVersion": r.DisplayVersion, "ciLink": r.CILink} {
		if len(v) > maxShortFieldBytes {
			return Errorf(EINVALID, "%s is longer than %d bytes", field, maxShortFieldBytes).WithField(field)
		}
	}
	if len(r.SourceMessage) > MaxSourceMessageBytes {
		return Errorf(EINVALID, "sourceMessage is longer than %d bytes", MaxSourceMessageBytes).WithField("sourceMessage")
	}
	if r.CILink != "" {
		if u, err := url.Parse(r.CILink); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Errorf(EINVALID, "ciLink %q must be an http or https URL", truncateForMessage(r.CILink)).WithField("ciLink")
		}
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

// ValidateManifestYAML checks that every document of a multi-document YAML
// stream parses. A fast path accepts the common shapes of Kubernetes
// manifests without parsing them fully (see manifestyaml.go); anything
// else, and every error, comes from yaml.v3.
func ValidateManifestYAML(manifest string) error {
	if wellFormedManifestYAML(manifest) {
		return nil
	}
	return decodeManifestYAML(manifest)
}

// decodeManifestYAML decodes every document of manifest with yaml.v3.
func decodeManifestYAML(manifest string) error {
	dec := yaml.NewDecoder(strings.NewReader(manifest))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == nil {
			continue
		}
		if err.Error() == "EOF" {
			return nil
		}
		return err
	}
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
