package gitrepo

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/railyard-cd/railyard"
)

// treeWriter writes the commits of one batch on top of a base commit. The
// exporter writes with packWriter; fastImport (a test file) is the oracle
// the tests compare it with.
// Paths are validated names joined by '/'; a blob reference is a SHA-1 of
// an object in the repository or a value returned by blob. Write errors
// are sticky: after one, every call is a no-op and failed reports it.
type treeWriter interface {
	// blob stores content and returns a reference for putRef.
	blob(content []byte) string
	// commitHeader starts a commit; the file commands follow.
	commitHeader(author railyard.Actor, at time.Time, message string)
	// put writes content at path with mode (modeFile or modeSymlink).
	put(path, mode string, content []byte)
	// putRef points path at an existing blob.
	putRef(path, mode, ref string)
	// del deletes a file or a whole directory; absent paths are fine.
	del(path string)
	// endCommit ends the current commit.
	endCommit()
	// failed returns the first write error.
	failed() error
	// finish writes everything and moves the ref to the last commit.
	finish() error
	// abort gives up without moving the ref.
	abort()
}

// Git file modes.
const (
	modeFile    = "100644"
	modeSymlink = "120000"
)

// checkPath panics on a path that validation should have made impossible:
// it would be a bug, and writing it could escape its directory.
func checkPath(path string) {
	if !safePath(path) {
		panic(fmt.Sprintf("gitrepo: refusing unsafe path %q", path))
	}
}

// safePath reports whether path is what every path Railyard writes is:
// validated names joined by '/', each of [A-Za-z0-9._-] and not starting
// with '.' or '-', so no empty, "." or ".." component and nothing to
// quote. (A loop rather than a regular expression: it runs for every file
// of every event.)
func safePath(path string) bool {
	start := true // at the start of a name
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c == '/':
			if start {
				return false
			}
			start = true
			continue
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
		case c == '.', c == '-':
			if start {
				return false
			}
		default:
			return false
		}
		start = false
	}
	return !start
}

// maxDeltaDepth caps the delta chains of trees, as fast-import's default
// does: reading a version costs one inflate per link.
const maxDeltaDepth = 50

// packWriter is the treeWriter that writes a batch's objects itself, into
// one packfile, instead of streaming them to `git fast-import`. It keeps
// in memory only the directories the batch touches (loaded through
// cat-file the first time a path enters them), rewrites the changed ones
// bottom-up at each commit, and stores a tree as a delta against its
// previous version in the pack, computed from their common prefix and
// suffix. Its trees and commits are byte for byte those fast-import writes
// for the same calls, so the commit ids are the same. Blobs are compressed
// into the pack as they come, never held. Like fast-import, it stores a
// small batch as loose objects instead. Not safe for concurrent use.
type packWriter struct {
	ctx  context.Context
	git  *gitCmd
	ref  string
	cat  *catFile
	pack *packFile
	root *treeNode

	parent  string // id of the last commit written, or of base
	commits int
	header  *pendingCommit // the commit being written

	// versions holds, per directory path ("" for the root), its last
	// version written to this pack: the base of its next delta.
	versions map[string]*treeVersion
	// known holds blobs of the repository that putRef was given and that
	// were checked to exist.
	known map[[20]byte]bool

	h      hash.Hash
	buf    []byte // scratch: a tree or commit being serialized
	delta  []byte // scratch: a delta being encoded
	err    error  // the first error; later calls are skipped
	closed bool
}

// pendingCommit is what commitHeader was given for the current commit.
type pendingCommit struct {
	author  railyard.Actor
	at      time.Time
	message string
}

// treeVersion is a tree object written to the pack with its content.
type treeVersion struct {
	raw []byte
	obj packedObject
}

// openPackWriter starts a batch of commits on top of base ("" for a first
// commit without parent) that finish will make the target of ref.
func openPackWriter(ctx context.Context, g *gitCmd, ref, base string) (treeWriter, error) {
	dir, err := packDir(ctx, g)
	if err != nil {
		return nil, err
	}
	cat, err := openCatFile(ctx, g)
	if err != nil {
		return nil, err
	}
	w := &packWriter{ctx: ctx, git: g, ref: ref, cat: cat, h: sha1.New(),
		versions: map[string]*treeVersion{}, known: map[[20]byte]bool{}}
	if err := w.loadBase(base); err != nil {
		cat.close()
		return nil, err
	}
	if w.pack, err = createPackFile(dir); err != nil {
		cat.close()
		return nil, err
	}
	return w, nil
}

