package harness

import "fmt"

// PostgresStorage returns the [storage] table body (Options.StorageTOML) of
// a kmipd on the PostgreSQL database dsn (a libpq URL or key=value list).
func PostgresStorage(dsn string) string {
	return fmt.Sprintf("type = \"postgres\"\nurl = %q\n", dsn)
}
