package argocd

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/railyard-cd/railyard"
)

// The tests in this file hold the hand-written YAML to gopkg.in/yaml.v3:
// the same documents, built as structs with Argo CD's field names and
// encoded by yaml.v3, must decode to the same values.

type refProject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Description              string           `yaml:"description"`
		SourceRepos              []string         `yaml:"sourceRepos"`
		Destinations             []refDestination `yaml:"destinations"`
		ClusterResourceWhitelist []refGroupKind   `yaml:"clusterResourceWhitelist,omitempty"`
		SyncWindows              []refSyncWindow  `yaml:"syncWindows,omitempty"`
	} `yaml:"spec"`
}

type refDestination struct {
	Name      string `yaml:"name,omitempty"`
	Server    string `yaml:"server,omitempty"`
	Namespace string `yaml:"namespace,omitempty"`
}

type refGroupKind struct {
	Group string `yaml:"group"`
	Kind  string `yaml:"kind"`
}

type refSyncWindow struct {
	Kind         string   `yaml:"kind"`
	Schedule     string   `yaml:"schedule"`
	Duration     string   `yaml:"duration"`
	Applications []string `yaml:"applications"`
	ManualSync   bool     `yaml:"manualSync"`
}

type refApplication struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels,omitempty"`
		Annotations map[string]string `yaml:"annotations"`
		Finalizers  []string          `yaml:"finalizers"`
	} `yaml:"metadata"`
	Spec struct {
		Project string `yaml:"project"`
		Source  struct {
			RepoURL        string `yaml:"repoURL"`
			Path           string `yaml:"path"`
			TargetRevision string `yaml:"targetRevision,omitempty"`
		} `yaml:"source"`
		Destination refDestination `yaml:"destination"`
		SyncPolicy  struct {
			Automated struct {
				Prune      bool `yaml:"prune"`
				SelfHeal   bool `yaml:"selfHeal"`
				AllowEmpty bool `yaml:"allowEmpty"`
			} `yaml:"automated"`
			SyncOptions []string `yaml:"syncOptions,omitempty"`
		} `yaml:"syncPolicy"`
		IgnoreDifferences []refIgnoreDifference `yaml:"ignoreDifferences,omitempty"`
	} `yaml:"spec"`
}

type refIgnoreDifference struct {
	Group                 string   `yaml:"group,omitempty"`
	Kind                  string   `yaml:"kind"`
	Name                  string   `yaml:"name,omitempty"`
	Namespace             string   `yaml:"namespace,omitempty"`
	JSONPointers          []string `yaml:"jsonPointers,omitempty"`
	JQPathExpressions     []string `yaml:"jqPathExpressions,omitempty"`
	ManagedFieldsManagers []string `yaml:"managedFieldsManagers,omitempty"`
}

func (r *renderer) refProject() *refProject {
	p := &refProject{APIVersion: apiVersion, Kind: "AppProject"}
	p.Metadata.Name = r.env
	p.Spec.Description = "Railyard environment " + r.env
	p.Spec.SourceRepos = []string{r.opts.RepoURL}
	p.Spec.Destinations = []refDestination{refDestination(r.projectDest)}
	for _, e := range r.cfg.AccessList {
		p.Spec.ClusterResourceWhitelist = append(p.Spec.ClusterResourceWhitelist, refGroupKind(e))
	}
	for _, w := range r.cfg.SyncWindows {
		apps := w.Applications
		if len(apps) == 0 {
			apps = []string{"*"}
		}
		p.Spec.SyncWindows = append(p.Spec.SyncWindows, refSyncWindow{w.Kind, w.Schedule, w.Duration, apps, true})
	}
	return p
}

