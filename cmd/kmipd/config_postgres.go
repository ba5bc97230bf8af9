package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/kmipd/kmipd/adapters/storage/postgres"
	"github.com/kmipd/kmipd/ports"
)

// storageTypePostgres is the storage.type of the PostgreSQL store several
// kmipd nodes share.
const storageTypePostgres = "postgres"

// sslModes are libpq's sslmode values.
var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// maxPostgresConns bounds storage.max_conns.
const maxPostgresConns = 1000

// normalizePostgres checks the [storage] keys of type postgres and refuses
// them for other types. For postgres it sets Path to the server and database
// (no password), which kmipd reports where it reports a file store's path.
// No message quotes storage.url: it may hold a password.
func (c *StorageConfig) normalizePostgres() error {
	if c.Type != storageTypePostgres {
		for _, k := range []struct {
			key string
			set bool
		}{{"storage.url", c.URL != ""}, {"storage.max_conns", c.MaxConns != 0}, {"storage.password_file", c.PasswordFile != ""},
			{"storage.sslmode", c.SSLMode != ""}, {"storage.sslrootcert", c.SSLRootCert != ""}} {
			if k.set {
				return keyErr(k.key, "applies only to storage.type %q", storageTypePostgres)
			}
		}
		return nil
	}
	if c.Path != "" {
		return keyErr("storage.path", "does not apply to storage.type %q (set storage.url)", storageTypePostgres)
	}
	if c.URL == "" {
		return keyErr("storage.url", "required for storage.type %q: a libpq URL (postgres://user@host/db) or key=value list (host=... dbname=...)", storageTypePostgres)
	}
	if c.MaxConns < 0 || c.MaxConns > maxPostgresConns {
		return keyErr("storage.max_conns", "%d is not between 0 (default 16) and %d", c.MaxConns, maxPostgresConns)
	}
	c.SSLMode = strings.ToLower(c.SSLMode)
	if c.SSLMode != "" && !slices.Contains(sslModes, c.SSLMode) {
		return keyErr("storage.sslmode", "%q is not one of %s", c.SSLMode, strings.Join(sslModes, ", "))
	}
	cfg, err := postgres.ParseConfig(c.URL, postgres.Options{SSLMode: c.SSLMode})
	if err != nil {
		return keyErr("storage.url", "not a libpq URL or key=value connection string (the value is not shown: it may hold a password)")
	}
	c.Path = fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	return nil
}

// checkPostgresFiles verifies that the files the postgres keys name are readable.
func (c *StorageConfig) checkPostgresFiles() error {
	return checkReadable(configFile{"storage.password_file", c.PasswordFile},
		configFile{"storage.sslrootcert", c.SSLRootCert})
}

// openPostgres opens the PostgreSQL store of c. The password comes from
// storage.url, else PGPASSWORD (or ~/.pgpass, as libpq reads them), else
// storage.password_file (its first line).
func openPostgres(c StorageConfig, create ports.Creation) (ports.Store, error) {
	opt := postgres.Options{MaxConns: c.MaxConns, SSLMode: c.SSLMode, SSLRootCert: c.SSLRootCert, Create: create}
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("storage.password_file: %w", err)
		}
		opt.Password, _, _ = strings.Cut(string(b), "\n")
		opt.Password = strings.TrimSuffix(opt.Password, "\r")
	}
	s, err := postgres.Open(context.Background(), c.URL, opt)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// nameLocksOf returns the Name locks a store shares between the nodes on
// it (PostgreSQL), or nil for a store one process owns (the app then locks
// names in process).
func nameLocksOf(store ports.Store) ports.NameLocks {
	if nl, ok := store.(ports.NameLocks); ok {
		return nl
	}
	return nil
}
