package railyard

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/railyard-cd/railyard/internal/cron"
)

// ArgoCDConfig holds the Argo CD settings of an environment, with
// Kuberpult's field names.
type ArgoCDConfig struct {
	// Layout is "per-application" (default: one file per Application) or
	// "single-file" (Kuberpult's argocd/v1alpha1/<env>.yaml).
	Layout                 string                   `json:"layout,omitempty"`
	Destination            ArgoCDDestination        `json:"destination"`
	SyncWindows            []ArgoCDSyncWindow       `json:"syncWindows,omitempty"`
	AccessList             []ArgoCDAccessEntry      `json:"accessList,omitempty"`
	IgnoreDifferences      []ArgoCDIgnoreDifference `json:"ignoreDifferences,omitempty"`
	ApplicationAnnotations map[string]string        `json:"applicationAnnotations,omitempty"`
	SyncOptions            []string                 `json:"syncOptions,omitempty"`
}

// Argo CD layouts.
const (
	ArgoCDLayoutPerApplication = "per-application"
	ArgoCDLayoutSingleFile     = "single-file"
)

// ArgoCDDestination is where an environment's Applications deploy to.
type ArgoCDDestination struct {
	Name                 string `json:"name,omitempty"`
	Server               string `json:"server,omitempty"`
	Namespace            string `json:"namespace,omitempty"`
	AppProjectNamespace  string `json:"appProjectNamespace,omitempty"`
	ApplicationNamespace string `json:"applicationNamespace,omitempty"`
}

// ArgoCDSyncWindow is an Argo CD sync window on the environment's AppProject.
type ArgoCDSyncWindow struct {
	Kind         string   `json:"kind"`
	Schedule     string   `json:"schedule"`
	Duration     string   `json:"duration"`
	Applications []string `json:"applications,omitempty"`
}

// ArgoCDAccessEntry is one cluster resource kind the AppProject may manage.
type ArgoCDAccessEntry struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}

// ArgoCDIgnoreDifference is one ignoreDifferences entry of the Applications.
type ArgoCDIgnoreDifference struct {
	Group                 string   `json:"group,omitempty"`
	Kind                  string   `json:"kind"`
	Name                  string   `json:"name,omitempty"`
	Namespace             string   `json:"namespace,omitempty"`
	JSONPointers          []string `json:"jsonPointers,omitempty"`
	JQPathExpressions     []string `json:"jqPathExpressions,omitempty"`
	ManagedFieldsManagers []string `json:"managedFieldsManagers,omitempty"`
}

// The Argo CD configuration of an environment is rendered into the
// AppProject and the Applications of the manifest repository (package
// argocd) on every deploy. Whatever Kubernetes, Argo CD or the renderer
// would refuse must be refused here, when the configuration is put: once
// an event with a bad configuration is recorded, export cannot write it
// and stops at that event for ever. So every field is checked against
// what its consumer accepts, with a message that names the field.

// Limits of an Argo CD configuration.
const (
	// MaxArgoCDAnnotationBytes bounds the application annotations (the
	// bytes of every key and value): Kubernetes refuses an object whose
	// annotations exceed 256 KiB, and Railyard adds its own (at most 252
	// bytes) to every Application; 1 KiB is kept for them.
	MaxArgoCDAnnotationBytes = 255 << 10
	// MaxArgoCDConfigBytes bounds the text of everything else the Argo CD
	// configuration renders (destination, sync options, sync windows,
	// access list, ignoreDifferences), so that an Application stays well
	// under the 1.5 MiB that the Kubernetes API server stores.
	MaxArgoCDConfigBytes = 256 << 10
	// maxArgoCDStringBytes bounds one string of the configuration (a URL,
	// a jq expression, a JSON pointer).
	maxArgoCDStringBytes = 1024
)

