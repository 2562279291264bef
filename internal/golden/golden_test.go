package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing, so
// that the helper's own failures can be checked. Fatalf stops the calling
// goroutine as testing.T's does.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
	panic(r)
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// run calls fn with a recorder and returns it once fn returned or failed
// fatally.
func run(t *testing.T, fn func(tb testing.TB)) *recorder {
	t.Helper()
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		fn(r)
	}()
	return r
}

// setUpdate sets -update for one test.
func setUpdate(t *testing.T, v bool) {
	old := *update
	*update = v
	t.Cleanup(func() { *update = old })
}

func TestEqual(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "out.golden")
	if r := run(t, func(tb testing.TB) { Equal(tb, path, "a\n") }); !r.fatal || len(r.errors) != 1 {
		t.Fatalf("a missing golden file: errors %q, fatal %v; want one fatal error", r.errors, r.fatal)
	}

	setUpdate(t, true)
	if r := run(t, func(tb testing.TB) { Equal(tb, path, "one\ntwo\nthree\n") }); len(r.errors) != 0 {
		t.Fatalf("with -update: %q", r.errors)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != "one\ntwo\nthree\n" {
		t.Fatalf("written golden file = %q, %v", data, err)
	}

	setUpdate(t, false)
	if r := run(t, func(tb testing.TB) { Equal(tb, path, "one\ntwo\nthree\n") }); len(r.errors) != 0 {
		t.Errorf("equal output: %q", r.errors)
	}
	r := run(t, func(tb testing.TB) { Equal(tb, path, "one\ntwo \nthree\n") })
	want := "output differs from " + path + " (if the new output is right, run the test with -update): line 2\n" +
		"  got:  \"two \"\n  want: \"two\"\n" +
		"--- got:\n    1 | one\n>   2 | two \n    3 | three\n    4 | \n" +
		"--- want:\n    1 | one\n>   2 | two\n    3 | three\n    4 | \n"
	if len(r.errors) != 1 || r.errors[0] != want || r.fatal {
		t.Errorf("different output: errors %q, fatal %v; want one error:\n%s", r.errors, r.fatal, want)
	}
}

func TestEqualDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "golden")
	files := map[string][]byte{"a.yaml": []byte("a: 1\n"), "sub/b.yaml": []byte("b: 2\n")}

	setUpdate(t, true)
	// A file from an earlier -update that the code no longer produces.
	write(t, filepath.Join(dir, "stale.yaml"), []byte("old\n"))
	if r := run(t, func(tb testing.TB) { EqualDir(tb, dir, files) }); len(r.errors) != 0 {
		t.Fatalf("with -update: %q", r.errors)
	}
	if _, err := os.Stat(filepath.Join(dir, "stale.yaml")); !os.IsNotExist(err) {
		t.Errorf("-update left stale.yaml behind: %v", err)
	}

	setUpdate(t, false)
	if r := run(t, func(tb testing.TB) { EqualDir(tb, dir, files) }); len(r.errors) != 0 {
		t.Errorf("equal files: %q", r.errors)
	}
	changed := map[string][]byte{"a.yaml": []byte("a: 1\n"), "sub/b.yaml": []byte("b: 3\n")}
	r := run(t, func(tb testing.TB) { EqualDir(tb, dir, changed) })
	want := "sub/b.yaml differs from " + dir + " (if the new output is right, run the test with -update): line 1\n" +
		"  got:  \"b: 3\"\n  want: \"b: 2\"\n" +
		"--- got:\n>   1 | b: 3\n    2 | \n--- want:\n>   1 | b: 2\n    2 | \n"
	if len(r.errors) != 1 || r.errors[0] != want {
		t.Errorf("a changed file: errors %q; want one error:\n%s", r.errors, want)
	}
	r = run(t, func(tb testing.TB) { EqualDir(tb, dir, map[string][]byte{"a.yaml": []byte("a: 1\n")}) })
	want = "files differ from " + dir + " (if the new output is right, run the test with -update)\ngot:  [a.yaml]\nwant: [a.yaml sub/b.yaml]"
	if len(r.errors) != 1 || r.errors[0] != want || !r.fatal {
		t.Errorf("a missing file: errors %q, fatal %v; want one fatal error:\n%s", r.errors, r.fatal, want)
	}
}

func TestFirstDifference(t *testing.T) {
	tests := []struct{ got, want, diff string }{
		{"a\nb\n", "a\nb\n", "no line differs"},
		{"a\nb", "a\nb\n", "line 3\n  got:  (no such line)\n  want: \"\"\n--- got:\n    1 | a\n    2 | b\n--- want:\n    1 | a\n    2 | b\n>   3 | \n"},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n", "line 5\n  got:  \"5\"\n  want: \"five\"\n" +
			"--- got:\n    2 | 2\n    3 | 3\n    4 | 4\n>   5 | 5\n    6 | 6\n    7 | 7\n    8 | 8\n" +
			"--- want:\n    2 | 2\n    3 | 3\n    4 | 4\n>   5 | five\n    6 | 6\n    7 | 7\n    8 | 8\n"},
	}
	for _, tt := range tests {
		if got := FirstDifference(tt.got, tt.want); got != tt.diff {
			t.Errorf("FirstDifference(%q, %q) =\n%s\nwant:\n%s", tt.got, tt.want, got, tt.diff)
		}
	}
}
