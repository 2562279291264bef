package pack

import (
	"context"
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

// TestPackIndexMatchesIndexPack checks the index against the one Git
// computes from the pack, with and without 64-bit offsets.
func TestPackIndexMatchesIndexPack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p, err := createPackFile(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	w := &Writer{pack: p, trees: p, h: sha1.New(), versions: map[string]*treeVersion{}}
	for i := 0; i < 300; i++ {
		w.Blob([]byte(strings.Repeat(fmt.Sprintf("object %d\n", i), i)))
	}
	for i := 0; i < 60; i++ {
		n := &treeNode{dirty: true}
		for j := 0; j <= 40; j++ {
			n.set(fmt.Sprintf("f%03d", j), ModeFile, w.hashObject("blob", []byte(strconv.Itoa(i*j))), nil)
		}
		if err := w.writeTree(n, "t"); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := p.complete()
	if err != nil {
		t.Fatal(err)
	}
	g := &gitcli.Git{Dir: dir}
	for _, large := range []int64{maxOffset32, 5000} {
		var mine strings.Builder
		if err := writeIndex(&mine, p.objs, sum, large); err != nil {
			t.Fatal(err)
		}
		idx := filepath.Join(dir, fmt.Sprintf("git-%d.idx", large))
		if _, err := g.Run(context.Background(), "index-pack", fmt.Sprintf("--index-version=2,%d", large), "-o", idx, p.f.Name()); err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(idx)
		if err != nil {
			t.Fatal(err)
		}
		if mine.String() != string(want) {
			t.Errorf("index with 64-bit offsets above %d differs from git index-pack's (%d bytes, want %d)", large, mine.Len(), len(want))
		}
	}
}
