package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// catFile reads objects through one long-running `git cat-file --batch`,
// so a lookup costs a pipe round trip instead of a process start. Not safe
// for concurrent use. A request not answered within the gitCmd's timeout
// kills cat-file, and the request fails with a *timeoutError.
type catFile struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	// timeout bounds each request; the timer kills cat-file when it
	// fires, and timedOut records that it did.
	timeout  time.Duration
	timer    *time.Timer
	timedOut atomic.Bool
}

// object is one object read by catFile.
type object struct {
	sha  string
	kind string // "blob", "tree", "commit"
	data []byte
}

// openCatFile starts cat-file in the repository.
func openCatFile(ctx context.Context, g *gitCmd) (*catFile, error) {
	cmd := g.command(ctx, "cat-file", "--batch")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start git cat-file: %w", err)
	}
	c := &catFile{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(stdout, 64<<10), timeout: g.timeout}
	if c.timeout > 0 {
		c.timer = time.AfterFunc(c.timeout, func() {
			c.timedOut.Store(true)
			_ = killGroup(cmd.Process)
		})
		c.timer.Stop()
	}
	return c, nil
}

// arm starts the deadline of one request; the returned function stops it.
func (c *catFile) arm() func() bool {
	if c.timer == nil {
		return func() bool { return false }
	}
	c.timer.Reset(c.timeout)
	return c.timer.Stop
}

// failed turns an I/O error of a request into a *timeoutError if cat-file
// was killed at its deadline.
func (c *catFile) failed(err error) error {
	if c.timedOut.Load() {
		return &timeoutError{cmd: "git cat-file", after: c.timeout}
	}
	return fmt.Errorf("cat-file: %w", err)
}

// read returns the object named by rev (e.g. "<commit>:<path>"), or nil if
// it does not exist.
func (c *catFile) read(rev string) (*object, error) {
	if strings.ContainsAny(rev, "\n") {
		return nil, fmt.Errorf("cat-file: invalid object name %q", rev)
	}
	defer c.arm()()
	if _, err := io.WriteString(c.stdin, rev+"\n"); err != nil {
		return nil, c.failed(err)
	}
	header, err := c.stdout.ReadString('\n')
	if err != nil {
		return nil, c.failed(err)
	}
	header = strings.TrimSuffix(header, "\n")
	if strings.HasSuffix(header, " missing") || strings.HasSuffix(header, " ambiguous") {
		return nil, nil
	}
	fields := strings.Fields(header)
	if len(fields) != 3 {
		return nil, fmt.Errorf("cat-file: unexpected header %q", header)
	}
	size, err := strconv.Atoi(fields[2])
	if err != nil {
		return nil, fmt.Errorf("cat-file: unexpected header %q", header)
	}
	data := make([]byte, size+1) // content and the trailing newline
	if _, err := io.ReadFull(c.stdout, data); err != nil {
		return nil, c.failed(err)
	}
	return &object{sha: fields[0], kind: fields[1], data: data[:size]}, nil
}

// blob returns the content of the blob at rev, and whether it exists.
func (c *catFile) blob(rev string) ([]byte, bool, error) {
	obj, err := c.read(rev)
	if err != nil || obj == nil {
		return nil, false, err
	}
	if obj.kind != "blob" {
		return nil, false, fmt.Errorf("cat-file: %s is a %s, not a blob", rev, obj.kind)
	}
	return obj.data, true, nil
}

// treeEntry is one entry of a Git tree.
type treeEntry struct {
	mode string
	name string
	sha  string
}

// tree returns the entries of the tree at rev, or nil if it does not exist.
func (c *catFile) tree(rev string) ([]treeEntry, error) {
	obj, err := c.read(rev)
	if err != nil || obj == nil {
		return nil, err
	}
	if obj.kind != "tree" {
		return nil, fmt.Errorf("cat-file: %s is a %s, not a tree", rev, obj.kind)
	}
	return parseTree(obj.data)
}

// parseTree decodes Git's binary tree format: "<mode> <name>\0<20 bytes>".
func parseTree(data []byte) ([]treeEntry, error) {
	var entries []treeEntry
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp < 0 || nul < sp || len(data) < nul+21 {
			return nil, fmt.Errorf("cat-file: malformed tree")
		}
		entries = append(entries, treeEntry{mode: string(data[:sp]), name: string(data[sp+1 : nul]), sha: hex.EncodeToString(data[nul+1 : nul+21])})
		data = data[nul+21:]
	}
	return entries, nil
}

// close ends cat-file, killing it if it does not exit within its timeout.
func (c *catFile) close() error {
	defer c.arm()()
	c.stdin.Close()
	return c.cmd.Wait()
}
