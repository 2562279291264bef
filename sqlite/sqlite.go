// Package sqlite implements railyard.Store on an embedded SQLite database,
// Railyard's default store, with the pure-Go driver modernc.org/sqlite.
//
// The database runs in WAL mode with synchronous=FULL, so a committed
// transaction survives a power loss (the API answers 201 only after the
// commit) while readers never block the writer. A DB keeps two pools:
//
//   - the write pool has exactly one connection and begins every transaction
//     with BEGIN IMMEDIATE, which serializes Update calls in this process and
//     takes SQLite's write lock up front, so that a read-modify-write never
//     fails half way with SQLITE_BUSY when another process writes too;
//   - the read pool has several query_only connections for View, each
//     transaction reading one consistent snapshot.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/railyard-cd/railyard"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// busyTimeoutMillis is how long a connection waits for another process's
// lock before failing with SQLITE_BUSY.
const busyTimeoutMillis = 10_000

// DB is a Railyard store in one SQLite file. Create it with NewDB, then
// Open it; it is safe for concurrent use by multiple goroutines. Update
// calls run one at a time; View calls run concurrently with each other and
// with an Update. An Update must not be called from inside another Update
// on the same DB: it would wait forever for the one write connection.
type DB struct {
	path   string
	write  *pool
	read   *pool
	writer writer
}

// Compile-time check that DB implements the domain's Store interface.
var _ railyard.Store = (*DB)(nil)

// NewDB returns a DB for the database file at path. It does not touch the
// file: call Open.
func NewDB(path string) *DB {
	return &DB{path: path}
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Open opens the database file, creating it if it does not exist (but not
// its directory), and migrates its schema to the newest version. Open and
// Close must not run concurrently with other methods.
func (db *DB) Open() error {
	if db.path == "" {
		return errors.New("sqlite: open: database path is empty")
	}
	if db.write != nil {
		return fmt.Errorf("sqlite: open %s: already open", db.path)
	}
	if err := checkDirectory(db.path); err != nil {
		return err
	}
	write, err := openWritePool(db.path)
	if err != nil {
		return err
	}
	read, err := openPool(db.path, readParams(), readPoolSize(), readQueries())
	if err != nil {
		write.close()
		return err
	}
	db.write, db.read = write, read
	return nil
}

// openWritePool opens the write connection and migrates the schema before
// preparing statements on it, which need the tables.
func openWritePool(path string) (*pool, error) {
	write, err := openPool(path, writeParams(), 1, nil)
	if err != nil {
		return nil, err
	}
	if err := migrate(context.Background(), write.db); err != nil {
		write.close()
		return nil, err
	}
	if err := write.prepare(context.Background(), writeQueries()); err != nil {
		write.close()
		return nil, err
	}
	return write, nil
}

// Close closes both pools. Closing the last connection checkpoints the
// write-ahead log into the database file.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.close())
		db.read = nil
	}
	if db.write != nil {
		errs = append(errs, db.write.close())
		db.write = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// View runs fn in a read-only transaction on the read pool; every read in
// it sees the same snapshot. Write methods return an error.
func (db *DB) View(ctx context.Context, fn func(railyard.Tx) error) error {
	if db.read == nil {
		return errors.New("sqlite: view: database is not open")
	}
	sqlTx, err := db.read.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	// A read-only transaction has nothing to commit.
	defer sqlTx.Rollback()
	return fn(&tx{tx: sqlTx, stmts: db.read.stmts})
}

// checkDirectory gives a clear error when the database's directory is
// missing, which SQLite would only report as "unable to open database file".
func checkDirectory(path string) error {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlite: open %s: directory %s does not exist", path, dir)
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("sqlite: open %s: %s is not a directory", path, dir)
	}
	return nil
}

// writeParams are the DSN parameters of the write connection. The driver
// applies busy_timeout first, so that switching to WAL can wait for
// another process.
func writeParams() url.Values {
	q := commonParams()
	q.Set("_journal_mode", "WAL")
	q.Set("_txlock", "immediate")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", writeCacheKiB))
	return q
}

// readParams are the DSN parameters of the read connections: query_only
// makes any write through them fail, whatever the SQL.
func readParams() url.Values {
	q := commonParams()
	q.Set("_query_only", "1")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", readCacheKiB))
	return q
}

// commonParams are the DSN parameters every connection needs. synchronous
// and foreign_keys are per connection in SQLite, so both pools set them.
func commonParams() url.Values {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeoutMillis))
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "1")
	// Double-quoted strings are identifiers, never a silent string literal.
	q.Set("_dqs", "0")
	q.Add("_pragma", "temp_store(MEMORY)")
	// Keep a checkpointed WAL from staying large on disk.
	q.Add("_pragma", "journal_size_limit(67108864)")
	return q
}

// Page cache per connection (SQLite's default is 2 MiB). The one write
// connection gets the most: it reads what every command touches. Each
// read connection holds its own cache, so theirs are small: together they
// bound the server's memory. The caches sit outside Go's heap, and most of
// what fills them under load is manifest content written or read once;
// the pages not cached come from the operating system's file cache.
// Measured with railyard-loadtest scenario (a) (BENCHMARKS.md, "Ingest"):
// write 16 MiB and read 4 MiB peaked at 108-113 MiB RSS, write 4 MiB and
// read 2 MiB at about 15 MiB less, at no more CPU per release.
const (
	writeCacheKiB = 4 << 10
	readCacheKiB  = 2 << 10
)

// dsn builds a file: URI for path, so that any file name, even one with
// '?' or '#' in it, reaches SQLite intact.
func dsn(path string, params url.Values) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: params.Encode()}
	return u.String(), nil
}

// readPoolSize is the number of read connections: enough for concurrent
// page renders, while each connection costs its own page cache.
func readPoolSize() int {
	return max(4, runtime.GOMAXPROCS(0))
}
