package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/railyard-cd/railyard"
)

const (
	lockColumns = `environment, kind, application, team, id, message, created_by_name,
		created_by_email, created_at, ci_link, expires_at`

	putLockSQL = `INSERT INTO locks (` + lockColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (environment, kind, application, team, id) DO UPDATE SET
			message = excluded.message, created_by_name = excluded.created_by_name,
			created_by_email = excluded.created_by_email, created_at = excluded.created_at,
			ci_link = excluded.ci_link, expires_at = excluded.expires_at`
	deleteLockSQL = `DELETE FROM locks
		WHERE environment = ? AND kind = ? AND application = ? AND team = ? AND id = ?`
)

// FindLocks returns matching locks ordered by environment, kind,
// application, team, then id: the primary key's order.
func (t *tx) FindLocks(ctx context.Context, filter railyard.LockFilter) ([]*railyard.Lock, error) {
	q, args := locksQuery(filter)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, wrap("find locks", err)
	}
	defer rows.Close()
	locks := []*railyard.Lock{}
	for rows.Next() {
		l, err := scanLock(rows)
		if err != nil {
			return nil, wrap("find locks", err)
		}
		locks = append(locks, l)
	}
	return locks, wrap("find locks", rows.Err())
}

// PutLock creates or replaces the lock with the same key.
func (t *tx) PutLock(ctx context.Context, l *railyard.Lock) error {
	_, err := t.exec(ctx, putLockSQL, l.Environment, string(l.Kind), l.Application, l.Team, l.ID,
		l.Message, l.CreatedBy.Name, l.CreatedBy.Email, micros(l.CreatedAt), l.CILink,
		nullMicros(l.ExpiresAt))
	return wrap("put lock", err)
}

// DeleteLock returns ENOTFOUND if there is no such lock.
func (t *tx) DeleteLock(ctx context.Context, key railyard.LockKey) error {
	n, err := t.execAffected(ctx, deleteLockSQL, key.Environment, string(key.Kind), key.Application, key.Team, key.ID)
	if err != nil {
		return wrap("delete lock", err)
	}
	if n == 0 {
		return lockNotFound(key)
	}
	return nil
}

// locksQuery builds the query for a filter; like deploymentsQuery, its
// text depends only on which fields are set.
func locksQuery(f railyard.LockFilter) (string, []any) {
	var w where
	w.eq("environment", f.Environment)
	w.eq("kind", string(f.Kind))
	w.eq("application", f.Application)
	w.eq("team", f.Team)
	w.eq("id", f.ID)
	return `SELECT ` + lockColumns + ` FROM locks` + w.clause() +
		` ORDER BY environment, kind, application, team, id`, w.args
}

// lockQueries lists every query locksQuery can build: one per subset of
// the five filter fields.
func lockQueries() []string {
	var qs []string
	for set := range 1 << 5 {
		pick := func(bit int) string {
			if set&(1<<bit) != 0 {
				return "x"
			}
			return ""
		}
		q, _ := locksQuery(railyard.LockFilter{
			Environment: pick(0), Kind: railyard.LockKind(pick(1)), Application: pick(2),
			Team: pick(3), ID: pick(4),
		})
		qs = append(qs, q)
	}
	return qs
}

func scanLock(s scanner) (*railyard.Lock, error) {
	var (
		l         railyard.Lock
		createdAt int64
		expiresAt sql.NullInt64
	)
	err := s.Scan(&l.Environment, &l.Kind, &l.Application, &l.Team, &l.ID, &l.Message,
		&l.CreatedBy.Name, &l.CreatedBy.Email, &createdAt, &l.CILink, &expiresAt)
	if err != nil {
		return nil, err
	}
	l.CreatedAt = fromMicros(createdAt)
	l.ExpiresAt = timePtr(expiresAt)
	return &l, nil
}

// lockNotFound names the lock the way a user thinks of it: by id, with the
// application or team it holds back.
func lockNotFound(key railyard.LockKey) error {
	var what string
	switch key.Kind {
	case railyard.LockEnvironment:
		what = fmt.Sprintf("lock %q", key.ID)
	case railyard.LockApplication:
		what = fmt.Sprintf("lock %q of application %q", key.ID, key.Application)
	case railyard.LockTeam:
		what = fmt.Sprintf("lock %q of team %q", key.ID, key.Team)
	default:
		what = fmt.Sprintf("%s lock %q", key.Kind, key.ID)
	}
	return railyard.Errorf(railyard.ENOTFOUND, "%s not found in environment %q", what, key.Environment)
}
