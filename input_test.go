package railyard_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// The rules for input that reaches Git (issue 10: everything accepted can
// be exported, strict input). Each table gives the exact field and
// message, and every refusal must leave the state unchanged.

// refusal is what a refused command must answer.
type refusal struct {
	code, field, message string
}

// wantRefusal applies cmd, which must be refused as want says without
// changing anything.
func (h *harness) wantRefusal(t *testing.T, cmd railyard.Command, want refusal) {
	t.Helper()
	before := h.snapshot()
	err := h.fail(want.code, cmd)
	if err.Field != want.field || err.Message != want.message {
		t.Errorf("got field %q message %q\nwant field %q message %q", err.Field, err.Message, want.field, want.message)
	}
	assertEqual(t, "state", h.snapshot(), before)
}

func TestReleaseInputRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development")
	const ctl = " must not contain control characters (found U+"
	cases := []struct {
		name   string
		mutate func(*railyard.CreateRelease)
		want   refusal
	}{
		{"version above 2^53-1", func(c *railyard.CreateRelease) { c.Version = railyard.MaxVersion + 1 },
			refusal{railyard.EINVALID, "version", "version 9007199254740992 is too large: versions go up to 9007199254740991 (2^53-1)"}},
		{"version int64 max", func(c *railyard.CreateRelease) { c.Version = 1<<63 - 1 },
			refusal{railyard.EINVALID, "version", "version 9223372036854775807 is too large: versions go up to 9007199254740991 (2^53-1)"}},
		{"NUL in displayVersion", func(c *railyard.CreateRelease) { c.DisplayVersion = "1.2\x00" },
			refusal{railyard.EINVALID, "displayVersion", "displayVersion" + ctl + "0000 at byte 3)"}},
		{"ANSI escape in sourceAuthor", func(c *railyard.CreateRelease) { c.SourceAuthor = "\x1b[2JBob" },
			refusal{railyard.EINVALID, "sourceAuthor", "sourceAuthor" + ctl + "001B at byte 0)"}},
		{"newline in sourceBranch", func(c *railyard.CreateRelease) { c.SourceBranch = "main\nRailyard-Event: 1" },
			refusal{railyard.EINVALID, "sourceBranch", "sourceBranch" + ctl + "000A at byte 4)"}},
		{"C1 in ciLink", func(c *railyard.CreateRelease) { c.CILink = "https://ci.example.com/\u009b31m" },
			refusal{railyard.EINVALID, "ciLink", "ciLink" + ctl + "009B at byte 23)"}},
		{"NUL in sourceMessage", func(c *railyard.CreateRelease) { c.SourceMessage = "fix\x00" },
			refusal{railyard.EINVALID, "sourceMessage", "sourceMessage" + ctl + "0000 at byte 3)"}},
		{"carriage return in sourceMessage", func(c *railyard.CreateRelease) { c.SourceMessage = "fix\r\nmore" },
			refusal{railyard.EINVALID, "sourceMessage", "sourceMessage" + ctl + "000D at byte 3)"}},
		{"bidi override in displayVersion", func(c *railyard.CreateRelease) { c.DisplayVersion = "1\u202e2" },
			refusal{railyard.EINVALID, "displayVersion", "displayVersion must not contain bidirectional embedding, override or isolate characters (found U+202E at byte 1)"}},
		{"invalid UTF-8 in sourceAuthor", func(c *railyard.CreateRelease) { c.SourceAuthor = "Bob \xff" },
			refusal{railyard.EINVALID, "sourceAuthor", "sourceAuthor is not valid UTF-8 (byte 0xFF at byte 4)"}},
		{"duplicate key in a manifest", func(c *railyard.CreateRelease) {
			c.Manifests["development"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"
		}, refusal{railyard.EINVALID, "manifests[development]", `manifests[development] is not valid YAML: yaml: line 5: mapping key "name" already defined at line 4`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := releaseCmd("checkout", 2, "payments", "development")
			tc.mutate(cmd)
			h.wantRefusal(t, cmd, tc.want)
		})
	}
	// Multi-line text keeps its line breaks and tabs; the highest version
	// is accepted.
	cmd := releaseCmd("checkout", railyard.MaxVersion, "payments", "development")
	cmd.SourceMessage = "Fix checkout\n\n\t- retry payments\nRTL: עברית\u200f"
	h.must(cmd)
}

