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
	findReleaseDigestSQL = `SELECT digest, created_at FROM releases
		WHERE application = ? AND version = ?`
	createRetiredReleaseSQL = `INSERT INTO retired_releases (` + retiredReleaseColumns + `)
		VALUES (?, ?, ?, ?, ?, ?)`
)

// RetireRelease deletes the release r names and records r, with the
// release's digest and creation time; ENOTFOUND if there is no such
// release. The manifest content stays: events reference it.
func (t *tx) RetireRelease(ctx context.Context, r *railyard.RetiredRelease) error {
	digest, published, err := t.releaseDigest(ctx, r.Application, r.Version)
	if err != nil {
		return wrap("retire release", err)
	}
	if _, err := t.exec(ctx, deleteReleaseSQL, r.Application, r.Version); err != nil {
		return wrap("retire release", err)
	}
	// A version cannot be retired twice: CreateRelease refuses a retired
	// one, so a conflict here is a bug worth failing on.
	_, err = t.exec(ctx, createRetiredReleaseSQL, r.Application, r.Version, digest, r.Reason,
		zeroNullMicros(published), micros(r.RetiredAt))
	if err != nil {
		return wrap("retire release", err)
	}
	r.Digest, r.PublishedAt = digest, published
	return nil
}

// releaseDigest returns the digest and creation time of a release;
// ENOTFOUND if there is none. A release stored before migration 0003 has
// no digest yet: it is computed from the release's content.
func (t *tx) releaseDigest(ctx context.Context, app string, version int64) (string, time.Time, error) {
	var (
		digest    string
		createdAt int64
	)
	err := t.queryRow(ctx, findReleaseDigestSQL, app, version).Scan(&digest, &createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, releaseNotFound(app, version)
	}
	if err != nil || digest != "" {
		return digest, fromMicros(createdAt), err
	}
	rel, err := t.FindRelease(ctx, app, version, true)
	if err != nil {
		return "", time.Time{}, err
	}
	return rel.Digest(), rel.CreatedAt, nil
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