var (
	// qualifiedNamePrefixRE is the optional prefix of a Kubernetes
	// qualified name (annotation and label keys): a DNS subdomain.
	qualifiedNamePrefixRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	// qualifiedNameRE is the name part of a qualified name.
	qualifiedNameRE = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	// syncOptionRE is Argo CD's sync option syntax, Key=Value.
	syncOptionRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*=[A-Za-z0-9][-A-Za-z0-9_./]*$`)
	// namePatternRE is an Argo CD glob over Kubernetes names ("shop-*",
	// "*"): lowercase letters, digits, '-', '.', '*' and '?'.
	namePatternRE = regexp.MustCompile(`^[a-z0-9*?]([-a-z0-9*?.]*[a-z0-9*?])?$`)
	// kindPatternRE is a resource kind or a glob over kinds ("Deployment",
	// "*").
	kindPatternRE = regexp.MustCompile(`^[A-Za-z0-9*?]+$`)
)

// argocdChecker validates one Argo CD configuration and counts the bytes
// of text it renders.
type argocdChecker struct {
	bytes int
}

func (a *ArgoCDConfig) validate() error {
	if a == nil {
		return nil
	}
	switch a.Layout {
	case "", ArgoCDLayoutPerApplication, ArgoCDLayoutSingleFile:
	default:
		return Errorf(EINVALID, "argocd.layout %q is not valid: use %q or %q", Truncate(a.Layout, maxQuoted), ArgoCDLayoutPerApplication, ArgoCDLayoutSingleFile).WithField("argocd.layout")
	}
	var c argocdChecker
	for _, check := range []func(*ArgoCDConfig) error{
		c.destination, c.syncWindows, c.accessList, c.ignoreDifferences, c.syncOptions, validateAnnotations,
	} {
		if err := check(a); err != nil {
			return err
		}
	}
	if c.bytes > MaxArgoCDConfigBytes {
		return Errorf(EINVALID, "argocd: the settings other than applicationAnnotations hold %d bytes of text; at most %d are allowed", c.bytes, MaxArgoCDConfigBytes).WithField("argocd")
	}
	return nil
}

// text checks one string of the configuration: one line, at most
// maxArgoCDStringBytes, not empty unless optional; and counts it.
func (c *argocdChecker) text(field, s string, optional bool) error {
	c.bytes += len(s)
	switch {
	case s == "" && !optional:
		return Errorf(EINVALID, "%s must not be empty", field).WithField(field)
	case len(s) > maxArgoCDStringBytes:
		return Errorf(EINVALID, "%s is %d bytes long; at most %d are allowed", field, len(s), maxArgoCDStringBytes).WithField(field)
	}
	return validateLine(field, s)
}

// pattern checks an optional string against re; what says what it must
// be, for the message.
func (c *argocdChecker) pattern(field, s string, max int, re *regexp.Regexp, what string) error {
	if err := c.text(field, s, true); err != nil || s == "" {
		return err
	}
	if len(s) > max || !re.MatchString(s) {
		return Errorf(EINVALID, "%s %q is not valid: it must be %s, at most %d characters", field, Truncate(s, maxQuoted), what, max).WithField(field)
	}
	return nil
}

// destination checks where the Applications deploy: server is the URL of
// a cluster API server, name an Argo CD cluster name, namespace and
// applicationNamespace Kubernetes namespaces, and appProjectNamespace a
// namespace or a glob over namespaces (it is what the AppProject allows).
func (c *argocdChecker) destination(a *ArgoCDConfig) error {
	d := a.Destination
	if d.Name == "" && d.Server == "" {
		return Errorf(EINVALID, "argocd.destination: set name or server (the cluster Argo CD deploys to)").WithField("argocd.destination")
	}
	if err := c.text("argocd.destination.name", d.Name, true); err != nil {
		return err
	}
	if d.Name != strings.TrimSpace(d.Name) {
		return Errorf(EINVALID, "argocd.destination.name %q must not start or end with spaces", Truncate(d.Name, maxQuoted)).WithField("argocd.destination.name")
	}
	if err := c.server(d.Server); err != nil {
		return err
	}
	const label = "a Kubernetes namespace (lowercase letters, digits and '-', starting and ending with a letter or digit)"
	if err := c.pattern("argocd.destination.namespace", d.Namespace, 63, dnsLabelRE, label); err != nil {
		return err
	}
	if err := c.pattern("argocd.destination.applicationNamespace", d.ApplicationNamespace, 63, dnsLabelRE, label); err != nil {
		return err
	}
	return c.pattern("argocd.destination.appProjectNamespace", d.AppProjectNamespace, 63, namePatternRE,
		"a Kubernetes namespace or a pattern of them with '*' and '?' (such as \"shop-*\")")
}

// server checks the URL of the destination cluster. Argo CD compares it
// with its clusters' URLs, so it must be an absolute http(s) URL; a user
// and password in it would be written into every Application.
func (c *argocdChecker) server(server string) error {
	const field = "argocd.destination.server"
	if err := c.text(field, server, true); err != nil || server == "" {
		return err
	}
	u, err := url.Parse(server)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return Errorf(EINVALID, "%s %q must be the http or https URL of a Kubernetes API server, such as %q", field, Truncate(server, maxQuoted), "https://kubernetes.default.svc").WithField(field)
	case u.User != nil:
		return Errorf(EINVALID, "%s must not contain a user or password: it is written into every Application; give Argo CD the cluster's credentials instead", field).WithField(field)
	}
	return nil
}

// syncWindows checks the Argo CD sync windows as Argo CD does: kind allow
// or deny, a cron schedule, a positive duration, and Application names or
// globs of them.
func (c *argocdChecker) syncWindows(a *ArgoCDConfig) error {
	for i, w := range a.SyncWindows {
		field := fmt.Sprintf("argocd.syncWindows[%d]", i)
		if w.Kind != "allow" && w.Kind != "deny" {
			return Errorf(EINVALID, "%s.kind %q is not valid: use \"allow\" or \"deny\"", field, Truncate(w.Kind, maxQuoted)).WithField(field + ".kind")
		}
		if err := c.text(field+".schedule", w.Schedule, false); err != nil {
			return err
		}
		if err := cron.CheckSyntax(w.Schedule); err != nil {
			return Errorf(EINVALID, "%s.schedule %q is not a valid cron expression: %v", field, Truncate(w.Schedule, maxQuoted), err).WithField(field + ".schedule")
		}
		if err := validateCronZone(field+".schedule", w.Schedule); err != nil {
			return err
		}
		if err := c.text(field+".duration", w.Duration, false); err != nil {
			return err
		}
		if d, err := time.ParseDuration(w.Duration); err != nil || d <= 0 {
			return Errorf(EINVALID, "%s.duration %q is not a positive duration such as \"1h\" or \"30m\"", field, Truncate(w.Duration, maxQuoted)).WithField(field + ".duration")
		}
		for j, app := range w.Applications {
			f := fmt.Sprintf("%s.applications[%d]", field, j)
			if app == "" {
				return Errorf(EINVALID, "%s must not be empty (use \"*\" for every application)", f).WithField(f)
			}
			if err := c.pattern(f, app, 253, namePatternRE, "an Application name or a pattern of them with '*' and '?' (such as \"production-*\")"); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateCronZone checks the zone of a "TZ=" or "CRON_TZ=" prefix, which
// robfig/cron (and Argo CD) accept in a schedule.
func validateCronZone(field, schedule string) error {
	s := strings.TrimSpace(schedule)
	for _, prefix := range []string{"TZ=", "CRON_TZ="} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			zone, _, _ := strings.Cut(rest, " ")
			return validateTimeZone(field, zone)
		}
	}
	return nil
}

// accessList checks the cluster-scoped resource kinds the AppProject may
// manage: an API group ("" for the core group) and a kind, either of
// which may be a glob.
func (c *argocdChecker) accessList(a *ArgoCDConfig) error {
	for i, e := range a.AccessList {
		field := fmt.Sprintf("argocd.accessList[%d]", i)
		if e.Kind == "" {
			return Errorf(EINVALID, "%s.kind must not be empty (use \"*\" for every kind)", field).WithField(field + ".kind")
		}
		if err := c.groupKind(field, e.Group, e.Kind); err != nil {
			return err
		}
	}
	return nil
}

// groupKind checks an API group and a resource kind (or globs of them).
func (c *argocdChecker) groupKind(field, group, kind string) error {
	if err := c.pattern(field+".group", group, 253, namePatternRE, "an API group (such as \"apps\"; empty for the core group) or a pattern of them with '*'"); err != nil {
		return err
	}
	return c.pattern(field+".kind", kind, 63, kindPatternRE, "a resource kind (such as \"Deployment\") or \"*\"")
}

// ignoreDifferences checks the Applications' ignoreDifferences entries:
// a kind is required, a JSON pointer starts with '/' and escapes '~' and
// '/' as RFC 6901 says, names and managers are one-line text.
func (c *argocdChecker) ignoreDifferences(a *ArgoCDConfig) error {
	for i, d := range a.IgnoreDifferences {
		field := fmt.Sprintf("argocd.ignoreDifferences[%d]", i)
		if d.Kind == "" {
			return Errorf(EINVALID, "%s.kind must not be empty", field).WithField(field + ".kind")
		}
		if err := c.groupKind(field, d.Group, d.Kind); err != nil {
			return err
		}
		if err := c.pattern(field+".name", d.Name, 253, objectNameRE, "a Kubernetes object name"); err != nil {
			return err
		}
		if err := c.pattern(field+".namespace", d.Namespace, 63, dnsLabelRE, "a Kubernetes namespace"); err != nil {
			return err
		}
		for j, p := range d.JSONPointers {
			if err := c.jsonPointer(fmt.Sprintf("%s.jsonPointers[%d]", field, j), p); err != nil {
				return err
			}
		}
		for j, e := range d.JQPathExpressions {
			if err := c.text(fmt.Sprintf("%s.jqPathExpressions[%d]", field, j), e, false); err != nil {
				return err
			}
		}
		for j, m := range d.ManagedFieldsManagers {
			f := fmt.Sprintf("%s.managedFieldsManagers[%d]", field, j)
			if err := c.text(f, m, false); err != nil {
				return err
			}
			if len(m) > 128 {
				return Errorf(EINVALID, "%s is %d bytes long; Kubernetes allows at most 128 for a field manager", f, len(m)).WithField(f)
			}
		}
	}
	return nil
}

// objectNameRE is a Kubernetes object name in the broadest form any kind
// allows (RBAC names may hold ':' and uppercase letters, as in
// "system:controller:deployment-controller"): no '/', no spaces, no '%'.
var objectNameRE = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.:@]*$`)

