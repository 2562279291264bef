package pack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

// Why a tail. A batch of one event rewrites the few big directories that
// event touches (an environment's applications/, with an entry per
// application). A pack must hold the base of every delta it stores, so a
// batch of its own would store each of those directories whole, deflated:
// a cost that grows with the number of applications, paid on every event,
// and paid again by the repack that later delta-compresses them.
//
// So batches that follow each other share their trees: a Writer opened by
// Continue writes the batch's blobs and commits into a pack of their own,
// and its trees into a new "tail" pack that starts with the bytes of the
// previous batch's tail pack, unchanged, and then appends the batch's
// trees as deltas against the previous versions of the same directories,
// wherever those were written. The new tail replaces the old one (which
// holds nothing it does not). A directory is stored whole once per tail,
// not once per batch; a batch costs a copy and a checksum of the tail,
// which keepTail bounds, plus its own changes.
//
// The tail is marked with a .keep file so that git's geometric repack
// (which skips kept packs) does not roll it up while the exporter still
// replaces it. Once it outgrows keepTail it is left unkept: an ordinary
// pack, already delta-compressed, for the repack to roll up. Continue
// also carries the model of the trees from batch to batch, so the big
// directories are not read and parsed again for every event.

// tailKeep is the content of a tail's .keep file: RemoveTailKeeps removes
// only these, never a .keep of someone else.
const tailKeep = "railyard export tail\n"

// Bounds of a kept tail (see keepTail).
const (
	// tailSlack is what a tail may always hold, however small the
	// directories batches touch: 256 KiB copy in a fraction of a
	// millisecond.
	tailSlack = 256 << 10
	// tailFactor, in halves: a tail may hold 1.5 times the bytes of the
	// trees one batch writes, beyond tailSlack.
	tailFactor = 3
)

// keepTail reports whether a tail of tailBytes should be continued by the
// next batch, given the raw bytes of the trees the last batch wrote (the
// latest version of each directory it changed). Continuing costs a copy
// and a checksum of the tail per batch; starting a new tail costs a
// whole, deflated copy of each directory the next batch changes, and a
// delta search by the repack later. Keeping the tail under 1.5 times that
// whole size (plus a constant slack) keeps the first cost within a small
// multiple of what one event must hash anyway, and makes the second one
// rare: with steady single-event batches a tail is replaced every
// few hundred events.
func keepTail(tailBytes, touchedBytes int64) bool {
	return tailBytes <= tailSlack+touchedBytes*tailFactor/2
}

// Tail is what a batch written by Continue leaves the next one: the tree
// model at its last commit and, while it is kept, its tail pack. Pass it
// to the next Continue, or call Release to give it up.
type Tail struct {
	tip      ID
	root     *treeNode
	versions map[string]*treeVersion
	pack     *tailPack // nil once the tail outgrew keepTail
}

// tailPack is an installed, kept tail pack and what appending to it needs.
type tailPack struct {
	path string // objects/pack/pack-<checksum>, without extension
	data []byte // the pack without its trailing checksum
	objs []packedObject
	ids  map[ID]int
}

// Release gives the tail up: its pack becomes an ordinary pack for the
// repack to roll up. It is safe on a nil Tail.
func (t *Tail) Release() {
	if t != nil && t.pack != nil {
		os.Remove(t.pack.path + ".keep")
		t.pack = nil
	}
}

// Pack returns the file name of the tail's pack, "" if it is not kept.
func (t *Tail) Pack() string {
	if t == nil || t.pack == nil {
		return ""
	}
	return t.pack.path + ".pack"
}

// remove deletes the tail pack's files, once a newer tail holds all its
// objects. The index goes first: git finds a pack by its index, and a
// pack left without one is removed when the exporter next opens.
func (p *tailPack) remove() {
	for _, ext := range []string{".idx", ".pack", ".keep"} {
		os.Remove(p.path + ext)
	}
}

