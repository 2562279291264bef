package gitcli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// CatFile reads objects through one long-running `git cat-file --batch`,
// so a lookup costs a pipe round trip instead of a process start. A
// request not answered within the Git's Timeout kills cat-file, and the
// request fails with a *TimeoutError. Not safe for concurrent use.
type CatFile struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	// timeout bounds each request; the timer kills cat-file when it
	// fires, and timedOut records that it did.
	timeout  time.Duration
	timer    *time.Timer
	timedOut atomic.Bool
}

// Object is one object read by CatFile.
type Object struct {
	ID   string // as git prints it: 40 hexadecimal digits
	Kind string // "blob", "tree", "commit" or "tag"
	Data []byte
}

// OpenCatFile starts cat-file in g's repository. It runs until Close, or
// until ctx ends, which kills it: the requests after that fail.
func OpenCatFile(ctx context.Context, g *Git) (*CatFile, error) {
	cmd := g.Command(ctx, "cat-file", "--batch")
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
	c := &CatFile{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(stdout, 64<<10), timeout: g.Timeout}
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
func (c *CatFile) arm() func() bool {
	if c.timer == nil {
		return func() bool { return false }
	}
	c.timer.Reset(c.timeout)
	return c.timer.Stop
}

// failed turns an I/O error of a request into a *TimeoutError if cat-file
// was killed at its deadline.
func (c *CatFile) failed(err error) error {
	if c.timedOut.Load() {
		return &TimeoutError{Cmd: "git cat-file", After: c.timeout}
	}
	return fmt.Errorf("cat-file: %w", err)
}

// Read returns the object named by rev (e.g. "<commit>:<path>"), or nil if
// it does not exist.
func (c *CatFile) Read(rev string) (*Object, error) {
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
	return &Object{ID: fields[0], Kind: fields[1], Data: data[:size]}, nil
}

// Blob returns the content of the blob at rev, and whether it exists.
func (c *CatFile) Blob(rev string) ([]byte, bool, error) {
	obj, err := c.Read(rev)
	if err != nil || obj == nil {
		return nil, false, err
	}
	if obj.Kind != "blob" {
		return nil, false, fmt.Errorf("cat-file: %s is a %s, not a blob", rev, obj.Kind)
	}
	return obj.Data, true, nil
}

// Close ends cat-file, killing it if it does not exit within its timeout.
func (c *CatFile) Close() error {
	defer c.arm()()
	c.stdin.Close()
	return c.cmd.Wait()
}
