package argocd_test

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
)

func TestApplicationNames(t *testing.T) {
	t.Parallel()
	env23 := strings.Repeat("e", railyard.MaxEnvironmentNameLength)
	app39 := strings.Repeat("a", railyard.MaxApplicationNameLength)
	tests := []struct {
		name, env, app, team string
		wantName             string // "" means an error is expected
	}{
		{"longest names fit 63 characters", env23, app39, "t", env23 + "-" + app39},
		{"environment too long", env23 + "x", "app", "", ""},
		{"application too long", "prod", app39 + "x", "", ""},
		{"path traversal in application", "prod", "../etc", "", ""},
		{"slash in application", "prod", "a/b", "", ""},
		{"empty application", "prod", "", "", ""},
		{"empty environment", "", "app", "", ""},
		{"uppercase team", "prod", "app", "Payments", ""},
		{"longest team", "prod", "app", app39, "prod-app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := &railyard.Environment{Name: tc.env}
			out, err := argocd.Application(env, argocd.App{Name: tc.app, Team: tc.team}, testOptions)
			if tc.wantName == "" {
				if err == nil {
					t.Fatalf("Application(%q, %q, team %q) succeeded, want an error", tc.env, tc.app, tc.team)
				}
				if code := railyard.ErrorCode(err); code != railyard.EINVALID {
					t.Errorf("error code = %q, want %q (%v)", code, railyard.EINVALID, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := dig(splitDocuments(t, out)[0], "metadata")["name"]
			if got != tc.wantName || len(tc.wantName) > 63 {
				t.Errorf("metadata.name = %q (%d characters), want %q, at most 63", got, len(tc.wantName), tc.wantName)
			}
		})
	}
}

func TestApplicationTeamLabel(t *testing.T) {
	t.Parallel()
	env := &railyard.Environment{Name: "prod"}
	for _, team := range []string{"", "payments"} {
		out, err := argocd.Application(env, argocd.App{Name: "checkout", Team: team}, testOptions)
		if err != nil {
			t.Fatal(err)
		}
		labels, ok := dig(splitDocuments(t, out)[0], "metadata")["labels"]
		switch {
		case team == "" && ok:
			t.Errorf("empty team: metadata.labels = %v, want no labels key", labels)
		case team != "" && !reflect.DeepEqual(labels, map[string]any{"railyard.dev/team": team}):
			t.Errorf("team %q: metadata.labels = %v", team, labels)
		}
	}
}

// specialAnnotations need quoting, escaping or block style in YAML; each
// must come back unchanged from the generated document.
func specialAnnotations() map[string]string {
	return map[string]string{
		"example.com/yes":       "yes",
		"example.com/no":        "no",
		"example.com/on":        "on",
		"example.com/true":      "true",
		"example.com/null":      "null",
		"example.com/tilde":     "~",
		"example.com/empty":     "",
		"example.com/number":    "0123",
		"example.com/float":     "1.50",
		"example.com/colon":     "key: value",
		"example.com/comment":   "# not a comment",
		"example.com/hash":      "a #b",
		"example.com/star":      "*",
		"example.com/anchor":    "&anchor",
		"example.com/tag":       "!tag",
		"example.com/dash":      "- item",
		"example.com/flow":      "{a: [b, c]}",
		"example.com/quotes":    `it's "quoted"`,
		"example.com/backslash": `C:\path\n`,
		"example.com/newlines":  "line one\nline two\n",
		"example.com/tab":       "a\tb",
		"example.com/spaces":    "  padded  ",
		"example.com/unicode":   "Grüße ✓ 日本",
		"example.com/percent":   "%TAG",
		"example.com/at":        "@handle",
		"example.com/backtick":  "`cmd`",
		"example.com/docstart":  "---",
		"example.com/docend":    "...",
		"example.com/json":      `{"channel":"#deploys"}`,
		"under_score.and-dash":  "plain",
	}
}

func TestApplicationAnnotationsRoundTrip(t *testing.T) {
	t.Parallel()
	env := &railyard.Environment{Name: "prod", Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{
		Destination:            railyard.ArgoCDDestination{Server: argocd.DefaultServer},
		ApplicationAnnotations: specialAnnotations(),
	}}}
	out, err := argocd.Application(env, argocd.App{Name: "checkout"}, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range dig(splitDocuments(t, out)[0], "metadata", "annotations") {
		s, ok := v.(string)
		if !ok {
			t.Errorf("annotation %s came back as %T %v, want a string", k, v, v)
		}
		got[k] = s
	}
	want := specialAnnotations()
	want["railyard.dev/application"] = "checkout"
	want["railyard.dev/environment"] = "prod"
	want["argocd.argoproj.io/manifest-generate-paths"] = "/environments/prod/applications/checkout/manifests"
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("annotation %s = %q, want %q", k, got[k], want[k])
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d annotations, want %d", len(got), len(want))
	}
}

// TestRailyardAnnotationsWin: tools and the importer rely on Railyard's
// annotations, so configuration cannot change them.
func TestRailyardAnnotationsWin(t *testing.T) {
	t.Parallel()
	env := &railyard.Environment{Name: "prod", Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{
		Destination: railyard.ArgoCDDestination{Server: argocd.DefaultServer},
		ApplicationAnnotations: map[string]string{
			"railyard.dev/application":                   "other",
			"argocd.argoproj.io/manifest-generate-paths": ".",
		},
	}}}
	out, err := argocd.Application(env, argocd.App{Name: "checkout"}, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	a := dig(splitDocuments(t, out)[0], "metadata", "annotations")
	if a["railyard.dev/application"] != "checkout" || a["argocd.argoproj.io/manifest-generate-paths"] != "/environments/prod/applications/checkout/manifests" {
		t.Errorf("configured annotations replaced Railyard's: %v", a)
	}
}

func TestDestinations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		dest        railyard.ArgoCDDestination
		wantApp     map[string]any
		wantProject map[string]any
	}{
		{
			"namespace applies to both",
			railyard.ArgoCDDestination{Server: "https://k", Namespace: "shop", AppProjectNamespace: "ignored", ApplicationNamespace: "ignored"},
			map[string]any{"server": "https://k", "namespace": "shop"},
			map[string]any{"server": "https://k", "namespace": "shop"},
		},
		{
			"split namespaces",
			railyard.ArgoCDDestination{Server: "https://k", AppProjectNamespace: "shop-*", ApplicationNamespace: "shop-a"},
			map[string]any{"server": "https://k", "namespace": "shop-a"},
			map[string]any{"server": "https://k", "namespace": "shop-*"},
		},
		{
			"no namespace: the project allows all, the Application sets none",
			railyard.ArgoCDDestination{Server: "https://k"},
			map[string]any{"server": "https://k"},
			map[string]any{"server": "https://k", "namespace": "*"},
		},
		{
			"name and server: the Application uses server, the project both",
			railyard.ArgoCDDestination{Name: "prod", Server: "https://k", Namespace: "shop"},
			map[string]any{"server": "https://k", "namespace": "shop"},
			map[string]any{"name": "prod", "server": "https://k", "namespace": "shop"},
		},
		{
			"name only",
			railyard.ArgoCDDestination{Name: "prod", Namespace: "shop"},
			map[string]any{"name": "prod", "namespace": "shop"},
			map[string]any{"name": "prod", "namespace": "shop"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := &railyard.Environment{Name: "prod", Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{Destination: tc.dest}}}
			app, err := argocd.Application(env, argocd.App{Name: "checkout"}, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if got := dig(splitDocuments(t, app)[0], "spec", "destination"); !reflect.DeepEqual(got, tc.wantApp) {
				t.Errorf("Application spec.destination = %v, want %v", got, tc.wantApp)
			}
			project, err := argocd.Project(env, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			got := dig(splitDocuments(t, project)[0], "spec")["destinations"]
			if want := []any{tc.wantProject}; !reflect.DeepEqual(got, want) {
				t.Errorf("AppProject spec.destinations = %v, want %v", got, want)
			}
		})
	}
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	valid := &railyard.Environment{Name: "prod"}
	tests := []struct {
		name string
		run  func() error
	}{
		{"no RepoURL", func() error {
			_, err := argocd.Application(valid, argocd.App{Name: "a"}, argocd.Options{TargetRevision: "main"})
			return err
		}},
		{"nil environment", func() error { _, err := argocd.Project(nil, testOptions); return err }},
		{"no destination", func() error {
			env := &railyard.Environment{Name: "prod", Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{}}}
			_, err := argocd.Project(env, testOptions)
			return err
		}},
		{"unknown layout", func() error {
			env := &railyard.Environment{Name: "prod", Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{
				Layout: "many-files", Destination: railyard.ArgoCDDestination{Server: "https://k"},
			}}}
			_, err := argocd.Files(env, nil, testOptions)
			return err
		}},
		{"application listed twice", func() error {
			_, err := argocd.Files(valid, []argocd.App{{Name: "a"}, {Name: "b"}, {Name: "a"}}, testOptions)
			return err
		}},
		{"invalid application in Files", func() error {
			_, err := argocd.Files(valid, []argocd.App{{Name: "a"}, {Name: "../b"}}, testOptions)
			return err
		}},
	}
	for _, tc := range tests {
		if err := tc.run(); err == nil {
			t.Errorf("%s: no error, want one", tc.name)
		}
	}
}

