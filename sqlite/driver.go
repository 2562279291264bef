package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"fmt"

	sqlitedriver "modernc.org/sqlite"
)

// newDriver returns a SQLite driver of this DB's own, with the SQL
// functions Railyard's schema needs. Registering them on the driver the
// package modernc.org/sqlite registers globally would change every
// database of the process; a driver of our own changes only ours.
func newDriver() (*sqlitedriver.Driver, error) {
	drv := &sqlitedriver.Driver{}
	if err := drv.RegisterDeterministicScalarFunction("sha256", 1, sqlSHA256); err != nil {
		return nil, fmt.Errorf("sqlite: register sha256: %w", err)
	}
	return drv, nil
}

// sqlSHA256 is the SQL function sha256(x): the 32-byte SHA-256 of a text's
// UTF-8 bytes or of a blob, NULL for NULL, like PostgreSQL's sha256().
// Migrations use it to move manifest content to manifest_contents, keyed
// exactly as contentHash keys what Go writes.
func sqlSHA256(_ *sqlitedriver.FunctionContext, args []driver.Value) (driver.Value, error) {
	var sum [sha256.Size]byte
	switch v := args[0].(type) {
	case nil:
		return nil, nil
	case string:
		sum = sha256.Sum256([]byte(v))
	case []byte:
		sum = sha256.Sum256(v)
	default:
		return nil, fmt.Errorf("sha256: got a %T, want text or a blob", v)
	}
	return sum[:], nil
}

// connector opens connections to one database file with a driver.
type connector struct {
	driver *sqlitedriver.Driver
	dsn    string
}

// Connect implements driver.Connector.
func (c connector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }

// Driver implements driver.Connector.
func (c connector) Driver() driver.Driver { return c.driver }
