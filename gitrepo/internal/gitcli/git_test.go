package gitcli_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

// newRepo returns a new bare repository.
func newRepo(t *testing.T) *gitcli.Git {
	t.Helper()
	dir := t.TempDir()
	if _, err := (&gitcli.Git{Dir: dir}).Run(context.Background(), "init", "--quiet", "--bare"); err != nil {
		t.Fatal(err)
	}
	return &gitcli.Git{Dir: dir}
}

// TestErrorCarriesStderr runs a git command that fails: its error says
// what git said, without the credentials in its arguments or output.
func TestErrorCarriesStderr(t *testing.T) {
	t.Parallel()
	g := newRepo(t)
	_, err := g.Run(context.Background(), "cat-file", "-p", "TOKEN@example.com")
	var ge *gitcli.Error
	if !errors.As(err, &ge) {
		t.Fatalf("got %v (%T), want a *gitcli.Error", err, err)
	}
	if want := "fatal: Not a valid object name ***@example.com"; ge.Stderr != want || err.Error() != "git cat-file: "+want {
		t.Errorf("got %q (stderr %q), want git cat-file: %s", err, ge.Stderr, want)
	}
	if got := strings.Join(ge.Args, " "); got != "cat-file -p ***@example.com" {
		t.Errorf("args: got %q", got)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 128 {
		t.Errorf("got %v, want git's exit status 128 underneath", err)
	}
}

// TestCatFileReads reads a blob, a tree, and objects that do not exist.
func TestCatFileReads(t *testing.T) {
	t.Parallel()
	g := newRepo(t)
	ctx := context.Background()
	blob, err := g.RunInput(ctx, []byte("hello\n"), "hash-object", "-w", "--stdin")
	if err != nil {
		t.Fatal(err)
	}
	blob = strings.TrimSpace(blob)
	tree, err := g.RunInput(ctx, []byte("100644 blob "+blob+"\thello.txt\n"), "mktree")
	if err != nil {
		t.Fatal(err)
	}
	tree = strings.TrimSpace(tree)
	cat, err := gitcli.OpenCatFile(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	if obj, err := cat.Read(tree + ":hello.txt"); err != nil || obj.ID != blob || obj.Kind != "blob" || string(obj.Data) != "hello\n" {
		t.Errorf("Read(<tree>:hello.txt): got %+v, %v", obj, err)
	}
	if obj, err := cat.Read(tree); err != nil || obj.Kind != "tree" || len(obj.Data) != len("100644 hello.txt\x00")+20 {
		t.Errorf("Read(<tree>): got %+v, %v", obj, err)
	}
	if obj, err := cat.Read(tree + ":absent"); err != nil || obj != nil {
		t.Errorf("Read(<tree>:absent): got %+v, %v, want nil", obj, err)
	}
	if data, ok, err := cat.Blob(tree + ":absent"); err != nil || ok || data != nil {
		t.Errorf("Blob(<tree>:absent): got %q, %v, %v", data, ok, err)
	}
	if _, _, err := cat.Blob(tree); err == nil || err.Error() != "cat-file: "+tree+" is a tree, not a blob" {
		t.Errorf("Blob(<tree>): got %v", err)
	}
	if _, err := cat.Read("a\nb"); err == nil || err.Error() != `cat-file: invalid object name "a\nb"` {
		t.Errorf("Read of a name with a newline: got %v", err)
	}
}

// TestCatFileTimesOut makes cat-file hang on a loose object that is a
// named pipe, which nobody writes: the request fails at the deadline.
func TestCatFileTimesOut(t *testing.T) {
	t.Parallel()
	g := newRepo(t)
	sha, err := g.RunInput(context.Background(), []byte("hello\n"), "hash-object", "-w", "--stdin")
	if err != nil {
		t.Fatal(err)
	}
	sha = strings.TrimSpace(sha)
	obj := filepath.Join(g.Dir, "objects", sha[:2], sha[2:])
	if err := os.Remove(obj); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(obj, 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := gitcli.OpenCatFile(context.Background(), g.WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cat.Read(sha)
	var te *gitcli.TimeoutError
	if !errors.As(err, &te) || err.Error() != "git cat-file timed out after 300ms" {
		t.Errorf("got %v, want git cat-file timed out after 300ms", err)
	}
	cat.Close()
	// And a command run to completion.
	_, err = g.WithTimeout(300*time.Millisecond).Run(context.Background(), "cat-file", "-p", sha)
	if !errors.As(err, &te) || err.Error() != "git cat-file timed out after 300ms" {
		t.Errorf("got %v, want git cat-file timed out after 300ms", err)
	}
}

// TestNiceReachesChildren runs a command 5 steps of niceness below the
// test's own that starts a child (a shell alias): the child runs at the
// lower priority, and without Nice at the test's own.
func TestNiceReachesChildren(t *testing.T) {
	t.Parallel()
	g := newRepo(t)
	niceness := func(g *gitcli.Git) int {
		out, err := g.Run(context.Background(), "-c", "alias.niceness=!nice", "niceness")
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(out))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	own := niceness(g)
	if got, want := niceness(g.WithNice(5)), min(own+5, 19); got != want {
		t.Errorf("niceness with Nice 5: %d, want %d (%d without)", got, want, own)
	}
}