// TestTargetRevisionOptional: without a branch Argo CD follows HEAD.
func TestTargetRevisionOptional(t *testing.T) {
	t.Parallel()
	out, err := argocd.Application(&railyard.Environment{Name: "prod"}, argocd.App{Name: "a"}, argocd.Options{RepoURL: "https://git/r.git"})
	if err != nil {
		t.Fatal(err)
	}
	if src := dig(splitDocuments(t, out)[0], "spec", "source"); src["targetRevision"] != nil {
		t.Errorf("spec.source.targetRevision = %v, want it left out", src["targetRevision"])
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		layout               string
		wantProject, wantApp string
	}{
		{"", "argocd/v1alpha1/prod/_project.yaml", "argocd/v1alpha1/prod/checkout.yaml"},
		{railyard.ArgoCDLayoutPerApplication, "argocd/v1alpha1/prod/_project.yaml", "argocd/v1alpha1/prod/checkout.yaml"},
		{railyard.ArgoCDLayoutSingleFile, "argocd/v1alpha1/prod.yaml", "argocd/v1alpha1/prod.yaml"},
	}
	for _, tc := range tests {
		p, err := argocd.ProjectPath("prod", tc.layout)
		if err != nil || p != tc.wantProject {
			t.Errorf("ProjectPath(prod, %q) = %q, %v, want %q", tc.layout, p, err, tc.wantProject)
		}
		a, err := argocd.ApplicationPath("prod", "checkout", tc.layout)
		if err != nil || a != tc.wantApp {
			t.Errorf("ApplicationPath(prod, checkout, %q) = %q, %v, want %q", tc.layout, a, err, tc.wantApp)
		}
	}
	got, err := argocd.EnvironmentPaths("prod")
	if want := []string{"argocd/v1alpha1/prod", "argocd/v1alpha1/prod.yaml"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("EnvironmentPaths(prod) = %q, %v, want %q", got, err, want)
	}
	for _, bad := range [][3]string{{"..", "a", ""}, {"prod", "..", ""}, {"prod", "a/b", ""}, {"prod", "a", "zip"}} {
		if p, err := argocd.ApplicationPath(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("ApplicationPath(%q, %q, %q) = %q, want an error", bad[0], bad[1], bad[2], p)
		}
	}
	if p, err := argocd.EnvironmentPaths("../x"); err == nil {
		t.Errorf("EnvironmentPaths(../x) = %q, want an error", p)
	}
}

