package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// Two updates in one group commit share a transaction: content the first
// stored and rolled back must be stored again by the second, not taken
// for present.
func TestGroupCommitForgetsRolledBackContent(t *testing.T) {
	t.Parallel()
	db := NewDB(filepath.Join(t.TempDir(), "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	errRefused := errors.New("refused")
	release := func(tx railyard.Tx) error {
		if err := tx.PutApplication(ctx, &railyard.Application{Name: "checkout", CreatedAt: time.Unix(0, 0).UTC()}); err != nil {
			return err
		}
		return tx.CreateRelease(ctx, &railyard.Release{Application: "checkout", Version: 1, CreatedAt: time.Unix(0, 0).UTC(),
			Manifests: map[string]string{"dev": "kind: Shared\n"}})
	}
	group := []*writeRequest{
		{ctx: ctx, fn: func(tx railyard.Tx) error {
			if err := release(tx); err != nil {
				return err
			}
			return errRefused
		}},
		{ctx: ctx, fn: release},
	}
	db.commitGroup(group)
	if !errors.Is(group[0].err, errRefused) || group[1].err != nil {
		t.Fatalf("results: got %v and %v, want %v and none", group[0].err, group[1].err, errRefused)
	}
	err := db.View(ctx, func(tx railyard.Tx) error {
		r, err := tx.FindRelease(ctx, "checkout", 1, true)
		if err != nil {
			return err
		}
		if want := map[string]string{"dev": "kind: Shared\n"}; !reflect.DeepEqual(r.Manifests, want) {
			t.Errorf("manifests: got %q, want %q", r.Manifests, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The SQL function sha256() that migration 0002 keys content with is Go's
// SHA-256 of a text's UTF-8 bytes or of a blob, and NULL for NULL.
func TestSQLSHA256(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("kind: é\n"))
	for _, tc := range []struct {
		in   any
		want any
	}{
		{"kind: é\n", sum[:]},
		{[]byte("kind: é\n"), sum[:]},
		{nil, nil},
	} {
		got, err := sqlSHA256(nil, []driver.Value{tc.in})
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("sha256(%q): got %x (%v), want %x", tc.in, got, err, tc.want)
		}
	}
	if _, err := sqlSHA256(nil, []driver.Value{int64(1)}); err == nil || err.Error() != "sha256: got a int64, want text or a blob" {
		t.Errorf("sha256(1): got error %v, want one saying it takes text or a blob", err)
	}
}
