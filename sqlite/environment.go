package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/railyard-cd/railyard"
)

const (
	environmentColumns = `name, config, created_at, updated_at`

	findEnvironmentSQL  = `SELECT ` + environmentColumns + ` FROM environments WHERE name = ?`
	findEnvironmentsSQL = `SELECT ` + environmentColumns + ` FROM environments ORDER BY name`
	putEnvironmentSQL   = `INSERT INTO environments (` + environmentColumns + `) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET config = excluded.config,
			created_at = excluded.created_at, updated_at = excluded.updated_at`
	deleteEnvironmentSQL = `DELETE FROM environments WHERE name = ?`
)

// FindEnvironment returns ENOTFOUND if there is no such environment.
func (t *tx) FindEnvironment(ctx context.Context, name string) (*railyard.Environment, error) {
	env, err := scanEnvironment(t.queryRow(ctx, findEnvironmentSQL, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, environmentNotFound(name)
	}
	return env, wrap("find environment", err)
}

// FindEnvironments returns every environment, ordered by name.
func (t *tx) FindEnvironments(ctx context.Context) ([]*railyard.Environment, error) {
	rows, err := t.query(ctx, findEnvironmentsSQL)
	if err != nil {
		return nil, wrap("find environments", err)
	}
	defer rows.Close()
	envs := []*railyard.Environment{}
	for rows.Next() {
		env, err := scanEnvironment(rows)
		if err != nil {
			return nil, wrap("find environments", err)
		}
		envs = append(envs, env)
	}
	return envs, wrap("find environments", rows.Err())
}

// PutEnvironment creates or replaces an environment. An upsert rather than
// INSERT OR REPLACE, which would delete the row first.
func (t *tx) PutEnvironment(ctx context.Context, env *railyard.Environment) error {
	config, err := json.Marshal(env.Config)
	if err != nil {
		return wrap("put environment", err)
	}
	_, err = t.exec(ctx, putEnvironmentSQL, env.Name, string(config), micros(env.CreatedAt), micros(env.UpdatedAt))
	return wrap("put environment", err)
}

// DeleteEnvironment returns ENOTFOUND if there is no such environment.
func (t *tx) DeleteEnvironment(ctx context.Context, name string) error {
	n, err := t.execAffected(ctx, deleteEnvironmentSQL, name)
	if err != nil {
		return wrap("delete environment", err)
	}
	if n == 0 {
		return environmentNotFound(name)
	}
	return nil
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

func scanEnvironment(s scanner) (*railyard.Environment, error) {
	var (
		env                  railyard.Environment
		config               []byte
		createdAt, updatedAt int64
	)
	if err := s.Scan(&env.Name, &config, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(config, &env.Config); err != nil {
		return nil, err
	}
	env.CreatedAt, env.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &env, nil
}

func environmentNotFound(name string) error {
	return railyard.Errorf(railyard.ENOTFOUND, "environment %q not found", name)
}
