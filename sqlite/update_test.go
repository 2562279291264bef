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

// TestUpdateCanceledWhileRunningFailsAlone: an update whose caller gives
// up half way fails at its next statement and is rolled back to its own
// savepoint; the updates grouped with it, before and after, commit.
// Statements of a write transaction never see a cancelable context (a
// statement interrupted by it would make SQLite roll back the group's
// whole transaction); the caller's context is checked between statements.
func TestUpdateCanceledWhileRunningFailsAlone(t *testing.T) {
	t.Parallel()
	db := NewDB(filepath.Join(t.TempDir(), "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	put := func(ctx context.Context, tx railyard.Tx, name string) error {
		return tx.PutApplication(ctx, &railyard.Application{Name: name, CreatedAt: time.Unix(0, 0).UTC()})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var sawCancelable bool
	group := []*writeRequest{
		{ctx: context.Background(), fn: func(tx railyard.Tx) error { return put(context.Background(), tx, "before") }},
		{ctx: ctx, fn: func(rtx railyard.Tx) error {
			if err := put(ctx, rtx, "canceled-1"); err != nil {
				return err
			}
			sctx, err := rtx.(*tx).statementContext(ctx)
			sawCancelable = err != nil || sctx.Done() != nil
			cancel() // the caller gives up half way
			return put(ctx, rtx, "canceled-2")
		}},
		{ctx: context.Background(), fn: func(tx railyard.Tx) error { return put(context.Background(), tx, "after") }},
	}
	db.commitGroup(group)
	if sawCancelable {
		t.Error("a statement of a write transaction ran with a cancelable context")
	}
	for i, req := range group {
		want := error(nil)
		if i == 1 {
			want = context.Canceled
		}
		if !errors.Is(req.err, want) || (want == nil && req.err != nil) || req.panic != nil {
			t.Errorf("update %d: got %v (panic %v), want %v", i, req.err, req.panic, want)
		}
	}
	var got []string
	err := db.View(context.Background(), func(tx railyard.Tx) error {
		apps, err := tx.FindApplications(context.Background())
		for _, a := range apps {
			got = append(got, a.Name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "after,before"; strings.Join(got, ",") != want {
		t.Errorf("applications: got %v, want %s", got, want)
	}
}
