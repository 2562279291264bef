package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/railyard-cd/railyard"
)

const (
	retiredReleaseColumns = `application, version, digest, reason, published_at, retired_at`

	findRetiredReleaseSQL = `SELECT ` + retiredReleaseColumns + ` FROM retired_releases
		WHERE application = ? AND version = ?`
	isRetiredSQL = `SELECT EXISTS (SELECT 1 FROM retired_releases
		WHERE application = ? AND version = ?)`
	createRetiredReleaseSQL = `INSERT INTO retired_releases (` + retiredReleaseColumns + `)
		VALUES (?, ?, ?, ?, ?, ?)`
)

// RetireRelease deletes the release r names and records r; ENOTFOUND if
// there is no such release. The manifest content stays: events reference
// it.
func (t *tx) RetireRelease(ctx context.Context, r *railyard.RetiredRelease) error {
	n, err := t.execAffected(ctx, deleteReleaseSQL, r.Application, r.Version)
	if err != nil {
		return wrap("retire release", err)
	}
	if n == 0 {
		return releaseNotFound(r.Application, r.Version)
	}
	// A version cannot be retired twice: CreateRelease refuses a retired
	// one, so a conflict here is a bug worth failing on.
	_, err = t.exec(ctx, createRetiredReleaseSQL, r.Application, r.Version, r.Digest, r.Reason,
		zeroNullMicros(r.PublishedAt), micros(r.RetiredAt))
	return wrap("retire release", err)
}

// FindRetiredRelease returns ENOTFOUND if the version was never retired.
func (t *tx) FindRetiredRelease(ctx context.Context, app string, version int64) (*railyard.RetiredRelease, error) {
	var (
		r         railyard.RetiredRelease
		published sql.NullInt64
		retired   int64
	)
	err := t.queryRow(ctx, findRetiredReleaseSQL, app, version).Scan(&r.Application, &r.Version, &r.Digest,
		&r.Reason, &published, &retired)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, railyard.Errorf(railyard.ENOTFOUND, "release %d of application %q was never retired", version, app)
	}
	if err != nil {
		return nil, wrap("find retired release", err)
	}
	if published.Valid {
		r.PublishedAt = fromMicros(published.Int64)
	}
	r.RetiredAt = fromMicros(retired)
	return &r, nil
}

// refuseRetired returns ECONFLICT if the version is retired.
func (t *tx) refuseRetired(ctx context.Context, app string, version int64) error {
	var retired bool
	if err := t.queryRow(ctx, isRetiredSQL, app, version).Scan(&retired); err != nil {
		return err
	}
	if retired {
		return railyard.Errorf(railyard.ECONFLICT, "release %d of application %q was retired: versions are never reused", version, app)
	}
	return nil
}

// zeroNullMicros encodes a time that may be unknown: NULL for the zero
// time.
func zeroNullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}
