package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// The write connection never checkpoints (the pragma is in
// TestConnectionPragmas); the checkpointer does, once the writer has
// written checkpointPages pages, and copies them into the database file
// while the DB stays open. Everything written reads back after a reopen.
func TestCheckpointerCopiesTheWAL(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "railyard.db")
	db := NewDB(path)
	checkpointed := make(chan error, 16)
	db.afterCheckpoint = func(err error) { checkpointed <- err }
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	schemaOnly := fileSize(t, path)
	ctx := context.Background()
	at := time.Unix(0, 0).UTC()
	if err := db.Update(ctx, func(tx railyard.Tx) error {
		return tx.PutApplication(ctx, &railyard.Application{Name: "checkout", CreatedAt: at})
	}); err != nil {
		t.Fatal(err)
	}
	// 45 releases of a distinct 100 KB manifest: about 1,200 pages.
	const releases = 45
	manifest := func(v int) string { return fmt.Sprintf("v: %d\n", v) + strings.Repeat("k: value\n", 100<<10/9) }
	for v := 1; v <= releases; v++ {
		err := db.Update(ctx, func(tx railyard.Tx) error {
			return tx.CreateRelease(ctx, &railyard.Release{Application: "checkout", Version: int64(v), CreatedAt: at,
				Manifests: map[string]string{"dev": manifest(v)}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-checkpointed:
		if err != nil {
			t.Fatalf("checkpoint: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("no checkpoint after 1,500 pages written")
	}
	// Before the first checkpoint the database file held the schema only;
	// the checkpoint copied the releases written so far (some pages are
	// written more than once, so fewer than checkpointPages distinct ones).
	if got, min := fileSize(t, path), schemaOnly+2<<20; got < min {
		t.Errorf("database file after a checkpoint: %d bytes, want at least %d (schema only: %d)", got, min, schemaOnly)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err := db.View(ctx, func(tx railyard.Tx) error {
		for v := 1; v <= releases; v++ {
			r, err := tx.FindRelease(ctx, "checkout", int64(v), true)
			if err != nil {
				return err
			}
			if r.Manifests["dev"] != manifest(v) {
				t.Errorf("release %d: manifest differs after reopen", v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fileSize returns the size of the file at path.
func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}
