package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/railyard-cd/railyard"
)

const (
	applicationColumns = `name, team, created_at`

	findApplicationSQL  = `SELECT ` + applicationColumns + ` FROM applications WHERE name = ?`
	findApplicationsSQL = `SELECT ` + applicationColumns + ` FROM applications ORDER BY name`
	putApplicationSQL   = `INSERT INTO applications (` + applicationColumns + `) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET team = excluded.team, created_at = excluded.created_at`
	deleteApplicationSQL = `DELETE FROM applications WHERE name = ?`
	hasReleasesSQL       = `SELECT EXISTS (SELECT 1 FROM releases WHERE application = ?)`
)

// FindApplication returns ENOTFOUND if there is no such application.
func (t *tx) FindApplication(ctx context.Context, name string) (*railyard.Application, error) {
	app, err := scanApplication(t.queryRow(ctx, findApplicationSQL, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, applicationNotFound(name)
	}
	return app, wrap("find application", err)
}

// FindApplications returns every application, ordered by name.
func (t *tx) FindApplications(ctx context.Context) ([]*railyard.Application, error) {
	rows, err := t.query(ctx, findApplicationsSQL)
	if err != nil {
		return nil, wrap("find applications", err)
	}
	defer rows.Close()
	apps := []*railyard.Application{}
	for rows.Next() {
		app, err := scanApplication(rows)
		if err != nil {
			return nil, wrap("find applications", err)
		}
		apps = append(apps, app)
	}
	return apps, wrap("find applications", rows.Err())
}

// PutApplication creates or replaces an application. An upsert, because
// INSERT OR REPLACE would delete the row and with it, by the foreign key's
// cascade, every release of the application.
func (t *tx) PutApplication(ctx context.Context, app *railyard.Application) error {
	_, err := t.exec(ctx, putApplicationSQL, app.Name, app.Team, micros(app.CreatedAt))
	return wrap("put application", err)
}

// DeleteApplication deletes the application; ENOTFOUND if there is no
// such application, ECONFLICT if it still has releases, which must be
// retired first so that their versions are never used again. (The
// foreign key from releases would cascade, and forget them.)
func (t *tx) DeleteApplication(ctx context.Context, name string) error {
	var has bool
	if err := t.queryRow(ctx, hasReleasesSQL, name).Scan(&has); err != nil {
		return wrap("delete application", err)
	}
	if has {
		return railyard.Errorf(railyard.ECONFLICT, "application %q still has releases: retire them first", name)
	}
	n, err := t.execAffected(ctx, deleteApplicationSQL, name)
	if err != nil {
		return wrap("delete application", err)
	}
	if n == 0 {
		return applicationNotFound(name)
	}
	return nil
}

func scanApplication(s scanner) (*railyard.Application, error) {
	var (
		app       railyard.Application
		createdAt int64
	)
	if err := s.Scan(&app.Name, &app.Team, &createdAt); err != nil {
		return nil, err
	}
	app.CreatedAt = fromMicros(createdAt)
	return &app, nil
}

func applicationNotFound(name string) error {
	return railyard.Errorf(railyard.ENOTFOUND, "application %q not found", name)
}
