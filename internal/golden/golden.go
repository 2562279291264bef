// Package golden compares what a test produced with golden files under the
// test's testdata directory, and rewrites them when the test runs with
// -update:
//
//	go test ./cmd/railyard -run TestStatus -update
//
// It is the one golden-file helper of the module: every package's tests
// import it (it imports nothing of Railyard, so no cycle can form), and
// every golden file is compared, reported and rewritten the same way.
package golden

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
)

// update is the -update flag of every test binary that imports golden. A
// flag is package-level state by nature: the testing package parses the
// command line before any test runs, and nothing writes it afterwards.
var update = flag.Bool("update", false, "rewrite the golden files with the output the tests get")

// Update reports whether the tests run with -update, for tests that keep
// their expected output somewhere of their own (the README's walkthrough).
func Update() bool { return *update }

// hint is what every failure says about rewriting the file.
const hint = "if the new output is right, run the test with -update"

// Equal compares got with the golden file at path (relative to the test's
// package directory, e.g. testdata/status.golden). With -update it writes
// got to path instead, creating the directories it needs.
func Equal(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		write(t, path, []byte(got))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run the test with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (%s): %s", path, hint, FirstDifference(got, string(want)))
	}
}

// EqualDir compares files (slash-separated path → content) with the golden
// directory dir: the same file names, the same bytes. With -update it
// replaces dir with files, so that a file no longer produced does not
// linger.
func EqualDir(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			write(t, filepath.Join(dir, filepath.FromSlash(name)), content)
		}
		return
	}
	want, err := readDir(dir)
	if err != nil {
		t.Fatalf("golden directory: %v (run the test with -update to create it)", err)
	}
	if g, w := slices.Sorted(maps.Keys(files)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Fatalf("files differ from %s (%s)\ngot:  %v\nwant: %v", dir, hint, g, w)
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if got := files[name]; !bytes.Equal(got, want[name]) {
			t.Errorf("%s differs from %s (%s): %s", name, dir, hint, FirstDifference(string(got), string(want[name])))
		}
	}
}

// write writes content to path, creating its directory.
func write(t testing.TB, path string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readDir reads every file under dir, keyed by its slash-separated path
// relative to dir.
func readDir(dir string) (map[string][]byte, error) {
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
	return files, err
}

// contextLines is how many lines FirstDifference shows around the first
// difference, in got and in want.
const contextLines = 3

// FirstDifference names the first line where got and want differ, quotes
// both versions of it (so that a whitespace difference shows), and shows
// the lines around it in each.
func FirstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		if i >= len(g) || i >= len(w) || g[i] != w[i] {
			return fmt.Sprintf("line %d\n  got:  %s\n  want: %s\n--- got:\n%s--- want:\n%s",
				i+1, lineAt(g, i), lineAt(w, i), around(g, i), around(w, i))
		}
	}
	return "no line differs"
}

// lineAt quotes line i of lines, or says that there is none.
func lineAt(lines []string, i int) string {
	if i >= len(lines) {
		return "(no such line)"
	}
	return fmt.Sprintf("%q", lines[i])
}

// around returns the lines of lines near line i, numbered from 1, with
// line i marked.
func around(lines []string, i int) string {
	var b strings.Builder
	for j := max(0, i-contextLines); j < min(len(lines), i+contextLines+1); j++ {
		mark := " "
		if j == i {
			mark = ">"
		}
		fmt.Fprintf(&b, "%s%4d | %s\n", mark, j+1, lines[j])
	}
	return b.String()
}
