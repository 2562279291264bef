package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/railyard-cd/railyard"
)

// Group commit. Every commit of the write connection ends in an fsync of
// the WAL, which costs more than the work of a typical command. So Update
// calls that arrive while another group commits wait in a queue, and the
// next group applies all of them in ONE SQLite transaction, each inside its
// own savepoint, with one commit (one fsync) for the group:
//
//   - each fn still runs alone (serialized) and sees every change of the
//     updates before it, exactly as with one transaction each;
//   - an fn that fails (or panics) is rolled back to its savepoint and
//     gets its error; the others of the group are not affected;
//   - every caller returns only after the group's commit is durable, with
//     the commit's error if it failed;
//   - updates are applied in arrival order (first come, first served),
//     which also bounds the wait: the write connection is never handed to
//     a random waiter.
//
// No goroutine runs in the background: the first caller to find no group
// leader leads, commits the queue, and hands the lead to the oldest waiter
// before returning.
type writer struct {
	mu      sync.Mutex
	queue   []*writeRequest
	leading bool
}

// writeRequest is one Update waiting to be applied.
type writeRequest struct {
	ctx   context.Context
	fn    func(railyard.Tx) error
	err   error
	panic any
	// done is closed when the request has its result; lead receives a
	// token when the request must lead the next group.
	done chan struct{}
	lead chan struct{}
}

// maxGroup bounds how many updates one transaction holds.
const maxGroup = 128

// Update runs fn in a read-write transaction on the single write
// connection and commits it if fn returns nil. If fn returns an error or
// panics, or ctx has ended before fn runs, its changes are rolled back;
// fn's error is returned as it is and a panic is raised again here.
// If ctx ends while fn runs, fn's next statement fails with ctx's error;
// a statement already running is never interrupted, since that would roll
// back the whole group (see tx.statementContext). Concurrent calls are
// grouped into one commit (see writer).
func (db *DB) Update(ctx context.Context, fn func(railyard.Tx) error) error {
	if db.write == nil {
		return errors.New("sqlite: update: database is not open")
	}
	req := &writeRequest{ctx: ctx, fn: fn, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	w := &db.writer
	w.mu.Lock()
	w.queue = append(w.queue, req)
	if !w.leading {
		w.leading = true
		w.mu.Unlock()
		db.leadGroup()
	} else {
		w.mu.Unlock()
	}
	select {
	case <-req.done:
	case <-req.lead:
		db.leadGroup()
		<-req.done
	}
	if req.panic != nil {
		panic(req.panic)
	}
	return req.err
}

// leadGroup commits the queued updates as one group, then hands the lead
// to the oldest waiter, or gives it up when nobody waits.
func (db *DB) leadGroup() {
	w := &db.writer
	w.mu.Lock()
	n := min(len(w.queue), maxGroup)
	group := w.queue[:n:n]
	w.queue = w.queue[n:]
	w.mu.Unlock()

	db.commitGroup(group)
	for _, req := range group {
		close(req.done)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		w.leading = false
		return
	}
	w.queue[0].lead <- struct{}{}
}

// commitGroup applies the group's updates in one transaction and commits
// it, setting each request's result.
func (db *DB) commitGroup(group []*writeRequest) {
	// Not the callers' contexts: one caller giving up must not roll back
	// the others. A caller whose context has ended is skipped below.
	sqlTx, err := db.write.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, req := range group {
			req.err = fmt.Errorf("sqlite: begin: %w", err)
		}
		return
	}
	defer sqlTx.Rollback() // a no-op after Commit
	t := &tx{tx: sqlTx, stmts: db.write.stmts, writable: true}
	applied := 0
	for _, req := range group {
		if err := req.ctx.Err(); err != nil {
			req.err = err
			continue
		}
		if err := runInSavepoint(sqlTx, t, req); err != nil {
			// The connection cannot be trusted: fail what is left.
			for _, r := range group {
				if r.err == nil && r.panic == nil {
					r.err = err
				}
			}
			return
		}
		if req.err == nil && req.panic == nil {
			applied++
		}
	}
	if applied == 0 {
		return // nothing to keep: the deferred rollback ends it
	}
	if err := sqlTx.Commit(); err != nil {
		for _, req := range group {
			if req.err == nil && req.panic == nil {
				req.err = fmt.Errorf("sqlite: commit: %w", err)
			}
		}
	}
}

// runInSavepoint runs one update inside a savepoint, rolling back to it if
// the update fails or panics. It returns an error only when the savepoint
// itself fails, which leaves the transaction unusable.
func runInSavepoint(sqlTx *sql.Tx, t *tx, req *writeRequest) error {
	bg := context.Background()
	if _, err := sqlTx.ExecContext(bg, "SAVEPOINT railyard_update"); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	// What one update stored is not known to be stored for the next: a
	// failed update rolls its rows back.
	t.contents = contents{}
	req.panic, req.err = callUpdate(t, req.fn)
	if req.err != nil || req.panic != nil {
		if _, err := sqlTx.ExecContext(bg, "ROLLBACK TO railyard_update"); err != nil {
			return fmt.Errorf("sqlite: rollback to savepoint: %w", err)
		}
	}
	if _, err := sqlTx.ExecContext(bg, "RELEASE railyard_update"); err != nil {
		return fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	return nil
}

// callUpdate calls fn, catching a panic so that it can be raised again in
// the caller's goroutine instead of the group leader's.
func callUpdate(t *tx, fn func(railyard.Tx) error) (panicked any, err error) {
	defer func() {
		if v := recover(); v != nil {
			panicked = v
		}
	}()
	return nil, fn(t)
}
