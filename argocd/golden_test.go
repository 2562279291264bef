package argocd_test

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard/argocd"
)

// update rewrites the golden files: go test ./argocd/ -run Golden -update
var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

func TestFilesGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := argocd.Files(tc.env, tc.apps, testOptions)
			if err != nil {
				t.Fatalf("Files: %v", err)
			}
			dir := filepath.Join("testdata", "golden", tc.name)
			if *update {
				writeGolden(t, dir, got)
			}
			want := readGolden(t, dir)
			if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
				t.Fatalf("files differ (run with -update if the change is intended)\ngot:  %v\nwant: %v", g, w)
			}
			for p, w := range want {
				if g := got[p]; !bytes.Equal(g, w) {
					t.Errorf("%s differs from %s (run with -update if the change is intended): %s", p, dir, firstDifference(g, w))
				}
			}
		})
	}
}

// TestFilesDeterministic renders the same input twice, with the
// applications in another order, and wants the same bytes: the exporter
// compares output to decide whether a commit changes anything.
func TestFilesDeterministic(t *testing.T) {
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

func writeGolden(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	// Start from an empty directory so a file the generator no longer
	// writes does not linger as a golden file.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for p, content := range files {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readGolden(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, name)
		files[filepath.ToSlash(rel)] = content
		return err
	})
	if err != nil {
		t.Fatalf("reading golden files (run with -update to create them): %v", err)
	}
	return files
}

// firstDifference names the first line where got and want differ.
func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			return fmt.Sprintf("line %d\n  got:  %q\n  want: %q", i+1, gl, wl)
		}
	}
	return "no line differs"
}
