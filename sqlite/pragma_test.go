package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// Each pool's connections carry the pragmas the store's guarantees rest
// on: synchronous=FULL (2) for durability, foreign keys for the cascades,
// a busy timeout, and query_only on the read pool.
func TestConnectionPragmas(t *testing.T) {
	t.Parallel()
	db := NewDB(filepath.Join(t.TempDir(), "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		pool   string
		db     *sql.DB
		pragma string
		want   int
	}{
		{"write", db.write.db, "synchronous", 2},
		{"write", db.write.db, "foreign_keys", 1},
		{"write", db.write.db, "busy_timeout", busyTimeoutMillis},
		{"write", db.write.db, "query_only", 0},
		{"read", db.read.db, "synchronous", 2},
		{"read", db.read.db, "foreign_keys", 1},
		{"read", db.read.db, "busy_timeout", busyTimeoutMillis},
		{"read", db.read.db, "query_only", 1},
	}
	for _, tt := range tests {
		var got int
		if err := tt.db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatalf("%s pool: PRAGMA %s: %v", tt.pool, tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("%s pool: PRAGMA %s: got %d, want %d", tt.pool, tt.pragma, got, tt.want)
		}
	}
}
