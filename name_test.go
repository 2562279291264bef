package railyard_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
)

func TestNames(t *testing.T) {
	valid := []string{"a", "checkout", "a-b", "0", "9lives", strings.Repeat("a", 23)}
	invalid := []string{"", "-a", "a-", "A", "a_b", "a.b", "..", ".", "a/b", "/", "ä", "a b", "a\x00", strings.Repeat("a", 24)}
	for _, name := range valid {
		if err := railyard.ValidateEnvironmentName(name); err != nil {
			t.Errorf("environment %q: got %v, want valid", name, err)
		}
	}
	for _, name := range invalid {
		err := railyard.ValidateEnvironmentName(name)
		if railyard.ErrorCode(err) != railyard.EINVALID || railyard.AsError(err).Field != "environment" {
			t.Errorf("environment %q: got %v, want EINVALID on field environment", name, err)
		}
	}
	if err := railyard.ValidateApplicationName(strings.Repeat("a", 39)); err != nil {
		t.Errorf("39-character application name: %v", err)
	}
	err := railyard.ValidateApplicationName(strings.Repeat("a", 200))
	assertEqual(t, "message", railyard.ErrorMessage(err), `application "`+strings.Repeat("a", 60)+`…" is 200 characters long; at most 39 are allowed`)
	err = railyard.ValidateApplicationName("Checkout")
	assertEqual(t, "message", railyard.ErrorMessage(err), `application "Checkout" is not a valid name: use lowercase letters a-z, digits and '-', starting and ending with a letter or digit`)

	for _, id := range []string{"a", "Freeze.2026-11_1", strings.Repeat("x", 100)} {
		if err := railyard.ValidateLockID(id); err != nil {
			t.Errorf("lock id %q: %v", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "../x", "a/b", "-a", ".hidden", "a b", "ä", strings.Repeat("x", 101)} {
		if railyard.ErrorCode(railyard.ValidateLockID(id)) != railyard.EINVALID {
			t.Errorf("lock id %q: want EINVALID", id)
		}
	}
}

// safeSegment is what every valid name must be: one local path segment
// that cleans to itself, so joining it under a directory cannot escape.
func safeSegment(t *testing.T, kind, s string) {
	t.Helper()
	if !filepath.IsLocal(s) || filepath.Clean(s) != s || strings.ContainsAny(s, `/\`) || s == "." || s == ".." {
		t.Fatalf("%s %q is accepted but is not a safe path segment", kind, s)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		t.Fatalf("%s %q is accepted but holds a non-printable or non-ASCII character", kind, s)
	}
}

func FuzzValidateNames(f *testing.F) {
	for _, s := range []string{"checkout", "..", "a/b", "A", "ä", "a-", "x.y", "0", strings.Repeat("a", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if railyard.ValidateApplicationName(s) == nil {
			safeSegment(t, "application", s)
			if len(s) > railyard.MaxApplicationNameLength {
				t.Fatalf("application %q longer than %d accepted", s, railyard.MaxApplicationNameLength)
			}
		}
		if railyard.ValidateEnvironmentName(s) == nil {
			safeSegment(t, "environment", s)
			if len(s) > railyard.MaxEnvironmentNameLength {
				t.Fatalf("environment %q longer than %d accepted", s, railyard.MaxEnvironmentNameLength)
			}
		}
		if railyard.ValidateLockID(s) == nil {
			safeSegment(t, "lock id", s)
		}
		if err := railyard.ValidateApplicationName(s); err != nil && railyard.AsError(err).Message == "" {
			t.Fatalf("%q: error without a message", s)
		}
	})
}
