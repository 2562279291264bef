package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// pool is a database/sql pool with the statements prepared on it.
//
// Statements are prepared once, in Open, never lazily: preparing through
// the pool needs a free connection, and inside a transaction on the
// one-connection write pool there is none, so a lazy prepare would wait
// forever. Queries not in stmts (those built from a filter) run unprepared.
type pool struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt // read-only after prepare
}

// openPool opens a pool of at most size connections to path, checks that
// the file can be opened, and prepares queries.
func openPool(path string, params url.Values, size int, queries []string) (*pool, error) {
	name, err := dsn(path, params)
	if err != nil {
		return nil, err
	}
	drv, err := newDriver()
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector{driver: drv, dsn: name})
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(size)
	// Connections are cheap to keep and costly to reopen (the page cache
	// and prepared statements start empty), so they live as long as the DB.
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*busyTimeoutMillis*time.Millisecond)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	p := &pool{db: db, stmts: map[string]*sql.Stmt{}}
	if err := p.prepare(ctx, queries); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// prepare prepares queries on the pool.
func (p *pool) prepare(ctx context.Context, queries []string) error {
	for _, q := range queries {
		if _, ok := p.stmts[q]; ok {
			continue
		}
		s, err := p.db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", q, err)
		}
		p.stmts[q] = s
	}
	return nil
}

// close closes the prepared statements and the pool.
func (p *pool) close() error {
	var errs []error
	for _, s := range p.stmts {
		errs = append(errs, s.Close())
	}
	errs = append(errs, p.db.Close())
	return errors.Join(errs...)
}
