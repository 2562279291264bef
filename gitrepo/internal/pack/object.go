package pack

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ID is the SHA-1 of a Git object.
type ID [20]byte

// ParseID parses an object id written as 40 hexadecimal digits.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("invalid object id %q", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("invalid object id %q", s)
	}
	return id, nil
}

// String returns the id as Git prints it: 40 hexadecimal digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the zero id, which names no object.
func (id ID) IsZero() bool { return id == ID{} }

// Mode is the mode of a tree entry, as Git stores it (in octal).
type Mode uint32

// The modes Git writes.
const (
	ModeFile       Mode = 0o100644
	ModeExecutable Mode = 0o100755
	ModeSymlink    Mode = 0o120000
	ModeDir        Mode = 0o040000
)

// modeTypeMask selects the type bits of a mode (Git's S_IFMT).
const modeTypeMask = 0o170000

// IsDir reports whether m is a directory's (Git's S_ISDIR).
func (m Mode) IsDir() bool { return m&modeTypeMask == ModeDir }

// isBlob reports whether m is one a file can have: what Writer.Put
// accepts, as fast-import does.
func (m Mode) isBlob() bool {
	return m == ModeFile || m == ModeExecutable || m == ModeSymlink
}

// String returns m in octal without leading zeros, as Git writes it in a
// tree ("40000" for a directory) and as fast-import reads it.
func (m Mode) String() string { return string(m.appendTo(nil)) }

// appendTo appends m as String writes it.
func (m Mode) appendTo(buf []byte) []byte {
	switch m {
	case ModeFile:
		return append(buf, "100644"...)
	case ModeDir:
		return append(buf, "40000"...)
	case ModeSymlink:
		return append(buf, "120000"...)
	}
	return strconv.AppendUint(buf, uint64(m), 8)
}

// Signature is the author or committer of a commit. Its time is written
// in UTC (+0000), to the second.
type Signature struct {
	Name, Email string
	When        time.Time
}

// String returns "Name <Email>", as Git shows an identity.
func (s Signature) String() string { return s.Name + " <" + s.Email + ">" }

// Commit is what a commit holds besides its tree and parent.
type Commit struct {
	Author, Committer Signature
	// Message is written as given: it should end with a newline.
	Message string
}

// Entry is one entry of a tree object.
type Entry struct {
	Name string
	Mode Mode
	ID   ID
}

// ParseTree decodes a tree object: entries of "<octal mode> <name>\0"
// and a 20-byte id.
func ParseTree(data []byte) ([]Entry, error) {
	entries := make([]Entry, 0, len(data)/40)
	err := scanTree(data, func(e Entry) { entries = append(entries, e) })
	return entries, err
}

// scanTree calls f with each entry of the tree object data. The names are
// slices of one string: a tree of 5,000 entries costs one allocation for
// its names, not 5,000.
func scanTree(data []byte, f func(Entry)) error {
	all := string(data)
	for pos := 0; pos < len(all); {
		sp := strings.IndexByte(all[pos:], ' ')
		nul := strings.IndexByte(all[pos:], 0)
		if sp <= 0 || nul < sp || len(all) < pos+nul+21 {
			return fmt.Errorf("malformed tree")
		}
		mode, err := strconv.ParseUint(all[pos:pos+sp], 8, 32)
		if err != nil {
			return fmt.Errorf("malformed tree: mode %q", all[pos:pos+sp])
		}
		e := Entry{Name: all[pos+sp+1 : pos+nul], Mode: Mode(mode)}
		copy(e.ID[:], data[pos+nul+1:pos+nul+21])
		f(e)
		pos += nul + 21
	}
	return nil
}