// RemoveTailKeeps removes the .keep files the exporter left on its tail
// packs in the repository of git (a process that stopped cannot continue
// its tail): they become ordinary packs for the repack.
func RemoveTailKeeps(ctx context.Context, git *gitcli.Git) error {
	dir, err := packDir(ctx, git)
	if err != nil {
		return err
	}
	keeps, err := filepath.Glob(filepath.Join(dir, "pack-*.keep"))
	if err != nil {
		return err
	}
	for _, k := range keeps {
		b, err := os.ReadFile(k)
		if err != nil || string(b) != tailKeep {
			continue // someone else's
		}
		if err := os.Remove(k); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", k, err)
		}
	}
	return nil
}

// Continue is Open for a batch that follows the one that left t (nil for
// none): if t is at base, the batch continues its tree model and its tail
// pack; otherwise (the branch moved, an export failed) t is released and
// the batch starts afresh. Either way the Writer owns t. After Finish,
// Tail returns what the next batch continues. An empty ref is moved by
// the caller (Tip says where to): Finish then runs no git command.
func Continue(ctx context.Context, git *gitcli.Git, ref string, base ID, t *Tail) (*Writer, error) {
	if t != nil && (t.tip != base || base.IsZero()) {
		t.Release()
		t = nil
	}
	w, err := open(ctx, git, ref, base, true, t)
	if err != nil {
		t.Release()
		return nil, err
	}
	return w, nil
}

// Tail returns, after a Finish that succeeded, what the next batch of
// Continue continues from; nil otherwise.
func (w *Writer) Tail() *Tail { return w.next }

// openTrees starts the pack of the batch's trees: a copy of t's tail
// pack, or an empty pack.
func (w *Writer) openTrees(dir string, t *Tail) error {
	if t == nil || t.pack == nil {
		var err error
		w.trees, err = createPackFile(dir, true)
		return err
	}
	p, err := createPackFile(dir, true)
	if err != nil {
		return err
	}
	if err := p.resume(t.pack); err != nil {
		p.discard()
		return err
	}
	w.trees, w.prev = p, t.pack
	return nil
}

// finishTail installs the batch's tree pack when it holds new trees (kept
// while keepTail says so), removes the tail it replaces, and sets what the
// next batch continues.
func (w *Writer) finishTail() error {
	next := &Tail{tip: w.parent, root: w.root, versions: w.versions, pack: w.prev}
	prevObjs := 0
	if w.prev != nil {
		prevObjs = len(w.prev.objs)
	}
	if len(w.trees.objs) == prevObjs {
		w.trees.discard() // nothing new: the tail stays as it is
	} else {
		keep := keepTail(w.trees.off, w.touched)
		path, err := w.trees.installKept(keep)
		if err != nil {
			return err
		}
		if w.prev != nil {
			w.prev.remove()
		}
		next.pack = nil
		if keep {
			next.pack = &tailPack{path: path, data: w.trees.mem, objs: w.trees.objs, ids: w.trees.ids}
		} else {
			next.versions = map[string]*treeVersion{} // their objects are no tail's
		}
	}
	w.prev = nil
	next.prune()
	w.next = next
	return nil
}

// pruneMin is the number of entries from which a directory stays in the
// model between batches: reading and parsing it again would cost more
// than keeping it. Smaller ones are read again when a batch enters them.
const pruneMin = 64

// prune drops from the model what is cheap to read again, so that it does
// not grow into a copy of the repository: directories under pruneMin
// entries with nothing big below them, and the versions of small trees
// (storeTree then writes their next version whole, which costs what a
// delta would).
func (t *Tail) prune() {
	pruneNode(t.root)
	for p, v := range t.versions {
		if len(v.raw) < minDeflateTree {
			delete(t.versions, p)
		}
	}
}

// pruneNode unloads the small subtrees of n and reports whether n itself
// must stay loaded. Every node is clean here: its entries' ids are
// current.
func pruneNode(n *treeNode) bool {
	keep := len(n.entries) >= pruneMin
	for i := range n.entries {
		e := &n.entries[i]
		if e.sub == nil {
			continue
		}
		if pruneNode(e.sub) {
			keep = true
		} else {
			e.sub = nil
		}
	}
	return keep
}
