package gitrepo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// removeTemporaryFiles removes what an export killed halfway leaves in
// the bare repository dir: unfinished packs and indexes (tmp_pack_*,
// tmp_idx_*, tmp_rev_*: the pack writer's and git's own names) and a
// pack whose index was never written in objects/pack, and git's
// unfinished loose objects (tmp_obj_*). Railyard is the only writer of
// its repository while it is open, so none of them belongs to a running
// process; left alone, they pile up with every kill.
func removeTemporaryFiles(dir string) error {
	objects := filepath.Join(dir, "objects")
	packDir := filepath.Join(objects, "pack")
	entries, err := os.ReadDir(packDir)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("clean up %s: %w", packDir, err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
	}
	var remove []string
	for name := range names {
		switch {
		case strings.HasPrefix(name, "tmp_pack_"), strings.HasPrefix(name, "tmp_idx_"), strings.HasPrefix(name, "tmp_rev_"):
			remove = append(remove, filepath.Join(packDir, name))
		case strings.HasPrefix(name, "pack-") && strings.HasSuffix(name, ".pack") && !names[strings.TrimSuffix(name, ".pack")+".idx"]:
			remove = append(remove, filepath.Join(packDir, name))
		}
	}
	loose, err := filepath.Glob(filepath.Join(objects, "??", "tmp_obj_*"))
	if err != nil {
		return err
	}
	for _, p := range append(remove, loose...) {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove the temporary file %s: %w", p, err)
		}
	}
	return nil
}
