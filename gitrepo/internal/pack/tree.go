package gitrepo

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The packWriter's in-memory model of the trees a batch touches. Only the
// directories along the paths a batch writes are ever loaded; everything
// else stays a SHA-1 in its parent's entry. The mutations follow
// fast-import's tree_content_set and tree_content_remove, so that both
// writers produce the same trees from the same calls.

// Mode bits of a tree entry, as Git stores them (in octal).
const (
	modeTypeMask = 0o170000
	modeTreeBits = 0o040000
)

// isDirMode reports whether mode is a directory's (Git's S_ISDIR).
func isDirMode(mode uint32) bool { return mode&modeTypeMask == modeTreeBits }

// treeNode is one directory of the model.
type treeNode struct {
	// entries are in Git's order (see compareEntries).
	entries []nodeEntry
	// sha is the object id of the node's content as it was last loaded or
	// written, so that object exists; zero for a directory the batch
	// created.
	sha [20]byte
	// dirty is set when entries changed since sha was computed.
	dirty bool
}

// nodeEntry is one entry of a treeNode.
type nodeEntry struct {
	name string
	mode uint32
	// sha is the entry's object id; for a directory whose sub is dirty it
	// is stale until the sub is written.
	sha [20]byte
	// sub is the directory's node once loaded or created; nil for files
	// and for directories the batch has not entered.
	sub *treeNode
}

// treeLoader reads a tree object from the repository by its SHA-1.
type treeLoader func(sha [20]byte) (*treeNode, error)

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
		return compareEntries(e.name, isDirMode(e.mode), name, dir) >= 0
	})
}

// find returns the index of the entry called name. Its position depends on
// whether it is a directory, which the caller does not know: look where a
// file would be, then where a directory would be.
func (n *treeNode) find(name string) (int, bool) {
	for _, dir := range [2]bool{false, true} {
		if i := n.search(name, dir); i < len(n.entries) && n.entries[i].name == name {
			return i, true
		}
	}
	return -1, false
}

// replace puts e at index i (if exists) or adds it, keeping the order: a
// file that becomes a directory, or the reverse, may move.
func (n *treeNode) replace(i int, exists bool, e nodeEntry) {
	if exists && isDirMode(n.entries[i].mode) == isDirMode(e.mode) {
		n.entries[i] = e
		return
	}
	if exists {
		n.entries = slices.Delete(n.entries, i, i+1)
	}
	n.entries = slices.Insert(n.entries, n.search(e.name, isDirMode(e.mode)), e)
}

// subtree returns the node of directory entry e, loading it on first use.
func (e *nodeEntry) subtree(load treeLoader) (*treeNode, error) {
	if e.sub == nil {
		sub, err := load(e.sha)
		if err != nil {
			return nil, err
		}
		e.sub = sub
	}
	return e.sub, nil
}

// set points path (relative to n) at (mode, sha) and reports whether that
// changed anything. Like fast-import, it creates missing directories,
// turns a file in the way into a new empty directory, and replaces a
// directory at path by the file.
func (n *treeNode) set(path string, mode uint32, sha [20]byte, load treeLoader) (bool, error) {
	name, rest, more := strings.Cut(path, "/")
	i, ok := n.find(name)
	if !more {
		if ok && !isDirMode(mode) && n.entries[i].mode == mode && n.entries[i].sha == sha {
			return false, nil
		}
		n.replace(i, ok, nodeEntry{name: name, mode: mode, sha: sha})
		n.dirty = true
		return true, nil
	}
	var sub *treeNode
	if ok && isDirMode(n.entries[i].mode) {
		var err error
		if sub, err = n.entries[i].subtree(load); err != nil {
			return false, err
		}
	} else {
		// fast-import starts an empty directory here, without loading
		// anything: a file, or nothing, was in the way.
		sub = &treeNode{}
		n.replace(i, ok, nodeEntry{name: name, mode: modeTreeBits, sub: sub})
	}
	changed, err := sub.set(rest, mode, sha, load)
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
		if !isDirMode(n.entries[i].mode) {
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
		buf = appendMode(buf, e.mode)
		buf = append(buf, ' ')
		buf = append(buf, e.name...)
		buf = append(buf, 0)
		buf = append(buf, e.sha[:]...)
	}
	return buf
}

// appendMode appends mode in octal without leading zeros, as Git (and
// fast-import, which normalizes "040000" to "40000") writes it.
func appendMode(buf []byte, mode uint32) []byte {
	switch mode {
	case 0o100644:
		return append(buf, "100644"...)
	case modeTreeBits:
		return append(buf, "40000"...)
	case 0o120000:
		return append(buf, "120000"...)
	}
	return strconv.AppendUint(buf, uint64(mode), 8)
}

// parseMode parses a mode as the interface passes it ("100644").
func parseMode(s string) (uint32, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || (s != modeFile && s != modeSymlink && s != "100755") {
		return 0, fmt.Errorf("unsupported file mode %q", s)
	}
	return uint32(m), nil
}

// parseTreeNode decodes a tree object into a node whose id is sha.
func parseTreeNode(data []byte, sha [20]byte) (*treeNode, error) {
	// One string for all names: each name is a slice of it, so a tree of
	// 5,000 entries costs one allocation for its names, not 5,000.
	all := string(data)
	n := &treeNode{sha: sha, entries: make([]nodeEntry, 0, len(data)/40)}
	for pos := 0; pos < len(all); {
		sp := strings.IndexByte(all[pos:], ' ')
		nul := strings.IndexByte(all[pos:], 0)
		if sp <= 0 || nul < sp || len(all) < pos+nul+21 {
			return nil, fmt.Errorf("malformed tree %x", sha)
		}
		mode, err := strconv.ParseUint(all[pos:pos+sp], 8, 32)
		if err != nil {
			return nil, fmt.Errorf("malformed tree %x: mode %q", sha, all[pos:pos+sp])
		}
		e := nodeEntry{name: all[pos+sp+1 : pos+nul], mode: uint32(mode)}
		copy(e.sha[:], data[pos+nul+1:pos+nul+21])
		n.entries = append(n.entries, e)
		pos += nul + 21
	}
	// fast-import sorts a tree it rewrites; a foreign tool may have stored
	// one out of order.
	less := func(a, b nodeEntry) int { return compareEntries(a.name, isDirMode(a.mode), b.name, isDirMode(b.mode)) }
	if !slices.IsSortedFunc(n.entries, less) {
		slices.SortStableFunc(n.entries, less)
	}
	return n, nil
}

// parseSHA decodes a 40-digit hexadecimal object id.
func parseSHA(s string) ([20]byte, bool) {
	var sha [20]byte
	if len(s) != 40 {
		return sha, false
	}
	_, err := hex.Decode(sha[:], []byte(s))
	return sha, err == nil
}
