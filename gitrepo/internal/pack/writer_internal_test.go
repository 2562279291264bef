package pack

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// TestSafePath checks safePath against the regular expression it
// implements.
func TestSafePath(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$`)
	paths := []string{"", "a", "a/b", "a//b", "/a", "a/", ".a", "a/.b", "a/..", "..", "-a", "a/-b", "a.b-c_d/E9", "_x", "a b", "a\\b", "a/\x00", "é"}
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "aZ09._-/ \\"
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(8))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		paths = append(paths, string(b))
	}
	for _, p := range paths {
		if got, want := safePath(p), re.MatchString(p); got != want {
			t.Errorf("safePath(%q): got %v, want %v", p, got, want)
		}
	}
}
