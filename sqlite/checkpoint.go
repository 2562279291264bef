package sqlite

import (
	"context"
	"fmt"
	"net/url"

	sqlitedriver "modernc.org/sqlite"
)

// Checkpoints off the write path. SQLite's automatic checkpoint runs
// inside the COMMIT that pushes the WAL past 1,000 pages: that commit
// copies every page of the WAL into the database file and fsyncs it before
// it returns, and so does every update grouped with it, which waits. Under
// a burst of releases (about 15 pages each) that was one group commit in
// ten, and the slowest answers (BENCHMARKS.md, "Ingest").
//
// So the write connection never checkpoints (wal_autocheckpoint=0), and a
// goroutine of the DB runs PASSIVE checkpoints on a connection of its own
// whenever the writer has written checkpointPages pages since the last
// one. A PASSIVE checkpoint neither waits for nor blocks the writer or the
// readers: it copies what no reader still needs, and the rest the next
// time. Durability is unchanged: a commit is durable once its WAL frames
// are fsynced (synchronous=FULL), which the commit still does itself; the
// checkpointer's connection has synchronous=FULL too, so it fsyncs the WAL
// before copying and the database file after. Closing the DB checkpoints
// the whole WAL, as before.

// checkpointPages is how many pages the writer writes to the WAL between
// two checkpoints: SQLite's default for its automatic checkpoint.
const checkpointPages = 1000

// checkpointer runs WAL checkpoints on its own connection.
type checkpointer struct {
	pool *pool
	// wake asks for a checkpoint; a request made while one is pending is
	// merged with it.
	wake chan struct{}
	// done is closed when the goroutine has returned.
	done chan struct{}
	// written counts pages written since the last request; only the
	// group leader touches it.
	written int
	// after, if set (tests only), is called after each checkpoint with
	// its error.
	after func(error)
}

// openCheckpointer opens the checkpoint connection and starts the
// goroutine. after may be nil.
func openCheckpointer(path string, after func(error)) (*checkpointer, error) {
	p, err := openPool(path, checkpointParams(), 1, nil)
	if err != nil {
		return nil, err
	}
	c := &checkpointer{pool: p, wake: make(chan struct{}, 1), done: make(chan struct{}), after: after}
	go c.run()
	return c, nil
}

// checkpointParams are the DSN parameters of the checkpoint connection. It
// reads and writes no table, so its page cache stays small.
func checkpointParams() url.Values {
	q := commonParams()
	q.Add("_pragma", "cache_size(-256)")
	return q
}

// run checkpoints once per request until wake is closed.
func (c *checkpointer) run() {
	defer close(c.done)
	for range c.wake {
		_, err := c.pool.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		if err != nil {
			err = fmt.Errorf("sqlite: checkpoint: %w", err)
		}
		// An error leaves the WAL longer until the next checkpoint, as an
		// automatic checkpoint's error would: nothing committed is at risk.
		if c.after != nil {
			c.after(err)
		}
	}
}

// wrote records that the writer wrote pages to the WAL, and asks for a
// checkpoint once checkpointPages have been written since the last
// request. Only the group leader calls it.
func (c *checkpointer) wrote(pages int) {
	c.written += pages
	if c.written < checkpointPages {
		return
	}
	c.written = 0
	select {
	case c.wake <- struct{}{}:
	default: // one is pending already: it will copy these pages too
	}
}

// close stops the goroutine, waiting for a running checkpoint, and closes
// the connection.
func (c *checkpointer) close() error {
	close(c.wake)
	<-c.done
	return c.pool.close()
}

// walPagesWritten returns the pages the write connection has written
// since the last call (SQLite's SQLITE_DBSTATUS_CACHE_WRITE, reset on
// read). It must be called between transactions: it takes the one write
// connection.
func (db *DB) walPagesWritten(ctx context.Context) (int, error) {
	conn, err := db.write.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var pages int
	err = conn.Raw(func(dc any) error {
		st, ok := dc.(sqlitedriver.DBStatus)
		if !ok {
			return fmt.Errorf("driver connection %T has no DBStatus", dc)
		}
		pages, _, err = st.Status(sqlitedriver.DBStatusCacheWrite, true)
		return err
	})
	return pages, err
}