// TestFilesAgreeWithPaths: the exporter deletes and rewrites by the path
// functions, so they must name exactly the files Files writes.
func TestFilesAgreeWithPaths(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases() {
		files, err := argocd.Files(tc.env, tc.apps, testOptions)
		if err != nil {
			t.Fatal(err)
		}
		layout := argocd.Layout(tc.env)
		want := map[string]bool{}
		p, err := argocd.ProjectPath(tc.env.Name, layout)
		if err != nil {
			t.Fatal(err)
		}
		want[p] = true
		for _, app := range tc.apps {
			p, err := argocd.ApplicationPath(tc.env.Name, app.Name, layout)
			if err != nil {
				t.Fatal(err)
			}
			want[p] = true
		}
		envPaths, err := argocd.EnvironmentPaths(tc.env.Name)
		if err != nil {
			t.Fatal(err)
		}
		for f := range files {
			if !want[f] {
				t.Errorf("%s: Files wrote %s, which the path functions do not name", tc.name, f)
			}
			if !slices.ContainsFunc(envPaths, func(p string) bool { return f == p || strings.HasPrefix(f, p+"/") }) {
				t.Errorf("%s: %s is outside EnvironmentPaths %v", tc.name, f, envPaths)
			}
		}
		if len(files) != len(want) {
			t.Errorf("%s: Files wrote %d files, the path functions name %d", tc.name, len(files), len(want))
		}
	}
}
