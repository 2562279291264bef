package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestWriteReleaseBody(t *testing.T) {
	req := &releaseRequest{
		Application:    "checkout",
		Version:        12,
		Team:           "payments",
		SourceCommitID: "0123456789abcdef0123456789abcdef01234567",
		SourceAuthor:   "Alice <alice@example.com>",
		SourceMessage:  "Fix the button",
		DisplayVersion: "1.12",
		Manifests: []envManifest{
			{Env: "development", Content: []byte("kind: ConfigMap\n")},
			{Env: "production", Content: []byte("kind: Secret\n")},
		},
	}
	var buf bytes.Buffer
	contentType, err := writeReleaseBody(&buf, "BOUNDARY", req)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "multipart/form-data; boundary=BOUNDARY" {
		t.Errorf("content type = %q", contentType)
	}
	want := strings.Join([]string{
		"--BOUNDARY",
		`Content-Disposition: form-data; name="application"`,
		"",
		"checkout",
		"--BOUNDARY",
		`Content-Disposition: form-data; name="version"`,
		"",
		"12",
		"--BOUNDARY",
		`Content-Disposition: form-data; name="team"`,
		"",
		"payments",
		"--BOUNDARY",
		`Content-Disposition: form-data; name="source_commit_id"`,
		"",
		"0123456789abcdef0123456789abcdef01234567",
		"--BOUNDARY",
		`Content-Disposition: form-data; name="source_author"`,
		"",
		"Alice <alice@example.com>",
		"--BOUNDARY",
		`Content-Disposition: form-data; name="source_message"`,
		"",
		"Fix the button",
		"--BOUNDARY",
		`Content-Disposition: form-data; name="display_version"`,
		"",
		"1.12",
		"--BOUNDARY",
		`Content-Disposition: form-data; name="manifests[development]"; filename="development.yaml"`,
		"Content-Type: application/yaml",
		"",
		"kind: ConfigMap\n",
		"--BOUNDARY",
		`Content-Disposition: form-data; name="manifests[production]"; filename="production.yaml"`,
		"Content-Type: application/yaml",
		"",
		"kind: Secret\n",
		"--BOUNDARY--",
		"",
	}, "\r\n")
	if got := buf.String(); got != want {
		t.Errorf("body differs\n--- got:\n%q\n--- want:\n%q", got, want)
	}

	// What a server's multipart reader sees: every field once.
	fields := readForm(t, contentType, buf.Bytes())
	wantFields := map[string]string{
		"application": "checkout", "version": "12", "team": "payments",
		"source_commit_id": "0123456789abcdef0123456789abcdef01234567", "source_author": "Alice <alice@example.com>",
		"source_message": "Fix the button", "display_version": "1.12",
		"manifests[development]": "kind: ConfigMap\n", "manifests[production]": "kind: Secret\n",
	}
	if !reflect.DeepEqual(fields, wantFields) {
		t.Errorf("parsed fields = %v, want %v", fields, wantFields)
	}
}

func TestWriteReleaseBodyLeavesOutEmptyFields(t *testing.T) {
	var buf bytes.Buffer
	ct, err := writeReleaseBody(&buf, releaseBoundary, &releaseRequest{
		Application: "cart",
		Manifests:   []envManifest{{Env: "dev", Content: []byte("a: 1\n")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := readForm(t, ct, buf.Bytes())
	want := map[string]string{"application": "cart", "manifests[dev]": "a: 1\n"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %v, want %v (no version: the server picks)", got, want)
	}
}

// readForm parses a multipart body into its fields.
func readForm(t *testing.T, contentType string, body []byte) map[string]string {
	t.Helper()
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	fields := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return fields
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := fields[p.FormName()]; dup {
			t.Errorf("field %s sent twice", p.FormName())
		}
		fields[p.FormName()] = string(data)
	}
}

func TestManifests(t *testing.T) {
	envs := []string{"development", "production"}
	for _, size := range []int{512, 1000, 10240, 10241, 100000} {
		g := newManifestGen(size, envs, 1)
		for _, env := range envs {
			m := g.appendManifest(nil, "app-00042", 7, env)
			if len(m) != size {
				t.Errorf("size %d, %s: manifest has %d bytes", size, env, len(m))
			}
			var doc map[string]any
			if err := yaml.Unmarshal(m, &doc); err != nil {
				t.Fatalf("size %d, %s: not YAML: %v\n%s", size, env, err, m)
			}
			data := doc["data"].(map[string]any)
			if data["environment"] != env || data["image"] != "registry.example.com/app-00042:7" {
				t.Errorf("size %d: data = environment %v, image %v", size, data["environment"], data["image"])
			}
		}
	}
	g := newManifestGen(2048, envs, 1)
	a := g.appendManifest(nil, "app-00001", 1, "development")
	if b := newManifestGen(2048, envs, 1).appendManifest(nil, "app-00001", 1, "development"); !bytes.Equal(a, b) {
		t.Error("the same seed gave different manifests")
	}
	if b := g.appendManifest(nil, "app-00001", 2, "development"); bytes.Equal(a, b) {
		t.Error("two versions have the same manifest")
	}
	if b := g.appendManifest(nil, "app-00001", 1, "production"); bytes.Equal(a, b) {
		t.Error("two environments have the same manifest")
	}
}

func TestTrainPath(t *testing.T) {
	tests := []struct{ target, team, want string }{
		{"production", "", "/api/environments/production/releasetrain"},
		{"production", "pay ments", "/api/environments/production/releasetrain?team=pay+ments"},
		{"group:prod", "payments", "/api/environment-groups/prod/releasetrain?team=payments"},
	}
	for _, tt := range tests {
		if got := trainPath(tt.target, tt.team); got != tt.want {
			t.Errorf("trainPath(%q, %q) = %q, want %q", tt.target, tt.team, got, tt.want)
		}
	}
}

func TestEnvironmentConfigs(t *testing.T) {
	envs := []string{"a", "b", "c"}
	tests := []struct {
		setup string
		want  string
	}{
		{SetupChain, `[{"upstream":{"latest":true}},{"upstream":{"environment":"a"}},{"upstream":{"environment":"b"}}]`},
		{SetupLatest, `[{"upstream":{"latest":true}},{"upstream":{"latest":true}},{"upstream":{"latest":true}}]`},
		{SetupGroup, `[{"upstream":{"latest":true}},{"environmentGroup":"g","upstream":{"environment":"a"}},{"environmentGroup":"g","upstream":{"environment":"a"}}]`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(environmentConfigs(tt.setup, "g", envs))
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: configs = %s, %v\nwant %s", tt.setup, got, err, tt.want)
		}
	}
}
