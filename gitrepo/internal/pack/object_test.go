package pack_test

import (
	"strings"
	"testing"

	"github.com/railyard-cd/railyard/gitrepo/internal/pack"
)

// TestParseID parses ids and refuses what is not 40 hexadecimal digits.
func TestParseID(t *testing.T) {
	t.Parallel()
	const hex = "0123456789abcdef0123456789abcdef01234567"
	id, err := pack.ParseID(hex)
	if err != nil || id.String() != hex || id.IsZero() {
		t.Errorf("ParseID(%s): got %s, %v", hex, id, err)
	}
	if upper, err := pack.ParseID(strings.ToUpper(hex)); err != nil || upper != id {
		t.Errorf("ParseID of upper case: got %s, %v", upper, err)
	}
	for _, s := range []string{"", hex[:39], hex + "0", ":1", strings.Repeat("g", 40)} {
		if _, err := pack.ParseID(s); err == nil || err.Error() != `invalid object id "`+s+`"` {
			t.Errorf("ParseID(%q): got %v", s, err)
		}
	}
	if !(pack.ID{}).IsZero() {
		t.Error("the zero ID is not zero")
	}
}

// TestModeString writes modes as Git writes them in a tree.
func TestModeString(t *testing.T) {
	t.Parallel()
	for mode, want := range map[pack.Mode]string{
		pack.ModeFile: "100644", pack.ModeExecutable: "100755", pack.ModeSymlink: "120000", pack.ModeDir: "40000", 0o160000: "160000",
	} {
		if got := mode.String(); got != want {
			t.Errorf("%o: got %q, want %q", uint32(mode), got, want)
		}
		if got, want := mode.IsDir(), mode == pack.ModeDir; got != want {
			t.Errorf("%o: IsDir %v, want %v", uint32(mode), got, want)
		}
	}
}

// TestParseTree reads a tree object, and refuses a malformed one.
func TestParseTree(t *testing.T) {
	t.Parallel()
	a, _ := pack.ParseID("0123456789abcdef0123456789abcdef01234567")
	b, _ := pack.ParseID("89abcdef0123456789abcdef0123456789abcdef")
	data := "100644 a.yaml\x00" + string(a[:]) + "40000 dir\x00" + string(b[:])
	got, err := pack.ParseTree([]byte(data))
	want := []pack.Entry{{Name: "a.yaml", Mode: pack.ModeFile, ID: a}, {Name: "dir", Mode: pack.ModeDir, ID: b}}
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %v, %v, want %v", got, err, want)
	}
	for _, bad := range []string{"100644 a", "100644 a\x00" + string(a[:19]), "1x0644 a\x00" + string(a[:]), " a\x00" + string(a[:])} {
		if _, err := pack.ParseTree([]byte(bad)); err == nil {
			t.Errorf("ParseTree(%q): got no error", bad)
		}
	}
}
