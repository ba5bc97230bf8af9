package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/kmipd/kmipd/ports"
)

// SchemaVersion is the schema version this package reads and writes.
const SchemaVersion = 1

// ErrNewerSchema reports a database written by a newer kmipd.
var ErrNewerSchema = errors.New("database schema is newer than this kmipd supports")

// migrations[v-1] takes the schema from version v-1 to v. Identifiers,
// index names and keys are bytea: they may hold any byte, NUL included
// (text cannot), and bytea orders by bytes as Locate promises, whatever the
// database's collation.
var migrations = []string{
	// 1: objects, their index entries, every identifier ever given, and
	// scratch values (ports.ScratchStore; expires in Unix nanoseconds).
	`
CREATE TABLE kmipd_objects (
	id       bytea PRIMARY KEY,
	revision bigint NOT NULL,
	body     bytea NOT NULL
);
CREATE TABLE kmipd_terms (
	name bytea NOT NULL,
	key  bytea NOT NULL,
	id   bytea NOT NULL,
	PRIMARY KEY (name, key, id)
);
-- name and key are far from independent (a key belongs to one name): the
-- planner estimates a term's entries from their joint statistics.
CREATE STATISTICS kmipd_terms_name_key (ndistinct, dependencies, mcv) ON name, key FROM kmipd_terms;
CREATE TABLE kmipd_ids (
	id bytea PRIMARY KEY
);
CREATE TABLE kmipd_scratch (
	key     bytea PRIMARY KEY,
	expires bigint NOT NULL,
	value   bytea NOT NULL
);
CREATE INDEX kmipd_scratch_expires ON kmipd_scratch (expires);
`,
}

// schemaLock is the key of the advisory lock under which a node checks and
// migrates the schema, so that nodes starting at once take turns.
const schemaLock = 0x6b6d6970645f7363 // "kmipd_sc"

// migrate creates the schema or brings it to SchemaVersion, in one
// transaction holding schemaLock; it refuses a newer schema.
func (s *Store) migrate(ctx context.Context, create ports.Creation) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
			return err
		}
		exists, err := s.checkCreation(ctx, tx, create)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS kmipd_schema (version integer NOT NULL)`); err != nil {
			return err
		}
		var v *int32
		if err := tx.QueryRow(ctx, `SELECT max(version) FROM kmipd_schema`).Scan(&v); err != nil {
			return err
		}
		have := 0
		if v != nil {
			have = int(*v)
		}
		if have > SchemaVersion {
			return refuse(fmt.Errorf("postgres store %s: %w: schema version %d, this kmipd supports %d; upgrade kmipd",
				s.name, ErrNewerSchema, have, SchemaVersion))
		}
		for next := have + 1; next <= SchemaVersion; next++ {
			if _, err := tx.Exec(ctx, migrations[next-1]); err != nil {
				return fmt.Errorf("migration to schema version %d: %w", next, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO kmipd_schema (version) VALUES ($1)`, next); err != nil {
				return err
			}
		}
		return s.loadIdentity(ctx, tx, !exists)
	})
	if err != nil {
		return fmt.Errorf("open: %w", s.fnOrTranslated(err))
	}
	return nil
}
