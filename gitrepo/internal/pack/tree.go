package pack

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// The Writer's in-memory model of the trees a batch touches. Only the
// directories along the paths a batch writes are ever loaded; everything
// else stays an id in its parent's entry. The mutations follow
// fast-import's tree_content_set and tree_content_remove, so that both
// produce the same trees from the same calls.

// treeNode is one directory of the model.
type treeNode struct {
	// entries are in Git's order (see compareEntries).
	entries []nodeEntry
	// id is the object id of the node's content as it was last loaded or
	// written, so that object exists; zero for a directory the batch
	// created.
	id ID
	// dirty is set when entries changed since id was computed.
	dirty bool
}

// nodeEntry is one entry of a treeNode. For a directory whose sub is
// dirty, ID is stale until the sub is written.
type nodeEntry struct {
	Entry
	// sub is the directory's node once loaded or created; nil for files
	// and for directories the batch has not entered.
	sub *treeNode
}

// treeLoader reads a tree object from the repository by its id.
type treeLoader func(id ID) (*treeNode, error)

// compareEntries orders tree entries as Git does (base_name_compare): by
// the bytes of their names, where a directory's name compares as if it
// ended in '/'. So "a-b" < "a.yaml" < "a/" (a directory "a") but the file
// "a" sorts before both.
func compareEntries(a string, aDir bool, b string, bDir bool) int {
	n := min(len(a), len(b))
	if c := strings.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	return cmp.Compare(nameEnd(a, n, aDir), nameEnd(b, n, bDir))
}

// nameEnd is the byte of name at n, or the implicit terminator past its
// end: '/' for a directory, NUL for anything else.
func nameEnd(name string, n int, dir bool) byte {
	switch {
	case len(name) > n:
		return name[n]
	case dir:
		return '/'
	}
	return 0
}

// search returns where an entry (name, dir) is or would be inserted.
func (n *treeNode) search(name string, dir bool) int {
	return sort.Search(len(n.entries), func(i int) bool {
		e := &n.entries[i]
		return compareEntries(e.Name, e.Mode.IsDir(), name, dir) >= 0
	})
}

// find returns the index of the entry called name. Its position depends on
// whether it is a directory, which the caller does not know: look where a
// file would be, then where a directory would be.
func (n *treeNode) find(name string) (int, bool) {
	for _, dir := range [2]bool{false, true} {
		if i := n.search(name, dir); i < len(n.entries) && n.entries[i].Name == name {
			return i, true
		}
	}
	return -1, false
}

// replace puts e at index i (if exists) or adds it, keeping the order: a
// file that becomes a directory, or the reverse, may move.
func (n *treeNode) replace(i int, exists bool, e nodeEntry) {
	if exists && n.entries[i].Mode.IsDir() == e.Mode.IsDir() {
		n.entries[i] = e
		return
	}
	if exists {
		n.entries = slices.Delete(n.entries, i, i+1)
	}
	n.entries = slices.Insert(n.entries, n.search(e.Name, e.Mode.IsDir()), e)
}

// subtree returns the node of directory entry e, loading it on first use.
func (e *nodeEntry) subtree(load treeLoader) (*treeNode, error) {
	if e.sub == nil {
		sub, err := load(e.ID)
		if err != nil {
			return nil, err
		}
		e.sub = sub
	}
	return e.sub, nil
}

// set points path (relative to n) at (mode, id) and reports whether that
// changed anything. Like fast-import, it creates missing directories,
// turns a file in the way into a new empty directory, and replaces a
// directory at path by the file.
func (n *treeNode) set(path string, mode Mode, id ID, load treeLoader) (bool, error) {
	name, rest, more := strings.Cut(path, "/")
	i, ok := n.find(name)
	if !more {
		if ok && !mode.IsDir() && n.entries[i].Mode == mode && n.entries[i].ID == id {
			return false, nil
		}
		n.replace(i, ok, nodeEntry{Entry: Entry{Name: name, Mode: mode, ID: id}})
		n.dirty = true
		return true, nil
	}
	var sub *treeNode
	if ok && n.entries[i].Mode.IsDir() {
		var err error
		if sub, err = n.entries[i].subtree(load); err != nil {
			return false, err
		}
	} else {
		// fast-import starts an empty directory here, without loading
		// anything: a file, or nothing, was in the way.
		sub = &treeNode{}
		n.replace(i, ok, nodeEntry{Entry: Entry{Name: name, Mode: ModeDir}, sub: sub})
	}
	changed, err := sub.set(rest, mode, id, load)
	if changed {
		n.dirty = true
	}
	return changed, err
}

// remove deletes path (relative to n), a file or a whole directory, and
// reports whether that changed anything. A directory left empty goes too,
// as in fast-import (and as Git cannot store it anyway); an absent path,
// or one below a file, is left alone.
func (n *treeNode) remove(path string, load treeLoader) (bool, error) {
	name, rest, more := strings.Cut(path, "/")
	i, ok := n.find(name)
	if !ok {
		return false, nil
	}
	if more {
		if !n.entries[i].Mode.IsDir() {
			return false, nil
		}
		sub, err := n.entries[i].subtree(load)
		if err != nil {
			return false, err
		}
		changed, err := sub.remove(rest, load)
		if err != nil || !changed {
			return false, err
		}
		if len(sub.entries) > 0 {
			n.dirty = true
			return true, nil
		}
	}
	n.entries = slices.Delete(n.entries, i, i+1)
	n.dirty = true
	return true, nil
}

// appendTree appends n's entries in Git's tree format,
// "<octal mode> <name>\0<20-byte id>" each, to buf.
func (n *treeNode) appendTree(buf []byte) []byte {
	for i := range n.entries {
		e := &n.entries[i]
		buf = e.Mode.appendTo(buf)
		buf = append(buf, ' ')
		buf = append(buf, e.Name...)
		buf = append(buf, 0)
		buf = append(buf, e.ID[:]...)
	}
	return buf
}

// parseTreeNode decodes a tree object into a node whose id is id.
func parseTreeNode(data []byte, id ID) (*treeNode, error) {
	n := &treeNode{id: id, entries: make([]nodeEntry, 0, len(data)/40)}
	if err := scanTree(data, func(e Entry) { n.entries = append(n.entries, nodeEntry{Entry: e}) }); err != nil {
		return nil, fmt.Errorf("tree %s: %w", id, err)
	}
	// fast-import sorts a tree it rewrites; a foreign tool may have stored
	// one out of order.
	less := func(a, b nodeEntry) int { return compareEntries(a.Name, a.Mode.IsDir(), b.Name, b.Mode.IsDir()) }
	if !slices.IsSortedFunc(n.entries, less) {
		slices.SortStableFunc(n.entries, less)
	}
	return n, nil
}