// packDir returns the repository's objects/pack directory. The exporter's
// repository is bare, where it is <dir>/objects/pack (gitCmd's
// environment has no GIT_OBJECT_DIRECTORY): that saves starting git for
// every batch. Any other repository is asked to git.
func packDir(ctx context.Context, g *gitCmd) (string, error) {
	dir := filepath.Join(g.dir, "objects", "pack")
	head, herr := os.Stat(filepath.Join(g.dir, "HEAD"))
	pack, perr := os.Stat(dir)
	if herr == nil && perr == nil && head.Mode().IsRegular() && pack.IsDir() {
		return dir, nil
	}
	out, err := g.run(ctx, "rev-parse", "--git-path", "objects/pack")
	if err != nil {
		return "", err
	}
	if dir = strings.TrimSpace(out); !filepath.IsAbs(dir) {
		dir = filepath.Join(g.dir, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("pack writer: %w", err)
	}
	return dir, nil
}

// loadBase reads the base commit's id and root tree; without a base the
// root is a new, empty directory.
func (w *packWriter) loadBase(base string) error {
	if base == "" {
		w.root = &treeNode{dirty: true} // written even if the first commit leaves it empty
		return nil
	}
	obj, err := w.cat.read(base + "^{commit}")
	if err != nil {
		return fmt.Errorf("read base commit: %w", err)
	}
	if obj == nil {
		return fmt.Errorf("read base commit: %s not found", base)
	}
	tree, ok := strings.CutPrefix(string(obj.data), "tree ")
	sha, valid := parseSHA(tree[:min(40, len(tree))])
	if !ok || !valid {
		return fmt.Errorf("read base commit %s: no tree", base)
	}
	w.parent = obj.sha
	w.root, err = w.loadTree(sha)
	return err
}

// loadTree reads a tree of the repository; it is the treeLoader of the
// model.
func (w *packWriter) loadTree(sha [20]byte) (*treeNode, error) {
	id := hex.EncodeToString(sha[:])
	obj, err := w.cat.read(id)
	switch {
	case err != nil:
		return nil, err
	case obj == nil:
		return nil, fmt.Errorf("tree %s not found", id)
	case obj.kind != "tree":
		return nil, fmt.Errorf("%s is a %s, not a tree", id, obj.kind)
	}
	return parseTreeNode(obj.data, sha)
}

// fail records the first error.
func (w *packWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// failed returns the first error.
func (w *packWriter) failed() error { return w.err }

// hashObject returns the id of an object of kind with content data.
func (w *packWriter) hashObject(kind string, data []byte) [20]byte {
	var hdr [32]byte
	b := append(hdr[:0], kind...)
	b = append(strconv.AppendInt(append(b, ' '), int64(len(data)), 10), 0)
	w.h.Reset()
	w.h.Write(b)
	w.h.Write(data)
	var sha [20]byte
	w.h.Sum(sha[:0])
	return sha
}

// blob writes content to the pack (once per batch) and returns its id.
func (w *packWriter) blob(content []byte) string {
	sha := w.writeBlob(content)
	return hex.EncodeToString(sha[:])
}

// writeBlob is blob, returning the binary id.
func (w *packWriter) writeBlob(content []byte) [20]byte {
	sha := w.hashObject("blob", content)
	if w.err != nil {
		return sha
	}
	if _, ok := w.pack.lookup(sha); !ok {
		if _, err := w.pack.writeWhole(sha, objBlob, content); err != nil {
			w.fail(err)
		}
	}
	return sha
}

// commitHeader starts a commit. Like fast-import, it refuses identities
// that would corrupt the commit header.
func (w *packWriter) commitHeader(author railyard.Actor, at time.Time, message string) {
	if w.err != nil {
		return
	}
	if strings.ContainsAny(author.Name+author.Email, "<>\n") {
		w.fail(fmt.Errorf("invalid author %q: '<', '>' and newlines would break the commit header", author.String()))
		return
	}
	w.header = &pendingCommit{author: author, at: at, message: message}
}

// put writes content at path with mode.
func (w *packWriter) put(path, mode string, content []byte) {
	checkPath(path)
	if w.err != nil {
		return
	}
	m, err := parseMode(mode)
	if err != nil {
		w.fail(fmt.Errorf("put %s: %w", path, err))
		return
	}
	w.set(path, m, w.writeBlob(content))
}

// putRef points path at a blob: one blob returned, or one of the
// repository, which must exist (fast-import checks it too).
func (w *packWriter) putRef(path, mode, ref string) {
	checkPath(path)
	if w.err != nil {
		return
	}
	m, err := parseMode(mode)
	if err != nil {
		w.fail(fmt.Errorf("put %s: %w", path, err))
		return
	}
	sha, ok := parseSHA(ref)
	if !ok {
		w.fail(fmt.Errorf("put %s: invalid blob reference %q", path, ref))
		return
	}
	if err := w.checkBlob(sha); err != nil {
		w.fail(fmt.Errorf("put %s: %w", path, err))
		return
	}
	w.set(path, m, sha)
}

// checkBlob checks that blob sha is in this pack or in the repository.
func (w *packWriter) checkBlob(sha [20]byte) error {
	if _, ok := w.pack.lookup(sha); ok || w.known[sha] {
		return nil
	}
	id := hex.EncodeToString(sha[:])
	obj, err := w.cat.read(id)
	switch {
	case err != nil:
		return err
	case obj == nil:
		return fmt.Errorf("blob %s not found", id)
	case obj.kind != "blob":
		return fmt.Errorf("%s is a %s, not a blob", id, obj.kind)
	}
	w.known[sha] = true
	return nil
}

// set points path at (mode, sha) in the model.
func (w *packWriter) set(path string, mode uint32, sha [20]byte) {
	if _, err := w.root.set(path, mode, sha, w.loadTree); err != nil {
		w.fail(fmt.Errorf("put %s: %w", path, err))
	}
}

// del deletes a file or a whole directory; absent paths are fine.
func (w *packWriter) del(path string) {
	checkPath(path)
	if w.err != nil {
		return
	}
	if _, err := w.root.remove(path, w.loadTree); err != nil {
		w.fail(fmt.Errorf("delete %s: %w", path, err))
	}
}

// endCommit writes the changed trees and the commit.
func (w *packWriter) endCommit() {
	if w.err != nil {
		return
	}
	if w.header == nil {
		w.fail(errors.New("endCommit without commitHeader"))
		return
	}
	if err := w.ctx.Err(); err != nil {
		w.fail(err)
		return
	}
	if err := w.writeTree(w.root, ""); err != nil {
		w.fail(err)
		return
	}
	w.buf = w.appendCommit(w.buf[:0], w.root.sha)
	sha := w.hashObject("commit", w.buf)
	if _, ok := w.pack.lookup(sha); !ok {
		if _, err := w.pack.writeWhole(sha, objCommit, w.buf); err != nil {
			w.fail(err)
			return
		}
	}
	w.parent = hex.EncodeToString(sha[:])
	w.header = nil
	w.commits++
}

// appendCommit serializes the current commit exactly as fast-import does
// with --date-format=raw: tree, parent, author, committer, a blank line,
// then the message as given.
func (w *packWriter) appendCommit(buf []byte, tree [20]byte) []byte {
	buf = append(buf, "tree "...)
	buf = hex.AppendEncode(buf, tree[:])
	buf = append(buf, '\n')
	if w.parent != "" {
		buf = append(append(append(buf, "parent "...), w.parent...), '\n')
	}
	c := w.header
	ts := c.at.Unix()
	buf = fmt.Appendf(buf, "author %s <%s> %d +0000\n", c.author.Name, c.author.Email, ts)
	buf = fmt.Appendf(buf, "committer %s <%s> %d +0000\n\n", committer.Name, committer.Email, ts)
	return append(buf, c.message...)
}

// writeTree writes the changed directories under n, deepest first so that
// each parent holds its children's new ids, then n itself (at path).
func (w *packWriter) writeTree(n *treeNode, path string) error {
	if !n.dirty {
		return nil
	}
	for i := range n.entries {
		e := &n.entries[i]
		if e.sub != nil && e.sub.dirty {
			if err := w.writeTree(e.sub, joinPath(path, e.name)); err != nil {
				return err
			}
			e.sha = e.sub.sha
		}
	}
	w.buf = n.appendTree(w.buf[:0])
	sha := w.hashObject("tree", w.buf)
	n.dirty = false
	if sha == n.sha {
		return nil // changed back to what the repository or pack holds
	}
	n.sha = sha
	return w.storeTree(path, sha, w.buf)
}

// joinPath returns the path of name in directory dir ("" for the root).
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// storeTree writes tree sha (content raw) at path to the pack: as a delta
// against the path's previous version in this pack when there is one, the
// chain is not too long and the delta is smaller; else whole.
func (w *packWriter) storeTree(path string, sha [20]byte, raw []byte) error {
	v := w.versions[path]
	if v == nil {
		v = &treeVersion{}
		w.versions[path] = v
	}
	obj, ok := w.pack.lookup(sha)
	if !ok && v.raw != nil && v.obj.depth < maxDeltaDepth {
		// fast-import's rule: a delta must save at least an id's length.
		if w.delta = appendDelta(w.delta[:0], v.raw, raw); len(w.delta) < len(raw)-20 {
			var err error
			if obj, err = w.pack.writeDelta(sha, v.obj, w.delta); err != nil {
				return err
			}
			ok = true
		}
	}
	if !ok {
		var err error
		if obj, err = w.pack.writeWhole(sha, objTree, raw); err != nil {
			return err
		}
	}
	v.raw = append(v.raw[:0], raw...)
	v.obj = obj
	return nil
}

// finish installs the pack (every batch is one pack, however small: the
// exporter's background repack keeps their number low) and moves
// ref to the last commit. A batch without commits writes nothing and
// leaves ref at base, as fast-import's reset does.
func (w *packWriter) finish() error {
	if w.closed {
		return errors.New("pack writer: finish after close")
	}
	w.closed = true
	w.cat.close()
	if w.err != nil {
		w.pack.discard()
		return fmt.Errorf("pack writer: %w", w.err)
	}
	switch {
	case w.commits == 0:
		w.pack.discard()
	default:
		if err := w.pack.install(); err != nil {
			return err
		}
	}
	if w.parent == "" {
		return nil
	}
	if _, err := w.git.run(w.ctx, "update-ref", w.ref, w.parent); err != nil {
		return fmt.Errorf("pack writer: %w", err)
	}
	return nil
}

// abort gives up: no pack is installed and ref does not move.
func (w *packWriter) abort() {
	if w.closed {
		return
	}
	w.closed = true
	w.cat.close()
	w.pack.discard()
}
