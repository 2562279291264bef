package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"

	"github.com/railyard-cd/railyard"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	releaseColumns = `application, version, environments, team, source_commit_id, source_author,
		source_message, source_branch, display_version, ci_link, undeploy, created_at`

	findReleaseSQL = `SELECT ` + releaseColumns + ` FROM releases WHERE application = ? AND version = ?`
	// A negative LIMIT is no limit in SQLite, so one statement serves both.
	findReleasesSQL = `SELECT ` + releaseColumns + ` FROM releases
		WHERE application = ? ORDER BY version DESC LIMIT ?`
	findAllReleasesSQL = `SELECT ` + releaseColumns + ` FROM releases
		ORDER BY application, version DESC LIMIT ?`
	findReleaseManifestsSQL = `SELECT m.environment, c.content FROM release_manifests AS m
		JOIN manifest_contents AS c ON c.hash = m.hash
		WHERE m.application = ? AND m.version = ?`
	findReleasesManifestsSQL = `SELECT m.version, m.environment, c.content FROM release_manifests AS m
		JOIN manifest_contents AS c ON c.hash = m.hash
		WHERE m.application = ? AND m.version >= ?`
	// The highest version in use or retired: one more was never used.
	maxReleaseVersionSQL = `SELECT max(
		COALESCE((SELECT max(version) FROM releases WHERE application = ?1), 0),
		COALESCE((SELECT max(version) FROM retired_releases WHERE application = ?1), 0))`
	createReleaseSQL = `INSERT INTO releases (` + releaseColumns + `, digest)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	createReleaseManifestSQL = `INSERT INTO release_manifests (application, version, environment, hash)
		VALUES (?, ?, ?, ?)`
	// Deleting the release cascades to its release_manifests rows, not to
	// their content.
	deleteReleaseSQL = `DELETE FROM releases WHERE application = ? AND version = ?`
)

// FindRelease returns ENOTFOUND if the application has no such version.
func (t *tx) FindRelease(ctx context.Context, app string, version int64, withManifests bool) (*railyard.Release, error) {
	r, err := scanRelease(t.queryRow(ctx, findReleaseSQL, app, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, releaseNotFound(app, version)
	}
	if err != nil {
		return nil, wrap("find release", err)
	}
	if withManifests {
		if r.Manifests, err = t.releaseManifests(ctx, app, version); err != nil {
			return nil, wrap("find release", err)
		}
	}
	return r, nil
}

// FindReleases returns the releases of filter.Application, newest first;
// with no application, the releases of every application ordered by
// application, then newest first.
func (t *tx) FindReleases(ctx context.Context, filter railyard.ReleaseFilter) ([]*railyard.Release, error) {
	limit := int64(filter.Limit)
	if limit <= 0 {
		limit = -1
	}
	var rows *sql.Rows
	var err error
	if filter.Application == "" {
		rows, err = t.query(ctx, findAllReleasesSQL, limit)
	} else {
		rows, err = t.query(ctx, findReleasesSQL, filter.Application, limit)
	}
	if err != nil {
		return nil, wrap("find releases", err)
	}
	releases, err := scanReleases(rows)
	if err != nil {
		return nil, wrap("find releases", err)
	}
	if filter.WithManifests {
		if err := t.loadManifests(ctx, filter.Application, releases); err != nil {
			return nil, wrap("find releases", err)
		}
	}
	return releases, nil
}

// MaxReleaseVersion returns the highest version of the application, or 0.
func (t *tx) MaxReleaseVersion(ctx context.Context, app string) (int64, error) {
	var v int64
	err := t.queryRow(ctx, maxReleaseVersionSQL, app).Scan(&v)
	return v, wrap("max release version", err)
}

// CreateRelease stores a new release with its manifests and its digest;
// ECONFLICT if that version exists or is retired, ENOTFOUND if the
// application does not. The stored Environments are the sorted keys of
// r.Manifests, whatever r.Environments says, so that the two can never
// disagree. The digest is computed from the manifests' hashes, which
// storing them needs anyway.
func (t *tx) CreateRelease(ctx context.Context, r *railyard.Release) error {
	envs := sortedKeys(r.Manifests)
	envsJSON, err := json.Marshal(envs)
	if err != nil {
		return wrap("create release", err)
	}
	if err := t.refuseRetired(ctx, r.Application, r.Version); err != nil {
		return wrap("create release", err)
	}
	_, err = t.exec(ctx, createReleaseSQL, r.Application, r.Version, string(envsJSON), r.Team,
		r.SourceCommitID, r.SourceAuthor, r.SourceMessage, r.SourceBranch, r.DisplayVersion,
		r.CILink, boolInt(r.Undeploy), micros(r.CreatedAt), r.DigestFromHashes(t.manifestSHA256))
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return railyard.Errorf(railyard.ECONFLICT, "release %d of application %q already exists", r.Version, r.Application)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return applicationNotFound(r.Application)
	}
	if err != nil {
		return wrap("create release", err)
	}
	for _, env := range envs {
		h, err := t.putContent(ctx, r.Manifests[env])
		if err != nil {
			return wrap("create release", err)
		}
		if _, err := t.exec(ctx, createReleaseManifestSQL, r.Application, r.Version, env, h[:]); err != nil {
			return wrap("create release", err)
		}
	}
	return nil
}

// releaseManifests returns one release's manifests, never nil.
func (t *tx) releaseManifests(ctx context.Context, app string, version int64) (map[string]string, error) {
	rows, err := t.query(ctx, findReleaseManifestsSQL, app, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	manifests := map[string]string{}
	for rows.Next() {
		var env, content string
		if err := rows.Scan(&env, &content); err != nil {
			return nil, err
		}
		manifests[env] = content
	}
	return manifests, rows.Err()
}

// loadManifests fills in the manifests of releases. For one application
// it reads them with one query over the versions listed.
func (t *tx) loadManifests(ctx context.Context, app string, releases []*railyard.Release) error {
	if app == "" || len(releases) == 0 {
		for _, r := range releases {
			m, err := t.releaseManifests(ctx, r.Application, r.Version)
			if err != nil {
				return err
			}
			r.Manifests = m
		}
		return nil
	}
	byVersion := make(map[int64]*railyard.Release, len(releases))
	for _, r := range releases {
		r.Manifests = map[string]string{}
		byVersion[r.Version] = r
	}
	// Newest first, so the last release has the lowest version.
	rows, err := t.query(ctx, findReleasesManifestsSQL, app, releases[len(releases)-1].Version)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var version int64
		var env, content string
		if err := rows.Scan(&version, &env, &content); err != nil {
			return err
		}
		if r, ok := byVersion[version]; ok {
			r.Manifests[env] = content
		}
	}
	return rows.Err()
}

func scanReleases(rows *sql.Rows) ([]*railyard.Release, error) {
	defer rows.Close()
	releases := []*railyard.Release{}
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, err
		}
		releases = append(releases, r)
	}
	return releases, rows.Err()
}

func scanRelease(s scanner) (*railyard.Release, error) {
	var (
		r         railyard.Release
		envs      []byte
		undeploy  int64
		createdAt int64
	)
	err := s.Scan(&r.Application, &r.Version, &envs, &r.Team, &r.SourceCommitID, &r.SourceAuthor,
		&r.SourceMessage, &r.SourceBranch, &r.DisplayVersion, &r.CILink, &undeploy, &createdAt)
	if err != nil {
		return nil, err
	}
	// Unmarshalling "[]" gives an empty, non-nil slice: Environments is
	// never nil.
	if err := json.Unmarshal(envs, &r.Environments); err != nil {
		return nil, err
	}
	r.Undeploy = undeploy != 0
	r.CreatedAt = fromMicros(createdAt)
	return &r, nil
}

func releaseNotFound(app string, version int64) error {
	return railyard.Errorf(railyard.ENOTFOUND, "release %d of application %q not found", version, app)
}

// sqliteCode returns SQLite's extended result code of err, or 0.
func sqliteCode(err error) int {
	var e *sqlitedriver.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// sortedKeys returns the keys of m in order; empty, never nil.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
