package railyard

import (
	"strings"
	"testing"

	"github.com/railyard-cd/railyard/internal/yamlcheck"
)

// sharedManifest is a valid manifest of two documents that the fast path
// accepts.
const sharedManifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: checkout-config
data:
  LOG_LEVEL: info
---
apiVersion: v1
kind: Service
metadata:
  name: checkout
spec:
  ports:
    - name: http
      port: 80
`

// TestReleaseValidateSharedManifests checks that the first environment
// (in sorted order) with a bad manifest is named, and that a manifest
// shared by environments is decoded once.
func TestReleaseValidateSharedManifests(t *testing.T) {
	bad := "a: b: c\n"
	r := Release{Application: "checkout", Version: 1, Manifests: map[string]string{
		"production": bad, "development": bad, "staging": "a: 1\n",
	}}
	err := r.Validate(0)
	want := "manifests[development] is not valid YAML: yaml: mapping values are not allowed in this context"
	if ErrorCode(err) != EINVALID || ErrorMessage(err) != want || AsError(err).Field != "manifests[development]" {
		t.Fatalf("got %v (field %q), want %s", err, AsError(err).Field, want)
	}
	r.Manifests = map[string]string{"development": "a: 1\n", "production": bad, "staging": "a: 1\n"}
	err = r.Validate(0)
	want = "manifests[production] is not valid YAML: yaml: mapping values are not allowed in this context"
	if ErrorMessage(err) != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	r.Manifests = map[string]string{"development": sharedManifest, "production": sharedManifest}
	if err := r.Validate(0); err != nil {
		t.Fatalf("shared valid manifest: %v", err)
	}

	// A manifest the fast path leaves to yaml.v3 is decoded once, however
	// many environments share it: yaml.v3's allocations show it.
	slow := "a: &x 1\nb: *x\n"
	if yamlcheck.WellFormed(slow) {
		t.Fatal("the fast path accepts anchors now: choose another manifest for this test")
	}
	decode := testing.AllocsPerRun(20, func() { _ = ValidateManifestYAML(slow) })
	allocs := func(envs ...string) float64 {
		r.Manifests = map[string]string{}
		for _, env := range envs {
			r.Manifests[env] = slow
		}
		return testing.AllocsPerRun(20, func() {
			if err := r.Validate(0); err != nil {
				t.Fatal(err)
			}
		})
	}
	one, three := allocs("development"), allocs("development", "staging", "production")
	if three-one >= decode {
		t.Errorf("three environments sharing a manifest cost %v allocations, one %v: decoded more than once (one decode: %v)", three, one, decode)
	}
}

// TestDuplicateKeyQuotedAsMessagesQuote checks that a repeated key is
// quoted in the message as far as messages quote input: a key may be
// megabytes long.
func TestDuplicateKeyQuotedAsMessagesQuote(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("k", 100)
	err := ValidateManifestYAML(key + ": 1\n" + key + ": 2\n")
	want := `yaml: line 2: mapping key "` + strings.Repeat("k", 60) + `…" already defined at line 1`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