// jsonPointer checks an RFC 6901 JSON pointer into a resource.
func (c *argocdChecker) jsonPointer(field, p string) error {
	if err := c.text(field, p, false); err != nil {
		return err
	}
	if !strings.HasPrefix(p, "/") {
		return Errorf(EINVALID, "%s %q must be a JSON pointer starting with '/', such as \"/spec/replicas\"", field, Truncate(p, maxQuoted)).WithField(field)
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '~' && (i+1 == len(p) || (p[i+1] != '0' && p[i+1] != '1')) {
			return Errorf(EINVALID, "%s %q: '~' must be followed by 0 or 1 (\"~0\" is '~', \"~1\" is '/')", field, Truncate(p, maxQuoted)).WithField(field)
		}
	}
	return nil
}

// syncOptions checks Argo CD's "Key=Value" sync options, each key once.
func (c *argocdChecker) syncOptions(a *ArgoCDConfig) error {
	seen := map[string]int{}
	for i, o := range a.SyncOptions {
		field := fmt.Sprintf("argocd.syncOptions[%d]", i)
		if err := c.text(field, o, false); err != nil {
			return err
		}
		if len(o) > 253 || !syncOptionRE.MatchString(o) {
			return Errorf(EINVALID, "%s %q is not an Argo CD sync option: write Key=Value, such as \"CreateNamespace=true\"", field, Truncate(o, maxQuoted)).WithField(field)
		}
		key, _, _ := strings.Cut(o, "=")
		if j, dup := seen[key]; dup {
			return Errorf(EINVALID, "%s sets %s again (argocd.syncOptions[%d] sets it already): give each option once", field, key, j).WithField(field)
		}
		seen[key] = i
	}
	return nil
}

