package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/sqlite"
	"github.com/railyard-cd/railyard/storetest"
)

// open opens a new database in a temporary directory, closed when the test
// ends.
func open(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatalf("Open: got error %v, want none", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: got error %v, want none", err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) railyard.Store {
		return open(t, filepath.Join(t.TempDir(), "railyard.db"))
	})
}

// Reopening a database applies no migration twice and keeps the data.
func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "railyard.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	app := &railyard.Application{Name: "checkout", Team: "payments", CreatedAt: time.UnixMicro(1_700_000_000_123_456).UTC()}
	err := db.Update(t.Context(), func(tx railyard.Tx) error {
		a := *app
		return tx.PutApplication(t.Context(), &a)
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range 2 {
		db := open(t, path)
		err := db.View(t.Context(), func(tx railyard.Tx) error {
			got, err := tx.FindApplication(t.Context(), "checkout")
			if err != nil {
				return err
			}
			if *got != *app {
				t.Errorf("application after reopening: got %+v, want %+v", got, app)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("View: %v", err)
		}
		if got, want := migrationCount(t, path), len(migrationNames(t)); got != want {
			t.Errorf("schema_migrations rows: got %d, want %d", got, want)
		}
		db.Close()
	}
}

// The database file is in WAL mode (the per-connection pragmas are checked
// in pragma_test.go).
func TestWAL(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "railyard.db")
	open(t, path)
	raw := rawDB(t, path)
	var mode string
	if err := raw.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode: got %q, want %q", mode, "wal")
	}
}

// Open names the missing directory instead of SQLite's "unable to open
// database file".
func TestOpenMissingDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "missing")
	err := sqlite.NewDB(filepath.Join(dir, "railyard.db")).Open()
	if err == nil || !strings.Contains(err.Error(), "directory "+dir+" does not exist") {
		t.Errorf("Open in a missing directory: got error %v, want one saying the directory does not exist", err)
	}
}

func TestOpenUnreadableFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "railyard.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	err := sqlite.NewDB(path).Open()
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Open of a file that is no database: got error %v, want one naming %s", err, path)
	}
}

// A path with characters that are special in URIs still names the file.
func TestOpenSpecialPath(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%chars")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rail yard.db")
	open(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v", err)
	}
}

// A database migrated by a newer Railyard is left alone.
func TestOpenNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "railyard.db")
	db := open(t, path)
	db.Close()
	raw := rawDB(t, path)
	if _, err := raw.Exec("INSERT INTO schema_migrations (name) VALUES ('9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	err := sqlite.NewDB(path).Open()
	if err == nil || !strings.Contains(err.Error(), "9999_future.sql") {
		t.Errorf("Open of a newer schema: got error %v, want one naming the unknown migration", err)
	}
}

// Using a DB that is not open is an error, not a nil-pointer panic.
func TestUpdateBeforeOpen(t *testing.T) {
	t.Parallel()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "railyard.db"))
	err := db.Update(context.Background(), func(railyard.Tx) error { return nil })
	if err == nil {
		t.Errorf("Update before Open: got no error, want one")
	}
}

// rawDB opens path without the store, for inspection.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// migrationNames returns the names of the migration files, in order.
func migrationNames(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func migrationCount(t *testing.T, path string) int {
	t.Helper()
	var n int
	if err := rawDB(t, path).QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenTwice(t *testing.T) {
	t.Parallel()
	db := open(t, filepath.Join(t.TempDir(), "railyard.db"))
	if err := db.Open(); err == nil {
		t.Errorf("second Open: got no error, want one")
	}
}

// Two DBs on one file, as two Railyard processes would be, still
// serialize their Updates: BEGIN IMMEDIATE takes the write lock before
// the first read, so a read-modify-write never fails half way with
// SQLITE_BUSY and no increment is lost.
func TestTwoDBsOnOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "railyard.db")
	dbs := []*sqlite.DB{open(t, path), open(t, path)}
	err := dbs[0].Update(t.Context(), func(tx railyard.Tx) error {
		return tx.PutApplication(t.Context(), &railyard.Application{Name: "counter", Team: "0"})
	})
	if err != nil {
		t.Fatal(err)
	}
	const perDB = 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*perDB)
	for _, db := range dbs {
		wg.Go(func() {
			for range perDB {
				errs <- db.Update(t.Context(), increment)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Update: got error %v, want none", err)
		}
	}
	err = dbs[1].View(t.Context(), func(tx railyard.Tx) error {
		app, err := tx.FindApplication(t.Context(), "counter")
		if err != nil {
			return err
		}
		if want := strconv.Itoa(2 * perDB); app.Team != want {
			t.Errorf("counter: got %s, want %s", app.Team, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// increment adds one to the counter kept in the team of application
// "counter".
func increment(tx railyard.Tx) error {
	ctx := context.Background()
	app, err := tx.FindApplication(ctx, "counter")
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(app.Team)
	if err != nil {
		return err
	}
	app.Team = strconv.Itoa(n + 1)
	return tx.PutApplication(ctx, app)
}