func TestAutomaticVersionStopsAtTheBound(t *testing.T) {
	t.Parallel()
	h := newHarness(t).chain()
	h.release("checkout", railyard.MaxVersion-1, "payments", "development")
	res := h.must(releaseCmd("checkout", 0, "payments", "development"))
	assertEqual(t, "automatic version", res.Release.Version, int64(railyard.MaxVersion))
	h.wantRefusal(t, releaseCmd("checkout", 0, "payments", "development"), refusal{railyard.ECONFLICT, "version",
		"checkout already has version 9007199254740991, the highest allowed (2^53-1), so there is no next version: give an unused lower version explicitly"})
	// A version given explicitly still works.
	h.release("checkout", 7, "payments", "development")
}

func TestDeployAndRollbackVersionBounds(t *testing.T) {
	t.Parallel()
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development")
	tooLarge := refusal{railyard.EINVALID, "version", "version 9007199254740992 is too large: versions go up to 9007199254740991 (2^53-1)"}
	h.wantRefusal(t, &railyard.Deploy{Application: "checkout", Environment: "staging", Version: railyard.MaxVersion + 1}, tooLarge)
	h.wantRefusal(t, &railyard.Rollback{Application: "checkout", Environment: "staging", Version: railyard.MaxVersion + 1}, tooLarge)
	h.wantRefusal(t, &railyard.Deploy{Application: "checkout", Environment: "staging", Version: 0},
		refusal{railyard.EINVALID, "version", "version must be a positive integer, got 0"})
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	digitsOnly := func(s string) string {
		return fmt.Sprintf("version %q must be a positive integer written with digits only (no sign, spaces or leading zeros), such as 5", s)
	}
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"1", 1, ""},
		{"42", 42, ""},
		{"9007199254740991", railyard.MaxVersion, ""},
		{"9007199254740992", 0, "version 9007199254740992 is too large: versions go up to 9007199254740991 (2^53-1)"},
		{"9223372036854775807", 0, "version 9223372036854775807 is too large: versions go up to 9007199254740991 (2^53-1)"},
		{"99999999999999999999999", 0, "version 99999999999999999999999 is too large: versions go up to 9007199254740991 (2^53-1)"},
		{"+5", 0, digitsOnly("+5")},
		{"-5", 0, digitsOnly("-5")},
		{" 5", 0, digitsOnly(" 5")},
		{"5\n", 0, digitsOnly("5\n")},
		{"05", 0, digitsOnly("05")},
		{"0", 0, digitsOnly("0")},
		{"", 0, digitsOnly("")},
		{"5e3", 0, digitsOnly("5e3")},
		{"٣", 0, digitsOnly("٣")},
		{"0x10", 0, digitsOnly("0x10")},
	} {
		v, err := railyard.ParseVersion(tc.in)
		if v != tc.want || railyard.ErrorMessage(err) != tc.err {
			t.Errorf("ParseVersion(%q) = %d, %q; want %d, %q", tc.in, v, railyard.ErrorMessage(err), tc.want, tc.err)
		}
		if err != nil && railyard.AsError(err).Field != "version" {
			t.Errorf("ParseVersion(%q): field %q, want version", tc.in, railyard.AsError(err).Field)
		}
	}
}

func TestLockAndTrainInputRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development")
	lock := func(msg, link string) *railyard.CreateLock {
		return &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "freeze"}, Message: msg, CILink: link}
	}
	h.wantRefusal(t, lock("freeze\x00", ""), refusal{railyard.EINVALID, "message", "message must not contain control characters (found U+0000 at byte 6)"})
	h.wantRefusal(t, lock("\x1b]0;pwned\x07freeze", ""), refusal{railyard.EINVALID, "message", "message must not contain control characters (found U+001B at byte 0)"})
	h.wantRefusal(t, lock("freeze \u2067", ""), refusal{railyard.EINVALID, "message", "message must not contain bidirectional embedding, override or isolate characters (found U+2067 at byte 7)"})
	h.wantRefusal(t, lock("freeze", "https://ci/\u0080"), refusal{railyard.EINVALID, "ciLink", "ciLink must not contain control characters (found U+0080 at byte 11)"})
	h.wantRefusal(t, &railyard.ReleaseTrain{Environment: "staging", CILink: "https://ci/\x00"},
		refusal{railyard.EINVALID, "ciLink", "ciLink must not contain control characters (found U+0000 at byte 11)"})
	// A lock message may span lines.
	h.must(lock("Release freeze\n\tuntil Monday", ""))
}

func TestActorRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		actor        railyard.Actor
		field, error string
	}{
		{railyard.Actor{Name: "Zoë Müller", Email: "zoe@example.com"}, "", ""},
		{railyard.Actor{Name: "Zoë", Email: ""}, "", ""},
		{railyard.Actor{Name: " "}, "author-name", "actor name must not be empty"},
		{railyard.Actor{Name: "Eve\x00"}, "author-name", "author-name must not contain control characters (found U+0000 at byte 3)"},
		{railyard.Actor{Name: "Eve\nRailyard-Event: 9"}, "author-name", "author-name must not contain control characters (found U+000A at byte 3)"},
		{railyard.Actor{Name: "Eve", Email: "eve@x\x1b[0m"}, "author-email", "author-email must not contain control characters (found U+001B at byte 5)"},
		{railyard.Actor{Name: "Eve <x>"}, "author-name", "author-name must not contain '<' or '>'"},
		{railyard.Actor{Name: "Eve", Email: "a>b"}, "author-email", "author-email must not contain '<' or '>'"},
		{railyard.Actor{Name: "Eve\u202e"}, "author-name", "author-name must not contain bidirectional embedding, override or isolate characters (found U+202E at byte 3)"},
		{railyard.Actor{Name: "Eve\xff"}, "author-name", "author-name is not valid UTF-8 (byte 0xFF at byte 3)"},
		{railyard.Actor{Name: strings.Repeat("e", 201)}, "author-name", "author-name must be at most 200 characters"},
		{railyard.Actor{Name: "Eve", Email: strings.Repeat("e", 201)}, "author-email", "author-email must be at most 200 characters"},
	} {
		err := tc.actor.Validate()
		var field string
		if e := railyard.AsError(err); e != nil {
			field = e.Field
		}
		if field != tc.field || railyard.ErrorMessage(err) != tc.error {
			t.Errorf("%+q: got %q %q, want %q %q", tc.actor, field, railyard.ErrorMessage(err), tc.field, tc.error)
		}
	}
}

func TestTimeZones(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ zone, error string }{
		{"", ""},
		{"UTC", ""},
		{"Europe/Berlin", ""},
		{"America/Argentina/Buenos_Aires", ""},
		{"Etc/GMT+5", ""},
		{"EST5EDT", ""},
		{"Local", `deployWindows[0].timeZone "Local" means the server's own time zone, which depends on the host: name an IANA time zone such as "Europe/Berlin", or leave it out for UTC`},
		{"localtime", `deployWindows[0].timeZone "localtime" means the server's own time zone, which depends on the host: name an IANA time zone such as "Europe/Berlin", or leave it out for UTC`},
		{"posixrules", `deployWindows[0].timeZone "posixrules" is not an IANA time zone such as "Europe/Berlin"`},
		{"posix/Europe/Berlin", `deployWindows[0].timeZone "posix/Europe/Berlin" is not an IANA time zone such as "Europe/Berlin"`},
		{"right/UTC", `deployWindows[0].timeZone "right/UTC" is not an IANA time zone such as "Europe/Berlin"`},
		{"Europe/Atlantis", `deployWindows[0].timeZone "Europe/Atlantis" is not an IANA time zone such as "Europe/Berlin"`},
		{"../../etc/passwd", `deployWindows[0].timeZone "../../etc/passwd" is not an IANA time zone such as "Europe/Berlin"`},
		{"UTC\x00", "deployWindows[0].timeZone must not contain control characters (found U+0000 at byte 3)"},
	} {
		cfg := railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{{Kind: "deny", Schedule: "0 22 * * *", Duration: "8h", TimeZone: tc.zone}}}
		checkConfig(t, "deploy window zone "+tc.zone, cfg, "deployWindows[0].timeZone", tc.error)
		train := railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true},
			ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 6 * * 1-5", TimeZone: tc.zone}}}
		checkConfig(t, "train zone "+tc.zone, train, "releaseTrains[0].timeZone",
			strings.ReplaceAll(tc.error, "deployWindows[0]", "releaseTrains[0]"))
	}
	// A zone in a "TZ=" prefix of an Argo CD sync window follows the same rules.
	argo := railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{Destination: railyard.ArgoCDDestination{Server: "https://k"},
		SyncWindows: []railyard.ArgoCDSyncWindow{{Kind: "deny", Schedule: "TZ=Local 0 22 * * *", Duration: "8h"}}}}
	checkConfig(t, "sync window TZ=Local", argo, "argocd.syncWindows[0].schedule",
		`argocd.syncWindows[0].schedule "Local" means the server's own time zone, which depends on the host: name an IANA time zone such as "Europe/Berlin", or leave it out for UTC`)
	argo.ArgoCD.SyncWindows[0].Schedule = "CRON_TZ=Europe/Berlin 0 22 * * *"
	checkConfig(t, "sync window CRON_TZ=Europe/Berlin", argo, "", "")
}