func (r *renderer) refApplication(app App) *refApplication {
	a := &refApplication{APIVersion: apiVersion, Kind: "Application"}
	path := "environments/" + r.env + "/applications/" + app.Name + "/manifests"
	a.Metadata.Name = r.env + "-" + app.Name
	if app.Team != "" {
		a.Metadata.Labels = map[string]string{labelTeam: app.Team}
	}
	a.Metadata.Annotations = map[string]string{}
	for k, v := range r.cfg.ApplicationAnnotations {
		a.Metadata.Annotations[k] = v
	}
	a.Metadata.Annotations[annotationApplication] = app.Name
	a.Metadata.Annotations[annotationEnvironment] = r.env
	a.Metadata.Annotations[annotationGeneratePaths] = "/" + path
	a.Metadata.Finalizers = []string{resourcesFinalizer}
	a.Spec.Project = r.env
	a.Spec.Source.RepoURL, a.Spec.Source.Path, a.Spec.Source.TargetRevision = r.opts.RepoURL, path, r.opts.TargetRevision
	a.Spec.Destination = refDestination(r.appDest)
	a.Spec.SyncPolicy.Automated.Prune, a.Spec.SyncPolicy.Automated.SelfHeal, a.Spec.SyncPolicy.Automated.AllowEmpty = true, true, true
	a.Spec.SyncPolicy.SyncOptions = r.cfg.SyncOptions
	for _, d := range r.cfg.IgnoreDifferences {
		a.Spec.IgnoreDifferences = append(a.Spec.IgnoreDifferences, refIgnoreDifference(d))
	}
	return a
}

