package sqlite_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// sha returns the lower-case hexadecimal SHA-256 of s.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestManifestsStoredOnce checks where manifest bytes go: each distinct
// content once in manifest_contents, whether environments share it,
// versions repeat it or an event carries it; release_manifests and events
// name it by hash.
func TestManifestsStoredOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "railyard.db")
	db := open(t, path)
	a := "kind: ConfigMap\ndata:\n  shared: \"<&>\"\n"
	b := "kind: ConfigMap\ndata:\n  production: true\n"
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for v := int64(1); v <= 3; v++ {
		rel := &railyard.Release{Application: "checkout", Version: v, CreatedAt: now,
			Manifests: map[string]string{"development": a, "staging": a, "production": b}}
		err := db.Update(t.Context(), func(tx railyard.Tx) error {
			if err := tx.PutApplication(t.Context(), &railyard.Application{Name: "checkout", CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.CreateRelease(t.Context(), rel); err != nil {
				return err
			}
			return tx.CreateEvent(t.Context(), &railyard.Event{Time: now, Actor: railyard.SystemActor, Kind: "release.create",
				Changes: []railyard.Change{{Op: railyard.ChangeReleaseCreate, Application: "checkout", Version: v, Release: rel}}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	raw := rawDB(t, path)
	assertRows(t, raw, "manifest contents", `SELECT lower(hex(hash)), content FROM manifest_contents ORDER BY content`,
		[]string{sha(b) + " " + b, sha(a) + " " + a})
	assertRows(t, raw, "release manifests of version 2",
		`SELECT environment, lower(hex(hash)) FROM release_manifests WHERE version = 2 ORDER BY environment`,
		[]string{"development " + sha(a), "production " + sha(b), "staging " + sha(a)})
	assertRows(t, raw, "the changes of event 2", `SELECT changes FROM events WHERE id = 2`, []string{
		`[{"op":"release.create","application":"checkout","version":2,"release":{"application":"checkout","version":2,` +
			`"environments":null,"createdAt":"2026-03-01T12:00:00Z","manifestSHA256":{"development":"` + sha(a) +
			`","production":"` + sha(b) + `","staging":"` + sha(a) + `"}}}]`,
	})
}

// assertRows checks the rows of a query, each row's columns joined by a
// space.
func assertRows(t *testing.T, raw *sql.DB, what, query string, want []string) {
	t.Helper()
	if got := queryRows(t, raw, query); !slices.Equal(got, want) {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

// queryRows returns the rows of query, each row's columns printed and
// joined by a space (NULL prints as <nil>).
func queryRows(t *testing.T, raw *sql.DB, query string) []string {
	t.Helper()
	rows, err := raw.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprint(v)
		}
		got = append(got, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}
