package argocd_test

import (
	"bytes"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/railyard-cd/railyard/argocd"
	"github.com/railyard-cd/railyard/internal/golden"
)

// TestFilesGolden compares every case with its directory under
// testdata/golden; `go test ./argocd -run Golden -update` rewrites them.
func TestFilesGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := argocd.Files(tc.env, tc.apps, testOptions)
			if err != nil {
				t.Fatalf("Files: %v", err)
			}
			golden.EqualDir(t, filepath.Join("testdata", "golden", tc.name), got)
		})
	}
}

// TestFilesDeterministic renders the same input twice, with the
// applications in another order, and wants the same bytes: the exporter
// compares output to decide whether a commit changes anything.
func TestFilesDeterministic(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases() {
		first, err := argocd.Files(tc.env, tc.apps, testOptions)
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(tc.apps)
		for range 5 {
			again, err := argocd.Files(tc.env, tc.apps, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.EqualFunc(first, again, bytes.Equal) {
				t.Fatalf("%s: two renderings of the same input differ", tc.name)
			}
		}
	}
}
