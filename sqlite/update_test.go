package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// TestGroupCommitIsolatesUpdates runs many concurrent updates, some of
// which fail or panic after writing: each failure must undo exactly its
// own writes, and every successful update must be committed.
func TestGroupCommitIsolatesUpdates(t *testing.T) {
	t.Parallel()
	db := NewDB(filepath.Join(t.TempDir(), "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	errFail := errors.New("refused")
	var wg sync.WaitGroup
	results := make([]string, 64)
	for i := range results {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					results[i] = fmt.Sprint("panic: ", v)
				}
			}()
			err := db.Update(ctx, func(tx railyard.Tx) error {
				app := &railyard.Application{Name: fmt.Sprintf("app-%02d", i), CreatedAt: time.Unix(0, 0).UTC()}
				if err := tx.PutApplication(ctx, app); err != nil {
					return err
				}
				switch {
				case i%5 == 0:
					return errFail
				case i%7 == 0:
					panic(fmt.Sprintf("boom %d", i))
				}
				return nil
			})
			switch {
			case errors.Is(err, errFail):
				results[i] = "failed"
			case err != nil:
				results[i] = "error: " + err.Error()
			default:
				results[i] = "ok"
			}
		})
	}
	wg.Wait()
	var want []string
	for i, r := range results {
		switch {
		case i%5 == 0 && r != "failed":
			t.Errorf("update %d: got %q, want failed", i, r)
		case i%5 != 0 && i%7 == 0 && r != fmt.Sprintf("panic: boom %d", i):
			t.Errorf("update %d: got %q, want its panic", i, r)
		case i%5 != 0 && i%7 != 0:
			if r != "ok" {
				t.Errorf("update %d: got %q, want ok", i, r)
			}
			want = append(want, fmt.Sprintf("app-%02d", i))
		}
	}
	var got []string
	err := db.View(ctx, func(tx railyard.Tx) error {
		apps, err := tx.FindApplications(ctx)
		for _, a := range apps {
			got = append(got, a.Name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("applications:\ngot  %v\nwant %v", got, want)
	}
}

// TestUpdateWithEndedContext skips an update whose caller gave up before
// it ran, without affecting the others.
func TestUpdateWithEndedContext(t *testing.T) {
	t.Parallel()
	db := NewDB(filepath.Join(t.TempDir(), "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := db.Update(ctx, func(railyard.Tx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("got %v (ran %v), want context.Canceled without running", err, ran)
	}
	if err := db.Update(context.Background(), func(tx railyard.Tx) error {
		return tx.PutApplication(context.Background(), &railyard.Application{Name: "a", CreatedAt: time.Unix(0, 0).UTC()})
	}); err != nil {
		t.Fatal(err)
	}
}
