package argocd_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
)

// TestAcceptedConfigsRender is the property behind issue 10's "poison
// environment config": every Argo CD configuration that
// EnvironmentConfig.Validate accepts renders, in both layouts, into
// documents that match Argo CD's CRD schemas and Kubernetes' rules for
// metadata. A configuration the API accepts but the renderer or the
// cluster refuses stops the Git export at its event for ever.
//
// The configurations are drawn from values at and beyond every limit,
// valid and not; the test also checks that enough of them are accepted
// for the property to say something.
func TestAcceptedConfigsRender(t *testing.T) {
	t.Parallel()
	schemas := loadSchemas(t)
	r := rand.New(rand.NewPCG(10, 1))
	accepted := 0
	const draws = 400
	for i := range draws {
		cfg := randomArgoCDConfig(r)
		env := &railyard.Environment{Name: "production", Config: railyard.EnvironmentConfig{ArgoCD: cfg}}
		if env.Config.Validate() != nil {
			continue
		}
		accepted++
		for _, layout := range []string{railyard.ArgoCDLayoutPerApplication, railyard.ArgoCDLayoutSingleFile} {
			cfg.Layout = layout
			checkRendered(t, schemas, fmt.Sprintf("draw %d (%s)", i, layout), env)
		}
	}
	t.Logf("%d of %d random configurations accepted", accepted, draws)
	if accepted < draws/5 || accepted == draws {
		t.Fatalf("%d of %d random configurations accepted: the generator no longer mixes valid and invalid values", accepted, draws)
	}
	// The golden configurations are valid too.
	for _, tc := range goldenCases() {
		if err := tc.env.Config.Validate(); err != nil {
			t.Errorf("golden case %s: %v", tc.name, err)
		}
	}
}

// checkRendered renders env's documents and checks each one.
func checkRendered(t *testing.T, schemas crdSchemas, name string, env *railyard.Environment) {
	t.Helper()
	apps := []argocd.App{{Name: strings.Repeat("a", railyard.MaxApplicationNameLength), Team: "payments"}, {Name: "checkout"}}
	files, err := argocd.Files(env, apps, testOptions)
	if err != nil {
		t.Fatalf("%s: accepted configuration does not render: %v\n%+v", name, err, env.Config.ArgoCD)
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		for j, doc := range splitDocuments(t, files[p]) {
			if err := schemas.validate(doc); err != nil {
				t.Fatalf("%s: %s document %d does not match its CRD schema: %v", name, p, j+1, err)
			}
			if err := checkMetadata(doc); err != nil {
				t.Fatalf("%s: %s document %d: %v", name, p, j+1, err)
			}
		}
	}
}

// Kubernetes' rules for metadata, written out here independently of the
// validation under test (k8s.io/apimachinery/pkg/util/validation).
var (
	k8sPrefixRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	k8sNameRE   = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
)

// checkMetadata checks what the CRD schemas leave to the API server:
// annotation keys are qualified names (prefix at most 253, name at most
// 63) and all annotations together at most 256 KiB.
func checkMetadata(doc map[string]any) error {
	meta := dig(doc, "metadata")
	annotations, _ := meta["annotations"].(map[string]any)
	total := 0
	for k, v := range annotations {
		prefix, name, ok := strings.Cut(k, "/")
		if !ok {
			prefix, name = "", k
		}
		if (ok && (len(prefix) > 253 || !k8sPrefixRE.MatchString(prefix))) || len(name) > 63 || !k8sNameRE.MatchString(name) {
			return fmt.Errorf("annotation key %q is not a qualified name", k)
		}
		s, isString := v.(string)
		if !isString {
			return fmt.Errorf("annotation %q is a %T, not a string", k, v)
		}
		total += len(k) + len(s)
	}
	if total > 256<<10 {
		return fmt.Errorf("annotations hold %d bytes, more than Kubernetes' 256 KiB", total)
	}
	return nil
}

