// Package pack writes Git commits without a worktree and without `git
// fast-import`: a Writer keeps in memory only the directories a batch of
// commits touches, rewrites the changed ones at each commit, and writes
// every new object straight into one new packfile, storing each version of
// a tree as a delta against its previous one. Its trees and commits are
// byte for byte those `git fast-import` writes for the same calls, so the
// commit ids are the same (the tests compare the two, with package
// packtest's fast-import writer as the oracle).
//
// Paths are names joined by '/', each of [A-Za-z0-9._-] and not starting
// with '.' or '-': what package gitrepo's validated names give. Anything
// else is a bug of the caller, and the Writer panics rather than write it.
package pack

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

	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

// checkPath panics on a path that validation should have made impossible:
// it would be a bug, and writing it could escape its directory.
func checkPath(path string) {
	if !safePath(path) {
		panic(fmt.Sprintf("pack: refusing unsafe path %q", path))
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

// Writer writes the commits of one batch on top of a base commit into one
// packfile, and at Finish installs the pack and moves a ref to the last
// commit. Blobs are compressed into the pack as they come, never held;
// trees are loaded through cat-file the first time a path enters them.
// Write errors are sticky: after one, every call is a no-op and Err
// reports it. Not safe for concurrent use.
type Writer struct {
	git  *gitcli.Git
	ref  string
	cat  *gitcli.CatFile
	pack *packFile
	// trees is the pack of the batch's trees: pack itself, or for a
	// batch of Continue the new tail pack (tail.go).
	trees *packFile
	root  *treeNode
	// Continue's: the tail pack the new one replaces (nil if none), what
	// the next batch continues after Finish, and the raw bytes of the
	// trees this batch wrote, counted once per directory.
	tail    bool
	prev    *tailPack
	next    *Tail
	touched int64

	parent  ID // the last commit written, or base; zero for none
	commits int
	commit  *Commit // begun and not yet ended

	// versions holds, per directory path ("" for the root), its last
	// version written to this pack: the base of its next delta.
	versions map[string]*treeVersion
	// known holds blobs of the repository that PutBlob was given and
	// that were checked to exist.
	known map[ID]bool

	h      hash.Hash
	buf    []byte // scratch: a tree or commit being serialized
	delta  []byte // scratch: a delta being encoded
	err    error  // the first error; later calls are skipped
	closed bool
}

// treeVersion is a tree object written to the pack with its content.
type treeVersion struct {
	raw []byte
	obj packedObject
	// batch is the Writer that last wrote a version of the path.
	batch *Writer
}

// Open starts a batch of commits on top of the commit base (the zero ID
// for a first commit without parent) in git's repository; Finish makes
// the last of them the target of ref. The batch reads the repository
// through a cat-file that runs until Finish or Abort, or until ctx ends.
func Open(ctx context.Context, git *gitcli.Git, ref string, base ID) (*Writer, error) {
	return open(ctx, git, ref, base, false, nil)
}

// open is Open, or if tail Continue with t (nil for none), which is then
// at base.
func open(ctx context.Context, git *gitcli.Git, ref string, base ID, tail bool, t *Tail) (*Writer, error) {
	dir, err := packDir(ctx, git)
	if err != nil {
		return nil, err
	}
	cat, err := gitcli.OpenCatFile(ctx, git)
	if err != nil {
		return nil, err
	}
	w := &Writer{git: git, ref: ref, cat: cat, h: sha1.New(),
		versions: map[string]*treeVersion{}, known: map[ID]bool{}}
	if t != nil {
		w.root, w.parent, w.versions = t.root, t.tip, t.versions
	} else if err := w.loadBase(base); err != nil {
		cat.Close()
		return nil, err
	}
	if w.pack, err = createPackFile(dir, false); err != nil {
		cat.Close()
		return nil, err
	}
	w.trees = w.pack
	if tail {
		w.tail = true
		if err := w.openTrees(dir, t); err != nil {
			w.pack.discard()
			cat.Close()
			return nil, err
		}
	}
	return w, nil
}

// packDir returns the repository's objects/pack directory. The exporter's
// repository is bare, where it is <dir>/objects/pack (git's environment
// has no GIT_OBJECT_DIRECTORY): that saves starting git for every batch.
// Any other repository is asked to git.
func packDir(ctx context.Context, git *gitcli.Git) (string, error) {
	dir := filepath.Join(git.Dir, "objects", "pack")
	head, herr := os.Stat(filepath.Join(git.Dir, "HEAD"))
	pack, perr := os.Stat(dir)
	if herr == nil && perr == nil && head.Mode().IsRegular() && pack.IsDir() {
		return dir, nil
	}
	out, err := git.Run(ctx, "rev-parse", "--git-path", "objects/pack")
	if err != nil {
		return "", err
	}
	if dir = strings.TrimSpace(out); !filepath.IsAbs(dir) {
		dir = filepath.Join(git.Dir, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("pack writer: %w", err)
	}
	return dir, nil
}

// loadBase reads the base commit's id and root tree; without a base the
// root is a new, empty directory.
func (w *Writer) loadBase(base ID) error {
	if base.IsZero() {
		w.root = &treeNode{dirty: true} // written even if the first commit leaves it empty
		return nil
	}
	obj, err := w.cat.Read(base.String() + "^{commit}")
	if err != nil {
		return fmt.Errorf("read base commit: %w", err)
	}
	if obj == nil {
		return fmt.Errorf("read base commit: %s not found", base)
	}
	tree, ok := strings.CutPrefix(string(obj.Data), "tree ")
	treeID, terr := ParseID(tree[:min(40, len(tree))])
	if !ok || terr != nil {
		return fmt.Errorf("read base commit %s: no tree", base)
	}
	if w.parent, err = ParseID(obj.ID); err != nil {
		return fmt.Errorf("read base commit %s: %w", base, err)
	}
	w.root, err = w.loadTree(treeID)
	return err
}

// loadTree reads a tree of the repository; it is the treeLoader of the
// model.
func (w *Writer) loadTree(id ID) (*treeNode, error) {
	obj, err := w.cat.Read(id.String())
	switch {
	case err != nil:
		return nil, err
	case obj == nil:
		return nil, fmt.Errorf("tree %s not found", id)
	case obj.Kind != "tree":
		return nil, fmt.Errorf("%s is a %s, not a tree", id, obj.Kind)
	}
	return parseTreeNode(obj.Data, id)
}

// fail records the first error.
func (w *Writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// CatFile returns the cat-file the Writer reads the repository through,
// for the caller's own lookups until Finish or Abort closes it.
func (w *Writer) CatFile() *gitcli.CatFile { return w.cat }

// Tip returns the last commit written, or the base (zero for none): what
// Finish moves the ref to.
func (w *Writer) Tip() ID { return w.parent }

// Err returns the first error of the batch, nil if none.
func (w *Writer) Err() error { return w.err }

// hashObject returns the id of an object of kind with content data.
func (w *Writer) hashObject(kind string, data []byte) ID {
	var hdr [32]byte
	b := append(hdr[:0], kind...)
	b = append(strconv.AppendInt(append(b, ' '), int64(len(data)), 10), 0)
	w.h.Reset()
	w.h.Write(b)
	w.h.Write(data)
	var id ID
	w.h.Sum(id[:0])
	return id
}

// Blob writes content to the pack (once per batch, however often it is
// given) and returns its id, for PutBlob. It may be called at any time,
// inside a commit or between commits.
func (w *Writer) Blob(content []byte) ID {
	id := w.hashObject("blob", content)
	if w.err != nil {
		return id
	}
	if _, ok := w.pack.lookup(id); !ok {
		if _, err := w.pack.writeWhole(id, objBlob, content); err != nil {
			w.fail(err)
		}
	}
	return id
}

// BeginCommit starts a commit; Put, PutBlob and Delete change its tree,
// and EndCommit writes it. Like fast-import, it refuses identities that
// would corrupt the commit header.
func (w *Writer) BeginCommit(c Commit) {
	if w.err != nil {
		return
	}
	for _, p := range [...]struct {
		role string
		sig  Signature
	}{{"author", c.Author}, {"committer", c.Committer}} {
		if strings.ContainsAny(p.sig.Name+p.sig.Email, "<>\n") {
			w.fail(fmt.Errorf("invalid %s %q: '<', '>' and newlines would break the commit header", p.role, p.sig))
			return
		}
	}
	w.commit = &c
}

// Put writes content at path as a file of mode (ModeFile,
// ModeExecutable or ModeSymlink, whose content is the link's target),
// creating the directories on its way and replacing whatever was there.
func (w *Writer) Put(path string, mode Mode, content []byte) {
	checkPath(path)
	if w.err != nil {
		return
	}
	if !w.checkMode(path, mode) {
		return
	}
	w.set(path, mode, w.Blob(content))
}

// PutBlob is Put of a blob already stored: one Blob returned, or one of
// the repository, which must exist (fast-import checks it too).
func (w *Writer) PutBlob(path string, mode Mode, blob ID) {
	checkPath(path)
	if w.err != nil {
		return
	}
	if !w.checkMode(path, mode) {
		return
	}
	if err := w.checkBlob(blob); err != nil {
		w.fail(fmt.Errorf("put %s: %w", path, err))
		return
	}
	w.set(path, mode, blob)
}

// checkMode fails the batch unless mode is a file's.
func (w *Writer) checkMode(path string, mode Mode) bool {
	if !mode.isBlob() {
		w.fail(fmt.Errorf("put %s: unsupported file mode \"%06o\"", path, uint32(mode)))
		return false
	}
	return true
}

// checkBlob checks that blob id is in this pack or in the repository.
func (w *Writer) checkBlob(id ID) error {
	if _, ok := w.pack.lookup(id); ok || w.known[id] {
		return nil
	}
	obj, err := w.cat.Read(id.String())
	switch {
	case err != nil:
		return err
	case obj == nil:
		return fmt.Errorf("blob %s not found", id)
	case obj.Kind != "blob":
		return fmt.Errorf("%s is a %s, not a blob", id, obj.Kind)
	}
	w.known[id] = true
	return nil
}

// set points path at (mode, id) in the model.
func (w *Writer) set(path string, mode Mode, id ID) {
	if _, err := w.root.set(path, mode, id, w.loadTree); err != nil {
		w.fail(fmt.Errorf("put %s: %w", path, err))
	}
}

// Delete deletes a file or a whole directory; an absent path is fine. A
// directory left empty goes too, as Git cannot store it.
func (w *Writer) Delete(path string) {
	checkPath(path)
	if w.err != nil {
		return
	}
	if _, err := w.root.remove(path, w.loadTree); err != nil {
		w.fail(fmt.Errorf("delete %s: %w", path, err))
	}
}

// EndCommit writes the changed trees and the commit begun by BeginCommit,
// which becomes the parent of the next.
func (w *Writer) EndCommit() {
	if w.err != nil {
		return
	}
	if w.commit == nil {
		w.fail(errors.New("EndCommit without BeginCommit"))
		return
	}
	if err := w.writeTree(w.root, ""); err != nil {
		w.fail(err)
		return
	}
	w.buf = w.appendCommit(w.buf[:0], w.root.id)
	id := w.hashObject("commit", w.buf)
	if _, ok := w.pack.lookup(id); !ok {
		if _, err := w.pack.writeWhole(id, objCommit, w.buf); err != nil {
			w.fail(err)
			return
		}
	}
	w.parent = id
	w.commit = nil
	w.commits++
}

// appendCommit serializes the current commit exactly as fast-import does
// with --date-format=raw: tree, parent, author, committer, a blank line,
// then the message as given.
func (w *Writer) appendCommit(buf []byte, tree ID) []byte {
	buf = append(buf, "tree "...)
	buf = hex.AppendEncode(buf, tree[:])
	buf = append(buf, '\n')
	if !w.parent.IsZero() {
		buf = append(buf, "parent "...)
		buf = hex.AppendEncode(buf, w.parent[:])
		buf = append(buf, '\n')
	}
	c := w.commit
	buf = appendSignature(buf, "author", c.Author)
	buf = appendSignature(buf, "committer", c.Committer)
	buf = append(buf, '\n')
	return append(buf, c.Message...)
}

// appendSignature appends a commit header line "<role> Name <Email> <Unix
// seconds> +0000".
func appendSignature(buf []byte, role string, s Signature) []byte {
	return fmt.Appendf(buf, "%s %s <%s> %d +0000\n", role, s.Name, s.Email, s.When.Unix())
}

// writeTree writes the changed directories under n, deepest first so that
// each parent holds its children's new ids, then n itself (at path).
func (w *Writer) writeTree(n *treeNode, path string) error {
	if !n.dirty {
		return nil
	}
	for i := range n.entries {
		e := &n.entries[i]
		if e.sub != nil && e.sub.dirty {
			if err := w.writeTree(e.sub, joinPath(path, e.Name)); err != nil {
				return err
			}
			e.ID = e.sub.id
		}
	}
	w.buf = n.appendTree(w.buf[:0])
	id := w.hashObject("tree", w.buf)
	n.dirty = false
	if id == n.id {
		return nil // changed back to what the repository or pack holds
	}
	n.id = id
	return w.storeTree(path, id, w.buf)
}

// joinPath returns the path of name in directory dir ("" for the root).
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// storeTree writes tree id (content raw) at path to the pack: as a delta
// against the path's previous version in this pack when there is one, the
// chain is not too long and the delta is smaller; else whole.
func (w *Writer) storeTree(path string, id ID, raw []byte) error {
	v := w.versions[path]
	if v == nil {
		v = &treeVersion{}
		w.versions[path] = v
	}
	obj, ok := w.trees.lookup(id)
	if !ok && v.raw != nil && v.obj.depth < maxDeltaDepth {
		// fast-import's rule: a delta must save at least an id's length.
		if w.delta = appendDelta(w.delta[:0], v.raw, raw); len(w.delta) < len(raw)-20 {
			var err error
			if obj, err = w.trees.writeDelta(id, v.obj, w.delta); err != nil {
				return err
			}
			ok = true
		}
	}
	if !ok {
		var err error
		if obj, err = w.trees.writeWhole(id, objTree, raw); err != nil {
			return err
		}
	}
	v.raw = append(v.raw[:0], raw...)
	v.obj = obj
	if v.batch != w {
		v.batch = w
		w.touched += int64(len(raw))
	}
	return nil
}

// Finish installs the pack (every batch is one pack, however small: the
// exporter's background repack keeps their number low) and moves ref to
// the last commit. A batch without commits writes nothing and leaves ref
// at base, as fast-import's reset does. After an error (Err), it installs
// nothing and returns the error.
func (w *Writer) Finish(ctx context.Context) error {
	if w.closed {
		return errors.New("pack writer: finish after close")
	}
	w.closed = true
	w.cat.Close()
	if w.err != nil {
		w.discard()
		return fmt.Errorf("pack writer: %w", w.err)
	}
	switch {
	case w.commits == 0:
		if w.tail && !w.root.dirty { // nothing changed: continue as before
			w.next = &Tail{tip: w.parent, root: w.root, versions: w.versions, pack: w.prev}
			w.prev = nil
		}
		w.discard()
	case !w.tail:
		if err := w.pack.install(); err != nil {
			return err
		}
	default:
		if _, err := w.pack.installKept(false); err != nil {
			w.discard()
			return err
		}
		if err := w.finishTail(); err != nil {
			w.discard()
			return err
		}
		if err := syncDir(w.pack.dir); err != nil {
			return err
		}
	}
	if w.parent.IsZero() || w.ref == "" {
		return nil
	}
	if _, err := w.git.Run(ctx, "update-ref", w.ref, w.parent.String()); err != nil {
		return fmt.Errorf("pack writer: %w", err)
	}
	return nil
}

// Abort gives up: no pack is installed and ref does not move. It does
// nothing after Finish.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	w.cat.Close()
	w.discard()
}

// discard removes the batch's unfinished packs and gives up the tail it
// continued, if any: its model may be half changed.
func (w *Writer) discard() {
	w.pack.discard()
	if w.trees != w.pack {
		w.trees.discard()
	}
	if w.prev != nil {
		os.Remove(w.prev.path + ".keep")
		w.prev = nil
	}
}
