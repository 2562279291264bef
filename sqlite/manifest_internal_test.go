package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"errors"
	"fmt"
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

// FindEvents reads the manifests of a batch's events together; one whose
// content row is gone (a damaged database) is named by its hash, and the
// events around it read in full.
func TestFindEventsMissingContent(t *testing.T) {
	t.Parallel()
	db := NewDB(filepath.Join(t.TempDir(), "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	manifests := []map[string]string{
		{"dev": "kind: One\n", "prod": "kind: Shared\n"},
		{"dev": "kind: Two\n", "prod": "kind: Shared\n"},
	}
	err := db.Update(ctx, func(tx railyard.Tx) error {
		for i, m := range manifests {
			rel := &railyard.Release{Application: "checkout", Version: int64(i + 1), Manifests: m}
			ev := &railyard.Event{Time: time.Unix(0, 0).UTC(), Actor: railyard.Actor{Name: "ci"}, Kind: railyard.KindReleaseCreate,
				Changes: []railyard.Change{{Op: railyard.ChangeReleaseCreate, Application: "checkout", Version: rel.Version, Release: rel}}}
			if err := tx.CreateEvent(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	find := func() ([]*railyard.Event, error) {
		var events []*railyard.Event
		err := db.View(ctx, func(tx railyard.Tx) error {
			var err error
			events, err = tx.FindEvents(ctx, railyard.EventFilter{Ascending: true})
			return err
		})
		return events, err
	}
	events, err := find()
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		if got := e.Changes[0].Release.Manifests; !reflect.DeepEqual(got, manifests[i]) {
			t.Errorf("event %d: manifests %q, want %q", e.ID, got, manifests[i])
		}
	}
	gone := sha256.Sum256([]byte("kind: Two\n"))
	if _, err := db.write.db.ExecContext(ctx, "DELETE FROM manifest_contents WHERE hash = ?", gone[:]); err != nil {
		t.Fatal(err)
	}
	_, err = find()
	want := fmt.Sprintf("sqlite: find events: event 2: manifest content sha256:%x is missing", gone)
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
