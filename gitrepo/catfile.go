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
)

// catFile reads objects through one long-running `git cat-file --batch`,
// so a lookup costs a pipe round trip instead of a process start. Not safe
// for concurrent use.
type catFile struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
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
	return &catFile{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(stdout, 64<<10)}, nil
}

// read returns the object named by rev (e.g. "<commit>:<path>"), or nil if
// it does not exist.
func (c *catFile) read(rev string) (*object, error) {
	if strings.ContainsAny(rev, "\n") {
		return nil, fmt.Errorf("cat-file: invalid object name %q", rev)
	}
	if _, err := io.WriteString(c.stdin, rev+"\n"); err != nil {
		return nil, fmt.Errorf("cat-file: %w", err)
	}
	header, err := c.stdout.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("cat-file: %w", err)
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
		return nil, fmt.Errorf("cat-file: %w", err)
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

// close ends cat-file.
func (c *catFile) close() error {
	c.stdin.Close()
	return c.cmd.Wait()
}
