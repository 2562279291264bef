package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/railyard-cd/railyard"
)

// errReadOnly is returned by a write method called in a View transaction.
var errReadOnly = errors.New("write in a read-only (View) transaction")

// tx implements railyard.Tx on a database/sql transaction.
type tx struct {
	tx       *sql.Tx
	stmts    map[string]*sql.Stmt // the pool's prepared statements
	bound    map[string]*sql.Stmt // the statements bound to this transaction
	writable bool
	// contents are the manifest contents hashed and stored by the
	// current Update (see putContent).
	contents contents
}

// Compile-time check that tx implements the domain's Tx interface.
var _ railyard.Tx = (*tx)(nil)

// stmt returns the prepared statement for q bound to the transaction, or
// nil if q was not prepared. Binding is cached because database/sql
// allocates a new transaction statement on every call.
func (t *tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if s, ok := t.bound[q]; ok {
		return s
	}
	s, ok := t.stmts[q]
	if !ok {
		return nil
	}
	if t.bound == nil {
		t.bound = make(map[string]*sql.Stmt)
	}
	s = t.tx.StmtContext(ctx, s)
	t.bound[q] = s
	return s
}

// statementContext returns the context a statement runs with, or the
// caller's error if its context has ended. In a write transaction the
// statement itself runs with a context that is never canceled, and the
// caller's is checked here, between statements: a statement interrupted
// by its context makes SQLite roll back the whole transaction (what
// sqlite3_interrupt does to a write inside a transaction), which under
// group commit is every other update of the group. An update whose caller
// gives up fails at its next statement and is rolled back to its own
// savepoint. It also spares each statement the goroutine that the driver
// and database/sql start to watch a cancelable context. Reads (View) stay
// interruptible.
func (t *tx) statementContext(ctx context.Context) (context.Context, error) {
	if !t.writable {
		return ctx, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// query runs q, prepared if it can be.
func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx, err := t.statementContext(ctx)
	if err != nil {
		return nil, err
	}
	if s := t.stmt(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

// queryRow runs q, prepared if it can be, for at most one row.
func (t *tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	sctx, err := t.statementContext(ctx)
	if err != nil {
		// A Row carries an error only from a query: database/sql fails
		// this one at once with the ended context's error.
		return t.tx.QueryRowContext(ctx, q, args...)
	}
	ctx = sctx
	if s := t.stmt(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

// exec runs the write q, prepared if it can be. It fails in a View
// transaction before reaching the database.
func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if !t.writable {
		return nil, errReadOnly
	}
	ctx, err := t.statementContext(ctx)
	if err != nil {
		return nil, err
	}
	if s := t.stmt(ctx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

// execAffected runs the write q and returns the number of rows it changed.
func (t *tx) execAffected(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// wrap adds the package and operation to an infrastructure error. Domain
// errors pass through unchanged, so their codes and messages survive.
func wrap(op string, err error) error {
	if err == nil || railyard.AsError(err) != nil {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// micros encodes a time as the integer stored in the database.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros decodes a stored time. UTC without a monotonic reading, so
// that a normalized time read back is == (and reflect.DeepEqual) to the
// time written.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros encodes an optional time: NULL for nil.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// timePtr decodes an optional stored time.
func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullInt encodes an optional integer: NULL for nil.
func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// boolInt encodes a boolean as SQLite's 0 or 1.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