// checkConfig validates cfg, which must be refused on field with message,
// or accepted when message is "".
func checkConfig(t *testing.T, name string, cfg railyard.EnvironmentConfig, field, message string) {
	t.Helper()
	err := cfg.Validate()
	if message == "" {
		if err != nil {
			t.Errorf("%s: got %v, want it accepted", name, railyard.ErrorMessage(err))
		}
		return
	}
	e := railyard.AsError(err)
	if e == nil || e.Code != railyard.EINVALID || e.Field != field || e.Message != message {
		t.Errorf("%s:\ngot  %v\nwant field %q message %q", name, e, field, message)
	}
}

func TestArgoCDConfigRules(t *testing.T) {
	t.Parallel()
	dest := railyard.ArgoCDDestination{Server: "https://kubernetes.default.svc"}
	argo := func(mutate func(a *railyard.ArgoCDConfig)) railyard.EnvironmentConfig {
		a := &railyard.ArgoCDConfig{Destination: dest}
		mutate(a)
		return railyard.EnvironmentConfig{ArgoCD: a}
	}
	annotations := func(kv ...string) func(a *railyard.ArgoCDConfig) {
		return func(a *railyard.ArgoCDConfig) {
			a.ApplicationAnnotations = map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				a.ApplicationAnnotations[kv[i]] = kv[i+1]
			}
		}
	}
	const ann = "argocd.applicationAnnotations"
	badPrefix := "the prefix before '/' must be a DNS subdomain (lowercase letters, digits, '-' and '.') of at most 253 characters"
	badName := `the name must be at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, after an optional prefix such as "example.com/"`
	keyError := func(key, why string) string {
		shown := key
		if len(shown) > 60 {
			shown = shown[:60] + "…"
		}
		return fmt.Sprintf("%s key %q is not a valid Kubernetes annotation name: %s", ann, shown, why)
	}
	long2000 := strings.Repeat("k", 2000)
	prefix253 := strings.Repeat("p", 63) + "." + strings.Repeat("p", 63) + "." + strings.Repeat("p", 63) + "." + strings.Repeat("p", 61)
	name63 := strings.Repeat("n", 63)
	bigValue := strings.Repeat("v", railyard.MaxArgoCDAnnotationBytes)
	cases := []struct {
		name           string
		cfg            railyard.EnvironmentConfig
		field, message string
	}{
		// Annotations: keys are Kubernetes qualified names.
		{"annotation key of 2000 characters", argo(annotations(long2000, "x")), ann, keyError(long2000, badName)},
		{"longest annotation key", argo(annotations(prefix253+"/"+name63, "x")), "", ""},
		{"annotation prefix of 254", argo(annotations(prefix253+"p/x", "x")), ann, keyError(prefix253+"p/x", badPrefix)},
		{"annotation name of 64", argo(annotations("example.com/"+name63+"n", "x")), ann, keyError("example.com/"+name63+"n", badName)},
		{"annotation with two slashes", argo(annotations("a/b/c", "x")), ann, keyError("a/b/c", badName)},
		{"annotation with empty prefix", argo(annotations("/x", "x")), ann, keyError("/x", badPrefix)},
		{"annotation with uppercase prefix", argo(annotations("Example.com/x", "x")), ann, keyError("Example.com/x", badPrefix)},
		{"annotation name ending in -", argo(annotations("example.com/x-", "x")), ann, keyError("example.com/x-", badName)},
		{"annotation with a space", argo(annotations("a b", "x")), ann, keyError("a b", badName)},
		{"empty annotation key", argo(annotations("", "x")), ann, keyError("", badName)},
		{"annotation value with NUL", argo(annotations("example.com/a", "x\x00")), ann + "[example.com/a]", ann + "[example.com/a] must not contain control characters (found U+0000 at byte 1)"},
		{"annotation value with ESC", argo(annotations("example.com/a", "\x1b[1m")), ann + "[example.com/a]", ann + "[example.com/a] must not contain control characters (found U+001B at byte 0)"},
		{"annotation value over lines", argo(annotations("example.com/a", "one\n\ttwo\n")), "", ""},
		{"annotations at the limit", argo(annotations("a", bigValue[:len(bigValue)-1])), "", ""},
		{"annotations over the limit", argo(annotations("a", bigValue)), ann, ann + " hold 261121 bytes; at most 261120 are allowed (Kubernetes allows 256 KiB of annotations per object, and Railyard adds its own)"},
		// Destination.
		{"server not a URL", argo(func(a *railyard.ArgoCDConfig) { a.Destination.Server = "kubernetes" }), "argocd.destination.server",
			`argocd.destination.server "kubernetes" must be the http or https URL of a Kubernetes API server, such as "https://kubernetes.default.svc"`},
		{"server with credentials", argo(func(a *railyard.ArgoCDConfig) { a.Destination.Server = "https://admin:secret@k8s:6443" }), "argocd.destination.server",
			"argocd.destination.server must not contain a user or password: it is written into every Application; give Argo CD the cluster's credentials instead"},
		{"server with NUL", argo(func(a *railyard.ArgoCDConfig) { a.Destination.Server = "https://k\x00" }), "argocd.destination.server",
			"argocd.destination.server must not contain control characters (found U+0000 at byte 9)"},
		{"namespace not a label", argo(func(a *railyard.ArgoCDConfig) { a.Destination.Namespace = "Shop" }), "argocd.destination.namespace",
			`argocd.destination.namespace "Shop" is not valid: it must be a Kubernetes namespace (lowercase letters, digits and '-', starting and ending with a letter or digit), at most 63 characters`},
		{"namespace of 64", argo(func(a *railyard.ArgoCDConfig) { a.Destination.Namespace = strings.Repeat("n", 64) }), "argocd.destination.namespace",
			`argocd.destination.namespace "` + strings.Repeat("n", 60) + `…" is not valid: it must be a Kubernetes namespace (lowercase letters, digits and '-', starting and ending with a letter or digit), at most 63 characters`},
		{"namespace glob", argo(func(a *railyard.ArgoCDConfig) { a.Destination.Namespace = "shop-*" }), "argocd.destination.namespace",
			`argocd.destination.namespace "shop-*" is not valid: it must be a Kubernetes namespace (lowercase letters, digits and '-', starting and ending with a letter or digit), at most 63 characters`},
		{"project namespace glob", argo(func(a *railyard.ArgoCDConfig) { a.Destination.AppProjectNamespace = "shop-*" }), "", ""},
		{"project namespace with slash", argo(func(a *railyard.ArgoCDConfig) { a.Destination.AppProjectNamespace = "a/b" }), "argocd.destination.appProjectNamespace",
			`argocd.destination.appProjectNamespace "a/b" is not valid: it must be a Kubernetes namespace or a pattern of them with '*' and '?' (such as "shop-*"), at most 63 characters`},
		{"application namespace", argo(func(a *railyard.ArgoCDConfig) { a.Destination.ApplicationNamespace = "apps_1" }), "argocd.destination.applicationNamespace",
			`argocd.destination.applicationNamespace "apps_1" is not valid: it must be a Kubernetes namespace (lowercase letters, digits and '-', starting and ending with a letter or digit), at most 63 characters`},
		{"cluster name with newline", argo(func(a *railyard.ArgoCDConfig) { a.Destination.Name = "prod\nx" }), "argocd.destination.name",
			"argocd.destination.name must not contain control characters (found U+000A at byte 4)"},
		{"cluster name with spaces around", argo(func(a *railyard.ArgoCDConfig) { a.Destination.Name = " prod" }), "argocd.destination.name",
			`argocd.destination.name " prod" must not start or end with spaces`},
		{"EKS cluster name", argo(func(a *railyard.ArgoCDConfig) {
			a.Destination = railyard.ArgoCDDestination{Name: "arn:aws:eks:eu-west-1:123456789012:cluster/prod"}
		}), "", ""},
		// Sync options.
		{"sync option without =", argo(func(a *railyard.ArgoCDConfig) { a.SyncOptions = []string{"CreateNamespace"} }), "argocd.syncOptions[0]",
			`argocd.syncOptions[0] "CreateNamespace" is not an Argo CD sync option: write Key=Value, such as "CreateNamespace=true"`},
		{"sync option with space", argo(func(a *railyard.ArgoCDConfig) { a.SyncOptions = []string{"Validate = false"} }), "argocd.syncOptions[0]",
			`argocd.syncOptions[0] "Validate = false" is not an Argo CD sync option: write Key=Value, such as "CreateNamespace=true"`},
		{"sync option given twice", argo(func(a *railyard.ArgoCDConfig) {
			a.SyncOptions = []string{"Validate=false", "PruneLast=true", "Validate=true"}
		}),
			"argocd.syncOptions[2]", "argocd.syncOptions[2] sets Validate again (argocd.syncOptions[0] sets it already): give each option once"},
		{"sync options", argo(func(a *railyard.ArgoCDConfig) {
			a.SyncOptions = []string{"CreateNamespace=true", "PrunePropagationPolicy=foreground", "ServerSideApply=true"}
		}), "", ""},
		// Sync windows.
		{"sync window kind", argo(func(a *railyard.ArgoCDConfig) {
			a.SyncWindows = []railyard.ArgoCDSyncWindow{{Kind: "block", Schedule: "0 22 * * *", Duration: "1h"}}
		}), "argocd.syncWindows[0].kind", `argocd.syncWindows[0].kind "block" is not valid: use "allow" or "deny"`},
		{"sync window zero duration", argo(func(a *railyard.ArgoCDConfig) {
			a.SyncWindows = []railyard.ArgoCDSyncWindow{{Kind: "deny", Schedule: "0 22 * * *", Duration: "0s"}}
		}), "argocd.syncWindows[0].duration", `argocd.syncWindows[0].duration "0s" is not a positive duration such as "1h" or "30m"`},
		{"sync window schedule with C1", argo(func(a *railyard.ArgoCDConfig) {
			a.SyncWindows = []railyard.ArgoCDSyncWindow{{Kind: "deny", Schedule: "0\u008522 * * *", Duration: "1h"}}
		}), "argocd.syncWindows[0].schedule", "argocd.syncWindows[0].schedule must not contain control characters (found U+0085 at byte 1)"},
		{"sync window application", argo(func(a *railyard.ArgoCDConfig) {
			a.SyncWindows = []railyard.ArgoCDSyncWindow{{Kind: "deny", Schedule: "0 22 * * *", Duration: "1h", Applications: []string{"prod-*", "Prod App"}}}
		}), "argocd.syncWindows[0].applications[1]",
			`argocd.syncWindows[0].applications[1] "Prod App" is not valid: it must be an Application name or a pattern of them with '*' and '?' (such as "production-*"), at most 253 characters`},
		{"sync window empty application", argo(func(a *railyard.ArgoCDConfig) {
			a.SyncWindows = []railyard.ArgoCDSyncWindow{{Kind: "deny", Schedule: "0 22 * * *", Duration: "1h", Applications: []string{""}}}
		}), "argocd.syncWindows[0].applications[0]", `argocd.syncWindows[0].applications[0] must not be empty (use "*" for every application)`},
		// Access list and ignoreDifferences.
		{"access list kind", argo(func(a *railyard.ArgoCDConfig) {
			a.AccessList = []railyard.ArgoCDAccessEntry{{Group: "", Kind: "Name space"}}
		}),
			"argocd.accessList[0].kind", `argocd.accessList[0].kind "Name space" is not valid: it must be a resource kind (such as "Deployment") or "*", at most 63 characters`},
		{"access list group", argo(func(a *railyard.ArgoCDConfig) {
			a.AccessList = []railyard.ArgoCDAccessEntry{{Group: "RBAC", Kind: "*"}}
		}),
			"argocd.accessList[0].group", `argocd.accessList[0].group "RBAC" is not valid: it must be an API group (such as "apps"; empty for the core group) or a pattern of them with '*', at most 253 characters`},
		{"access list without kind", argo(func(a *railyard.ArgoCDConfig) { a.AccessList = []railyard.ArgoCDAccessEntry{{Group: "apps"}} }),
			"argocd.accessList[0].kind", `argocd.accessList[0].kind must not be empty (use "*" for every kind)`},
		{"ignoreDifferences without kind", argo(func(a *railyard.ArgoCDConfig) {
			a.IgnoreDifferences = []railyard.ArgoCDIgnoreDifference{{Group: "apps"}}
		}),
			"argocd.ignoreDifferences[0].kind", "argocd.ignoreDifferences[0].kind must not be empty"},
		{"JSON pointer without /", argo(func(a *railyard.ArgoCDConfig) {
			a.IgnoreDifferences = []railyard.ArgoCDIgnoreDifference{{Kind: "Deployment", JSONPointers: []string{"spec/replicas"}}}
		}), "argocd.ignoreDifferences[0].jsonPointers[0]",
			`argocd.ignoreDifferences[0].jsonPointers[0] "spec/replicas" must be a JSON pointer starting with '/', such as "/spec/replicas"`},
		{"JSON pointer with a bad escape", argo(func(a *railyard.ArgoCDConfig) {
			a.IgnoreDifferences = []railyard.ArgoCDIgnoreDifference{{Kind: "Deployment", JSONPointers: []string{"/metadata/annotations/a~2b"}}}
		}), "argocd.ignoreDifferences[0].jsonPointers[0]",
			`argocd.ignoreDifferences[0].jsonPointers[0] "/metadata/annotations/a~2b": '~' must be followed by 0 or 1 ("~0" is '~', "~1" is '/')`},
		{"empty jq expression", argo(func(a *railyard.ArgoCDConfig) {
			a.IgnoreDifferences = []railyard.ArgoCDIgnoreDifference{{Kind: "Deployment", JQPathExpressions: []string{""}}}
		}), "argocd.ignoreDifferences[0].jqPathExpressions[0]", "argocd.ignoreDifferences[0].jqPathExpressions[0] must not be empty"},
		{"object name with slash", argo(func(a *railyard.ArgoCDConfig) {
			a.IgnoreDifferences = []railyard.ArgoCDIgnoreDifference{{Kind: "Deployment", Name: "a/b"}}
		}), "argocd.ignoreDifferences[0].name", `argocd.ignoreDifferences[0].name "a/b" is not valid: it must be a Kubernetes object name, at most 253 characters`},
		{"manager of 129", argo(func(a *railyard.ArgoCDConfig) {
			a.IgnoreDifferences = []railyard.ArgoCDIgnoreDifference{{Kind: "Deployment", ManagedFieldsManagers: []string{strings.Repeat("m", 129)}}}
		}), "argocd.ignoreDifferences[0].managedFieldsManagers[0]", "argocd.ignoreDifferences[0].managedFieldsManagers[0] is 129 bytes long; Kubernetes allows at most 128 for a field manager"},
		{"RBAC object name and globs", argo(func(a *railyard.ArgoCDConfig) {
			a.IgnoreDifferences = []railyard.ArgoCDIgnoreDifference{{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:controller:x",
				JSONPointers: []string{"/rules", "/metadata/annotations/a~1b~0c"}, JQPathExpressions: []string{`.spec.x[] | select(.a == "b")`}}}
			a.AccessList = []railyard.ArgoCDAccessEntry{{Group: "*", Kind: "*"}, {Group: "", Kind: "Namespace"}}
		}), "", ""},
		{"too much text", argo(func(a *railyard.ArgoCDConfig) {
			for range 300 {
				a.IgnoreDifferences = append(a.IgnoreDifferences, railyard.ArgoCDIgnoreDifference{Kind: "Deployment", JSONPointers: []string{"/" + strings.Repeat("x", 1000)}})
			}
		}), "argocd", "argocd: the settings other than applicationAnnotations hold 303330 bytes of text; at most 262144 are allowed"},
		// Other text of the configuration.
		{"branch restriction with NUL", railyard.EnvironmentConfig{BranchRestriction: "^main\x00$"}, "branchRestriction",
			"branchRestriction must not contain control characters (found U+0000 at byte 5)"},
		{"upstream branch with ESC", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true, Branch: "\x1b"}}, "upstream.branch",
			"upstream.branch must not contain control characters (found U+001B at byte 0)"},
		{"deploy window schedule with C1", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{{Kind: "deny", Schedule: "0\u008522 * * *", Duration: "1h"}}},
			"deployWindows[0].schedule", "deployWindows[0].schedule must not contain control characters (found U+0085 at byte 1)"},
	}
	for _, tc := range cases {
		checkConfig(t, tc.name, tc.cfg, tc.field, tc.message)
	}
}

