// Package packtest is the pack writer's oracle, for tests only: a writer
// with pack.Writer's methods that streams the same calls to `git
// fast-import`, Git's own code for writing commits without a worktree.
// For the same calls, both must write the same commits, byte for byte.
// Only tests import it (the exporter's and the pack writer's); it was the
// exporter's first writer.
package packtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"os/exec"
	"strconv"

	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
	"github.com/railyard-cd/railyard/gitrepo/internal/pack"
)

// FastImport streams commits into one `git fast-import` process. Not safe
// for concurrent use.
//
// fast-import takes a blob only between commits, where pack.Writer takes
// one at any time; so Blob only hashes the content and keeps it, and
// PutBlob of a blob kept that way sends its content inline. The trees are
// the same: a tree holds the blob's id, which is the hash of its content.
type FastImport struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	w      *bufio.Writer
	stderr bytes.Buffer
	ref    string
	blobs  map[pack.ID][]byte // the content of the blobs Blob returned
	err    error              // the first write error; later writes are skipped
}

// Open starts fast-import in git's repository and resets ref to base (the
// zero ID for a first commit without parent), as pack.Open does.
func Open(ctx context.Context, git *gitcli.Git, ref string, base pack.ID) (*FastImport, error) {
	// --force: after a rejected push the branch is rebuilt on another base,
	// which is not a fast-forward of what the ref held before.
	cmd := git.Command(ctx, "fast-import", "--quiet", "--force", "--done", "--date-format=raw")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	f := &FastImport{cmd: cmd, stdin: stdin, w: bufio.NewWriterSize(stdin, 256<<10), ref: ref, blobs: map[pack.ID][]byte{}}
	cmd.Stderr = &f.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start git fast-import: %w", err)
	}
	f.printf("reset %s\n", ref)
	if !base.IsZero() {
		f.printf("from %s\n", base)
	}
	f.printf("\n")
	return f, nil
}

func (f *FastImport) printf(format string, args ...any) {
	if f.err == nil {
		_, f.err = fmt.Fprintf(f.w, format, args...)
	}
}

func (f *FastImport) data(b []byte) {
	f.printf("data %d\n", len(b))
	if f.err == nil {
		_, f.err = f.w.Write(b)
	}
	f.printf("\n")
}

// BeginCommit starts a commit on the ref.
func (f *FastImport) BeginCommit(c pack.Commit) {
	f.printf("commit %s\n", f.ref)
	f.printf("author %s <%s> %d +0000\n", c.Author.Name, c.Author.Email, c.Author.When.Unix())
	f.printf("committer %s <%s> %d +0000\n", c.Committer.Name, c.Committer.Email, c.Committer.When.Unix())
	f.data([]byte(c.Message))
}

// Blob returns the id of a blob of content, which PutBlob sends inline.
func (f *FastImport) Blob(content []byte) pack.ID {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(content)) + "\x00"))
	h.Write(content)
	var id pack.ID
	h.Sum(id[:0])
	f.blobs[id] = content
	return id
}

// Put writes content at path.
func (f *FastImport) Put(path string, mode pack.Mode, content []byte) {
	f.printf("M %s inline %s\n", mode, path)
	f.data(content)
}

// PutBlob points path at a blob Blob returned, or at one of the
// repository.
func (f *FastImport) PutBlob(path string, mode pack.Mode, blob pack.ID) {
	if content, ok := f.blobs[blob]; ok {
		f.Put(path, mode, content)
		return
	}
	f.printf("M %s %s %s\n", mode, blob, path)
}

// Delete deletes a file or a whole directory.
func (f *FastImport) Delete(path string) {
	f.printf("D %s\n", path)
}

// Err returns the first write error.
func (f *FastImport) Err() error { return f.err }

// EndCommit ends the commit's file commands.
func (f *FastImport) EndCommit() {
	f.printf("\n")
}

// Finish ends the stream, waits for fast-import to write the pack and the
// ref, and reports any failure.
func (f *FastImport) Finish(context.Context) error {
	f.printf("done\n")
	if f.err == nil {
		f.err = f.w.Flush()
	}
	f.stdin.Close()
	waitErr := f.cmd.Wait()
	if f.err != nil || waitErr != nil {
		return fmt.Errorf("git fast-import: %v %v: %s", f.err, waitErr, gitcli.Redact(f.stderr.String()))
	}
	return nil
}

// Abort kills fast-import without updating the ref.
func (f *FastImport) Abort() {
	f.stdin.Close()
	if f.cmd.Process != nil {
		f.cmd.Process.Kill()
	}
	f.cmd.Wait()
}