// TestWriterMatchesYAMLv3 renders environments that use every field and
// every kind of awkward string, and compares with yaml.v3's encoding.
func TestWriterMatchesYAMLv3(t *testing.T) {
	t.Parallel()
	awkward := []string{
		"", "yes", "No", "ON", "null", "~", "0123", "1.5", "1e3", ".inf", "-", "- a", "*", "&a", "!t", "%x", "@a",
		"`a`", "a: b", "a:", "a #b", "a#b", "#a", " a", "a ", "a  b", "'", `"`, `\`, "a\nb", "a\n", "\t", "\r\n",
		"\u0085", "\u2028", "\ufeff", "\x00", "\x7f", "é", "日本", "🚂", "{a}", "[a]", "a,b", "---", "...", "<<", "=",
		"http://x:80/a?b=c&d#e", "Key=value", ".spec.x[] | select(.name == \"y\")",
	}
	annotations := map[string]string{}
	for i, s := range awkward {
		annotations["example.com/k"+strings.Repeat("x", i)] = s
		// yaml.v3 writes the key "<<" plain and then reads it as a merge
		// key, so the reference cannot have it (the writer quotes it).
		if s != "" && s != "<<" {
			annotations[s] = "key"
		}
	}
	envs := []*railyard.Environment{
		{Name: "development"},
		{Name: "production", Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{
			Destination: railyard.ArgoCDDestination{Name: "n", Server: "s: x", Namespace: "0", AppProjectNamespace: "a", ApplicationNamespace: "b"},
			SyncWindows: []railyard.ArgoCDSyncWindow{
				{Kind: "deny", Schedule: "0 22 * * *", Duration: "8h", Applications: awkward},
				{Kind: "allow", Schedule: "@daily", Duration: "1h"},
			},
			AccessList: []railyard.ArgoCDAccessEntry{{Group: "", Kind: "*"}, {Group: "true", Kind: "x: y"}},
			IgnoreDifferences: []railyard.ArgoCDIgnoreDifference{
				{Kind: "Deployment"},
				{Group: "yes", Kind: "~", Name: "#", Namespace: "'", JSONPointers: awkward, JQPathExpressions: awkward, ManagedFieldsManagers: awkward},
			},
			ApplicationAnnotations: annotations,
			SyncOptions:            awkward,
		}}},
		{Name: "staging", Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{
			Destination: railyard.ArgoCDDestination{Name: "staging-cluster", ApplicationNamespace: "ns"},
		}}},
	}
	apps := []App{{Name: "a"}, {Name: "true", Team: "null"}, {Name: "0123", Team: "1e3"}, {Name: strings.Repeat("a", 39), Team: "y"}}
	for _, opts := range []Options{{RepoURL: "https://git/r.git", TargetRevision: "main"}, {RepoURL: "git@host:org/repo.git"}, {RepoURL: "yes", TargetRevision: "0.1"}} {
		for _, env := range envs {
			r, err := newRenderer(env, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.project()
			if err != nil {
				t.Fatal(err)
			}
			sameValue(t, env.Name+" AppProject", got, r.refProject())
			for _, app := range apps {
				got, err := r.application(app)
				if err != nil {
					t.Fatal(err)
				}
				sameValue(t, env.Name+" Application "+app.Name, got, r.refApplication(app))
			}
		}
	}
}

// TestAnnotationsSorted: the configured and Railyard's annotations come
// out in one sorted list, whatever sorts before or after Railyard's keys.
func TestAnnotationsSorted(t *testing.T) {
	t.Parallel()
	env := &railyard.Environment{Name: "prod", Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{
		Destination:            railyard.ArgoCDDestination{Server: DefaultServer},
		ApplicationAnnotations: map[string]string{"a": "1", "argocd.argoproj.io/z": "2", "b": "3", "railyard.dev/b": "4", "railyard.dev/f": "5", "z": "6"},
	}}}
	out, err := Application(env, App{Name: "checkout"}, Options{RepoURL: "https://git/r.git"})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Metadata struct {
			Annotations yaml.Node `yaml:"annotations"`
		} `yaml:"metadata"`
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i, n := range doc.Metadata.Annotations.Content {
		if i%2 == 0 {
			keys = append(keys, n.Value)
		}
	}
	if !slices.IsSorted(keys) || len(keys) != 9 {
		t.Errorf("annotation keys %q are not the 9 keys in sorted order", keys)
	}
}

// FuzzScalar: every valid UTF-8 string, as a value and as a key, reads
// back as itself; invalid UTF-8 is an error, never broken YAML.
func FuzzScalar(f *testing.F) {
	for _, s := range []string{"", "a", "yes", "a: b", "a #b", "0 22 * * *", "line\nline", "\u2028", "\xff", "🚂", "x:", "a  b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, asKey := range []bool{false, true} {
			w := &yamlWriter{}
			want := map[string]any{"k": s}
			if asKey {
				w.str(0, s, "v")
				if errors.Is(w.err, errKeyTooLong) {
					if len(w.b) < maxKeyLength {
						t.Fatalf("%q: %v, but it was written in %d bytes", s, w.err, len(w.b))
					}
					continue
				}
				want = map[string]any{s: "v"}
			} else {
				w.str(0, "k", s)
			}
			if !utf8.ValidString(s) {
				if w.err == nil {
					t.Fatalf("%q: no error for invalid UTF-8", s)
				}
				return
			}
			if w.err != nil {
				t.Fatalf("%q: %v", s, w.err)
			}
			var got map[string]any
			if err := yaml.Unmarshal(w.b, &got); err != nil {
				t.Fatalf("%q written as %q does not parse: %v", s, w.b, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q written as %q reads back as %#v", s, w.b, got)
			}
			if bytes.Count(w.b, []byte("\n")) != 1 {
				t.Fatalf("%q written as %q is not one line", s, w.b)
			}
		}
	})
}

// sameValue decodes the generated document and yaml.v3's encoding of the
// reference struct and requires equal values (types included).
func sameValue(t *testing.T, what string, got []byte, ref any) {
	t.Helper()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(ref); err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := decodeOne(got, &g); err != nil {
		t.Fatalf("%s: generated YAML does not parse: %v\n%s", what, err, got)
	}
	if err := decodeOne(buf.Bytes(), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: generated YAML differs from yaml.v3's\ngenerated:\n%s\nyaml.v3:\n%s", what, got, buf.Bytes())
	}
}

// decodeOne decodes exactly one document.
func decodeOne(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one document")
	}
	return nil
}

// BenchmarkReferenceYAMLv3Application is what BenchmarkApplication would
// cost with yaml.v3 writing the document: the reason for yamlWriter.
func BenchmarkReferenceYAMLv3Application(b *testing.B) {
	env := &railyard.Environment{Name: "production", Config: railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{
		Destination: railyard.ArgoCDDestination{Server: "https://prod.k8s.example.com:6443", Namespace: "shop"},
		IgnoreDifferences: []railyard.ArgoCDIgnoreDifference{{
			Group: "apps", Kind: "Deployment", JSONPointers: []string{"/spec/replicas"},
		}},
		ApplicationAnnotations: map[string]string{"example.com/owner": "Platform Team: #platform"},
		SyncOptions:            []string{"CreateNamespace=true"},
	}}}
	app := App{Name: "checkout", Team: "payments"}
	b.Run("yaml.v3", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := newRenderer(env, Options{RepoURL: "https://git/r.git", TargetRevision: "main"})
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			enc := yaml.NewEncoder(&buf)
			enc.SetIndent(2)
			if err := enc.Encode(r.refApplication(app)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("writer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Application(env, app, Options{RepoURL: "https://git/r.git", TargetRevision: "main"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