func TestDecodeJSONStrict(t *testing.T) {
	t.Parallel()
	type window struct {
		Kind string `json:"kind"`
	}
	type body struct {
		Version   int64             `json:"version,omitempty"`
		Manifests map[string]string `json:"manifests,omitempty"`
		Windows   []window          `json:"deployWindows,omitempty"`
		At        *time.Time        `json:"at,omitempty"`
	}
	for _, tc := range []struct {
		in, field, message string
	}{
		{`{"version":1,"version":2}`, "version", "version is given more than once: give each field once"},
		{`{"manifests":{"staging":"a","staging":"b"}}`, "manifests[staging]", "manifests[staging] is given more than once: give each field once"},
		{`{"deployWindows":[{"kind":"a","kind":"b"}]}`, "deployWindows[0].kind", "deployWindows[0].kind is given more than once: give each field once"},
		{`{"VERSION":1}`, "VERSION", `unknown field "VERSION": field names are case-sensitive, use "version"`},
		{`{"deployWindows":[{"Kind":"a"}]}`, "deployWindows[0].Kind", `unknown field "Kind": field names are case-sensitive, use "kind"`},
		{`{"versoin":1}`, "versoin", `unknown field "versoin": check its spelling`},
		{"{\"manifests\":{\"staging\":\"a\xffb\"}}", "manifests[staging]", "manifests[staging] is not valid UTF-8 (byte 0xFF at byte 26 of the body)"},
		{"{\"manifests\xfe\":{}}", "body", "body is not valid UTF-8 (byte 0xFE at byte 11)"},
		{`{"manifests":{"staging":"\ud800"}}`, "manifests[staging]", "manifests[staging] is not valid JSON: invalid surrogate pair `\\ud800\"}}` in string (at byte 25)"},
		{`{"version":"3"}`, "version", "version: expected a number, got JSON string"},
		{`{"version":1.5}`, "version", "version: expected an integer, got JSON number 1.5"},
		{`{"version":99999999999999999999}`, "version", "version: expected an integer, got JSON number 99999999999999999999"},
		{`{"deployWindows":[{"kind":true}]}`, "deployWindows[0].kind", "deployWindows[0].kind: expected a string, got JSON bool"},
		{`{"at":"tomorrow"}`, "at", `at: expected a time in RFC 3339 form, such as "2026-01-02T15:04:05Z", got JSON string`},
		{`[]`, "body", "body: expected an object, got JSON array"},
		{`{} {}`, "body", "body is not valid JSON: invalid character '{' after top-level value (at byte 3)"},
		{`{"version":`, "body", "body is not valid JSON: it ends in the middle of a value (at byte 11)"},
		{" \n", "body", "body is empty: send a JSON object"},
	} {
		var v body
		err := railyard.DecodeJSONStrict([]byte(tc.in), &v)
		e := railyard.AsError(err)
		if e == nil || e.Code != railyard.EINVALID || e.Field != tc.field || e.Message != tc.message {
			t.Errorf("%q:\ngot  %v\nwant field %q message %q", tc.in, e, tc.field, tc.message)
		}
	}
	// Unknown fields are ignored by the lenient decoder, the rest is not.
	var v struct {
		Message string `json:"message"`
	}
	if err := railyard.DecodeJSONLenient([]byte(`{"message":"m","extra":1}`), &v); err != nil || v.Message != "m" {
		t.Errorf("lenient: got %v, %+v", err, v)
	}
	for in, field := range map[string]string{`{"message":"a","message":"b"}`: "message", `{"MESSAGE":"a"}`: "", "{\"message\":\"\xff\"}": "message"} {
		v.Message = ""
		err := railyard.DecodeJSONLenient([]byte(in), &v)
		if field == "" {
			// A field in the wrong case is an unknown field: ignored, so
			// the message stays empty (and the lock is refused for that).
			if err != nil || v.Message != "" {
				t.Errorf("lenient %q: got %v, %q; want it ignored", in, err, v.Message)
			}
			continue
		}
		if e := railyard.AsError(err); e == nil || e.Field != field {
			t.Errorf("lenient %q: got %v, want a refusal naming %s", in, err, field)
		}
	}
}

