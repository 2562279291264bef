package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
)

// migrationFiles are the schema migrations, applied in file-name order.
// A migration is never edited once released: add a new file instead.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

const (
	createMigrationsTableSQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       TEXT NOT NULL PRIMARY KEY,
		applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
	)`
	findMigrationsSQL  = `SELECT name FROM schema_migrations`
	recordMigrationSQL = `INSERT INTO schema_migrations (name) VALUES (?)`
)

// migrate applies the migrations the database lacks, all in one
// transaction: a failed migration leaves the schema as it was, and two
// processes opening the same new file cannot both apply a migration (the
// write pool's BEGIN IMMEDIATE makes the second wait, then see it applied).
func migrate(ctx context.Context, db *sql.DB) error {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	slices.Sort(names)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer tx.Rollback()
	applied, err := appliedMigrations(ctx, tx, names)
	if err != nil {
		return err
	}
	for _, name := range names {
		if applied[path.Base(name)] {
			continue
		}
		if err := applyMigration(ctx, tx, name); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// appliedMigrations returns the names of the applied migrations. It fails
// on a migration this binary does not know: the database was written by a
// newer Railyard, whose schema this one must not touch.
func appliedMigrations(ctx context.Context, tx *sql.Tx, known []string) (map[string]bool, error) {
	if _, err := tx.ExecContext(ctx, createMigrationsTableSQL); err != nil {
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
	}
	rows, err := tx.QueryContext(ctx, findMigrationsSQL)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer rows.Close()
	applied := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("sqlite: migrate: %w", err)
		}
		if !slices.Contains(known, "migrations/"+name) {
			return nil, fmt.Errorf("sqlite: migrate: the database has migration %s, unknown to this version of Railyard: it was written by a newer version", name)
		}
		applied[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
	}
	return applied, nil
}

// applyMigration runs one migration file and records it.
func applyMigration(ctx context.Context, tx *sql.Tx, name string) error {
	script, err := fs.ReadFile(migrationFiles, name)
	if err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, string(script)); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, recordMigrationSQL, path.Base(name)); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", name, err)
	}
	return nil
}