// randomArgoCDConfig draws a configuration whose every field is a valid
// value, a value at a limit, or an invalid one.
func randomArgoCDConfig(r *rand.Rand) *railyard.ArgoCDConfig {
	pick := func(values ...string) string { return values[r.IntN(len(values))] }
	some := func(n int, f func() string) []string {
		out := make([]string, r.IntN(n+1))
		for i := range out {
			out[i] = f()
		}
		return out
	}
	// Mostly valid values, so that enough configurations pass.
	valid := func() bool { return r.IntN(40) != 0 }
	str := func(good []string, bad []string) string {
		if valid() || len(bad) == 0 {
			return good[r.IntN(len(good))]
		}
		return bad[r.IntN(len(bad))]
	}
	cfg := &railyard.ArgoCDConfig{
		Destination: railyard.ArgoCDDestination{
			Name:                 str([]string{"", "prod", "arn:aws:eks:eu-west-1:1:cluster/prod"}, []string{"a\nb", " x", "\u202e"}),
			Server:               str([]string{"", "https://kubernetes.default.svc", "http://10.0.0.1:6443/k8s/clusters/c-1"}, []string{"k8s", "https://u:p@k8s", "ftp://x"}),
			Namespace:            str([]string{"", "shop", strings.Repeat("n", 63)}, []string{"Shop", "*", strings.Repeat("n", 64)}),
			AppProjectNamespace:  str([]string{"", "shop-*", "*", "a?c"}, []string{"a/b", "A*"}),
			ApplicationNamespace: str([]string{"", "apps"}, []string{"apps_1"}),
		},
		SyncOptions: some(3, func() string {
			return str([]string{"CreateNamespace=true", "Validate=false", "PrunePropagationPolicy=foreground", "ServerSideApply=true"},
				[]string{"CreateNamespace", "a=b c", "=x", "Validate=\x00"})
		}),
		ApplicationAnnotations: map[string]string{},
	}
	if cfg.Destination.Name == "" && cfg.Destination.Server == "" && valid() {
		cfg.Destination.Server = argocd.DefaultServer
	}
	prefix253 := strings.Repeat("p", 63) + "." + strings.Repeat("q", 63) + "." + strings.Repeat("r", 63) + "." + strings.Repeat("s", 61)
	for range r.IntN(4) {
		key := str([]string{"example.com/owner", "a", "x_y.z-0", "1password.com/vault", prefix253 + "/" + strings.Repeat("n", 63),
			"railyard.dev/application", "notifications.argoproj.io/subscribe.on-sync-failed.slack"},
			[]string{strings.Repeat("k", 2000), "a/b/c", "-a", "a b", "", prefix253 + "p/x", "Example.com/x", "x/" + strings.Repeat("n", 64)})
		value := str([]string{"", "plain", "yes", "key: value", "- item", "line one\nline two\n", "a\tb", "Grüße ✓", `{"a":"#b"}`, "~", "0123",
			strings.Repeat("v", 100<<10)},
			[]string{"\x00", "\x1b[31m", "\u0085", "\u202e", strings.Repeat("v", 256<<10)})
		cfg.ApplicationAnnotations[key] = value
	}
	for range r.IntN(3) {
		cfg.SyncWindows = append(cfg.SyncWindows, railyard.ArgoCDSyncWindow{
			Kind:     str([]string{"allow", "deny"}, []string{"block", ""}),
			Schedule: str([]string{"0 22 * * *", "@daily", "TZ=Europe/Berlin 0 6 * * 1-5", "*/5 * * * *"}, []string{"never", "TZ=Local 0 * * * *", "0 25 * * *"}),
			Duration: str([]string{"1h", "30m", "8h30m"}, []string{"0s", "-1h", "soon"}),
			Applications: some(2, func() string {
				return str([]string{"*", "production-*", "production-checkout"}, []string{"", "Prod App"})
			}),
		})
	}
	for range r.IntN(3) {
		cfg.AccessList = append(cfg.AccessList, railyard.ArgoCDAccessEntry{
			Group: str([]string{"", "*", "rbac.authorization.k8s.io"}, []string{"RBAC", "a b"}),
			Kind:  str([]string{"*", "Namespace", "ClusterRole"}, []string{"", "Name space"}),
		})
	}
	for range r.IntN(3) {
		cfg.IgnoreDifferences = append(cfg.IgnoreDifferences, railyard.ArgoCDIgnoreDifference{
			Group:     str([]string{"", "apps"}, []string{"Apps"}),
			Kind:      str([]string{"Deployment", "*"}, []string{""}),
			Name:      str([]string{"", "web", "system:controller:x"}, []string{"a/b", "a b"}),
			Namespace: str([]string{"", "shop"}, []string{"Shop"}),
			JSONPointers: some(2, func() string {
				return str([]string{"/spec/replicas", "/metadata/annotations/a~1b", "/"}, []string{"spec", "/a~2", ""})
			}),
			JQPathExpressions:     some(2, func() string { return str([]string{`.spec.x[] | select(.a == "b")`}, []string{"", "a\nb"}) }),
			ManagedFieldsManagers: some(2, func() string { return str([]string{"kube-controller-manager"}, []string{"", strings.Repeat("m", 129)}) }),
		})
	}
	if r.IntN(20) == 0 {
		cfg.Layout = pick("many", "Single-File")
	}
	return cfg
}
