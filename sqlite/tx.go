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

// statementContext is the context a statement runs with. In a write
// transaction it is never canceled: Update checks the caller's context
// before fn runs, and after that a statement interrupted by its caller's
// context would make SQLite roll back the whole transaction (what
// sqlite3_interrupt does to a write in a transaction), that is every other
// update of the group commit. It also spares each statement the goroutine
// that the driver and database/sql start to watch a cancelable context.
// Reads (View) stay cancelable.
func (t *tx) statementContext(ctx context.Context) context.Context {
	if t.writable {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// query runs q, prepared if it can be.
func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = t.statementContext(ctx)
	if s := t.stmt(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

// queryRow runs q, prepared if it can be, for at most one row.
func (t *tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = t.statementContext(ctx)
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
	ctx = t.statementContext(ctx)
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
