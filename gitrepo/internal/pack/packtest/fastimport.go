package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"time"

	"github.com/railyard-cd/railyard"
)

// The fast-import writer was the exporter's first treeWriter. It stays as
// the tests' oracle: for the same calls, the pack writer must write the
// same commits, and fast-import is Git's own code for writing them.

// fastImport streams commits into one `git fast-import` process. It never
// checks out a worktree: fast-import loads only the trees along the paths
// a commit touches and writes new objects straight into a pack. Not safe
// for concurrent use.
type fastImport struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	w      *bufio.Writer
	stderr bytes.Buffer
	ref    string
	marks  int
	err    error // the first write error; later writes are skipped
}

// openFastImportWriter is openFastImport as a treeWriter.
func openFastImportWriter(ctx context.Context, g *gitCmd, ref, base string) (treeWriter, error) {
	return openFastImport(ctx, g, ref, base)
}

// openFastImport starts fast-import and resets ref to base ("" for a
// first commit without parent).
func openFastImport(ctx context.Context, g *gitCmd, ref, base string) (*fastImport, error) {
	// --force: after a rejected push the branch is rebuilt on another base,
	// which is not a fast-forward of what the ref held before.
	cmd := g.command(ctx, "fast-import", "--quiet", "--force", "--done", "--date-format=raw")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	f := &fastImport{cmd: cmd, stdin: stdin, w: bufio.NewWriterSize(stdin, 256<<10), ref: ref}
	cmd.Stderr = &f.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start git fast-import: %w", err)
	}
	f.printf("reset %s\n", ref)
	if base != "" {
		f.printf("from %s\n", base)
	}
	f.printf("\n")
	return f, nil
}

func (f *fastImport) printf(format string, args ...any) {
	if f.err == nil {
		_, f.err = fmt.Fprintf(f.w, format, args...)
	}
}

func (f *fastImport) data(b []byte) {
	f.printf("data %d\n", len(b))
	if f.err == nil {
		_, f.err = f.w.Write(b)
	}
	f.printf("\n")
}

// commitHeader starts a commit on the ref.
func (f *fastImport) commitHeader(author railyard.Actor, at time.Time, message string) {
	f.printf("commit %s\n", f.ref)
	ts := at.Unix()
	f.printf("author %s <%s> %d +0000\n", author.Name, author.Email, ts)
	f.printf("committer %s <%s> %d +0000\n", committer.Name, committer.Email, ts)
	f.data([]byte(message))
}

// blob writes a blob and returns its mark (":N"), so later commits of the
// same stream can refer to it before it is readable from the repository.
func (f *fastImport) blob(content []byte) string {
	f.marks++
	f.printf("blob\nmark :%d\n", f.marks)
	f.data(content)
	return ":" + strconv.Itoa(f.marks)
}

// put writes content at path.
func (f *fastImport) put(path, mode string, content []byte) {
	checkPath(path)
	f.printf("M %s inline %s\n", mode, path)
	f.data(content)
}

// putRef points path at an existing blob (a SHA-1 or a mark).
func (f *fastImport) putRef(path, mode, ref string) {
	checkPath(path)
	f.printf("M %s %s %s\n", mode, ref, path)
}

// del deletes a file or a whole directory.
func (f *fastImport) del(path string) {
	checkPath(path)
	f.printf("D %s\n", path)
}

// failed returns the first write error.
func (f *fastImport) failed() error { return f.err }

// endCommit ends the commit's file commands.
func (f *fastImport) endCommit() {
	f.printf("\n")
}

// finish ends the stream, waits for fast-import to write the pack and the
// ref, and reports any failure.
func (f *fastImport) finish() error {
	f.printf("done\n")
	if f.err == nil {
		f.err = f.w.Flush()
	}
	f.stdin.Close()
	waitErr := f.cmd.Wait()
	if f.err != nil || waitErr != nil {
		return fmt.Errorf("git fast-import: %v %v: %s", f.err, waitErr, Redact(f.stderr.String()))
	}
	return nil
}

// abort kills fast-import without updating the ref.
func (f *fastImport) abort() {
	f.stdin.Close()
	if f.cmd.Process != nil {
		f.cmd.Process.Kill()
	}
	f.cmd.Wait()
}