// validateAnnotations checks the annotations of the Applications:
// Kubernetes qualified names as keys, printable text as values (line
// breaks and tabs allowed), within Kubernetes' size limit.
func validateAnnotations(a *ArgoCDConfig) error {
	const field = "argocd.applicationAnnotations"
	total := 0
	for _, k := range slices.Sorted(maps.Keys(a.ApplicationAnnotations)) {
		v := a.ApplicationAnnotations[k]
		if err := validateQualifiedName(field, k); err != nil {
			return err
		}
		if err := validateMultiline(field+"["+k+"]", v); err != nil {
			return err
		}
		total += len(k) + len(v)
	}
	if total > MaxArgoCDAnnotationBytes {
		return Errorf(EINVALID, "%s hold %d bytes; at most %d are allowed (Kubernetes allows 256 KiB of annotations per object, and Railyard adds its own)", field, total, MaxArgoCDAnnotationBytes).WithField(field)
	}
	return nil
}

// validateQualifiedName checks an annotation or label key: an optional
// DNS subdomain prefix of at most 253 characters and '/', then a name of
// at most 63 letters, digits, '-', '_' and '.', starting and ending with
// a letter or digit.
func validateQualifiedName(field, key string) error {
	prefix, name, hasPrefix := strings.Cut(key, "/")
	if !hasPrefix {
		prefix, name = "", key
	}
	bad := func(why string) error {
		return Errorf(EINVALID, "%s key %q is not a valid Kubernetes annotation name: %s", field, Truncate(key, maxQuoted), why).WithField(field)
	}
	switch {
	case hasPrefix && (prefix == "" || len(prefix) > 253 || !qualifiedNamePrefixRE.MatchString(prefix)):
		return bad("the prefix before '/' must be a DNS subdomain (lowercase letters, digits, '-' and '.') of at most 253 characters")
	case name == "" || len(name) > 63 || !qualifiedNameRE.MatchString(name):
		return bad("the name must be at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, after an optional prefix such as \"example.com/\"")
	}
	return nil
}
