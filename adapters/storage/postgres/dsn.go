package postgres

import (
	"errors"
	"net/url"
	"strings"
)

// withParams returns dsn with sslmode and sslrootcert set (those not empty),
// replacing what it says: a libpq URL gets query parameters, a key=value
// string gets the pairs appended (the last of repeated keys counts).
func withParams(dsn, sslmode, sslrootcert string) (string, error) {
	params := [][2]string{{"sslmode", sslmode}, {"sslrootcert", sslrootcert}}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", errors.New("postgres store: cannot parse the connection URL")
		}
		q := u.Query()
		for _, p := range params {
			if p[1] != "" {
				q.Set(p[0], p[1])
			}
		}
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	var b strings.Builder
	b.WriteString(dsn)
	for _, p := range params {
		if p[1] != "" {
			b.WriteString(" " + p[0] + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(p[1]) + "'")
		}
	}
	return b.String(), nil
}