// BenchmarkDecodeJSONStrict decodes a release body with three 10 KB
// manifests, as http/bench_test.go sends, with DecodeJSONStrict and with
// what it replaced (encoding/json with DisallowUnknownFields), which
// checks neither duplicates, nor case, nor UTF-8.
func BenchmarkDecodeJSONStrict(b *testing.B) {
	manifests := map[string]string{}
	for _, env := range []string{"development", "staging", "production"} {
		var m strings.Builder
		fmt.Fprintf(&m, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout\n  namespace: %s\ndata:\n", env)
		for i := 0; m.Len() < 10<<10; i++ {
			fmt.Fprintf(&m, "  key%04d: \"value %04d for the %s environment, padded to a realistic length\"\n", i, i, env)
		}
		manifests[env] = m.String()
	}
	body, err := json.Marshal(&railyard.CreateRelease{Application: "checkout", Version: 5, Team: "payments",
		SourceCommitID: "0123456789abcdef0123456789abcdef01234567", SourceAuthor: "Bob <bob@example.com>",
		SourceMessage: "Benchmark release", Manifests: manifests})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("DecodeJSONStrict", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var cr railyard.CreateRelease
			if err := railyard.DecodeJSONStrict(body, &cr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var cr railyard.CreateRelease
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&cr); err != nil {
				b.Fatal(err)
			}
		}
	})
}
