package gitrepo

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/railyard-cd/railyard"
)

// TestOpenRemovesTemporaryFiles leaves what a killed export leaves in the
// repository and opens it again: the leftovers are gone, the packs are
// intact, and export goes on.
func TestOpenRemovesTemporaryFiles(t *testing.T) {
	t.Parallel()
	e := newLocalTestEnv(t)
	e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	e.must(releaseCmd("checkout", 1, "payments", "development"))
	e.sync()
	dir := e.x.Dir()
	packDir := filepath.Join(dir, "objects", "pack")
	list := func() []string {
		var names []string
		err := filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				names = append(names, rel)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		return names
	}
	// A restart releases the tail the last batch kept (its .keep goes):
	// the process that would have continued it is gone.
	var before []string
	for _, name := range list() {
		if filepath.Ext(name) != ".keep" {
			before = append(before, name)
		}
	}
	leftovers := []string{
		filepath.Join(packDir, "tmp_pack_Xy12ab"), // the pack writer's, and git's index-pack's
		filepath.Join(packDir, "tmp_idx_Qw34cd"),
		filepath.Join(packDir, "tmp_rev_Er56ef"),
		filepath.Join(packDir, "pack-0123456789abcdef0123456789abcdef01234567.pack"), // renamed, index never written
		filepath.Join(dir, "objects", "ab", "tmp_obj_Rt78gh"),                        // git's loose object
	}
	for _, p := range leftovers {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("PACK\x00\x00\x00\x02"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	e.x = e.newExporter() // a restart: Open
	after := list()
	if !slices.Equal(after, before) {
		t.Errorf("objects after Open:\n%v\nwant what was there before the leftovers:\n%v", after, before)
	}
	e.must(releaseCmd("checkout", 2, "payments", "development"))
	e.sync()
	assertTrailers(t, e, 3)
	fsck(t, dir)
}
