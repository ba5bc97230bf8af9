package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/record"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmipd.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE schema_version SET version = ?`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a newer schema: %v, want ErrNewerSchema naming %s", err, path)
	}
}

// TestLocateUsesIndex checks that Locate's plan only searches indexes and
// never scans a table.
func TestLocateUsesIndex(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "kmipd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := domain.IndexTerm{Name: domain.IndexOwner, Key: "alice"}
	b := domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(2)}
	c := domain.IndexTerm{Name: "Name", Key: "s:x"}
	acc := []domain.IndexTerm{
		{Name: domain.IndexOwnerAccess, Key: "k1"}, {Name: domain.IndexOwnerAccess, Key: "k2"},
		{Name: domain.IndexAccess, Key: "k3"},
	}
	online := []domain.IndexTerm{{Name: domain.IndexStorage, Key: domain.EnumKey(1)}}
	for _, q := range []ports.LocateQuery{
		{Any: [][]domain.IndexTerm{acc}},
		{Any: [][]domain.IndexTerm{acc, online}, Terms: []domain.IndexTerm{b}, Limit: 3},
		{Any: [][]domain.IndexTerm{acc, online}, Terms: []domain.IndexTerm{c, b}},
		{}, {After: "m", Limit: 10},
		{Terms: []domain.IndexTerm{a}},
		{Terms: []domain.IndexTerm{a, b}, Limit: 5},
		{Terms: []domain.IndexTerm{a, b, c}, After: "x"},
	} {
		query, args, _ := locateSQL(q)
		rows, err := s.rdb.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) == 0 {
			t.Fatalf("no plan for %s", query)
		}
		t.Logf("%d terms, %d groups: %q", len(q.Terms), len(q.Any), plan)
		for _, step := range plan {
			// Driven by a group, the query sorts the group's matches, and
			// the lists of pairs of groups may be kept in temporary trees;
			// otherwise it reads index entries in order.
			sorted := len(q.Any) > 0
			// Scans are allowed only of the lists of pairs and of the
			// driving group's subquery t0.
			scan := strings.HasPrefix(step, "SCAN") && !strings.HasSuffix(step, "VALUES CLAUSE") && step != "SCAN CONSTANT ROW"
			if (scan && !(sorted && step == "SCAN t0")) ||
				(strings.Contains(step, "TEMP B-TREE") && !sorted) {
				t.Errorf("Locate(%d terms) plan %q", len(q.Terms), plan)
				break
			}
		}
	}
}

// TestOldStoreGainsIdentity checks that a store written before identities
// opens, even when only existing stores may be opened, keeps its objects and
// gains an identity that stays.
func TestOldStoreGainsIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmipd.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create(context.Background(), storetest.Sample("old")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TABLE meta`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(path, Options{Create: ports.CreationOpenExisting})
	if err != nil {
		t.Fatalf("Open of a store without identity: %v", err)
	}
	info, err := s.Info(context.Background())
	if err != nil || info.New || len(info.ID) != 32 || info.Objects != 1 {
		t.Fatalf("Info = %+v, %v; want an old store given an identity, 1 object", info, err)
	}
	s.Close()
	s, err = Open(path, Options{Create: ports.CreationOpenExisting})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if again, _ := s.Info(context.Background()); again.ID != info.ID {
		t.Fatalf("identity changed from %s to %s on reopening", info.ID, again.ID)
	}
}

// TestForeignDatabaseRefused checks that an SQLite database of another
// application, or a kmipd schema without its version, is never taken over.
func TestForeignDatabaseRefused(t *testing.T) {
	for name, ddl := range map[string]string{
		"other application": `CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)`,
		"no version row":    `CREATE TABLE schema_version (version INTEGER NOT NULL);` + schema,
	} {
		path := filepath.Join(t.TempDir(), "kmipd.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ddl); err != nil {
			t.Fatal(err)
		}
		db.Close()
		for _, c := range []ports.Creation{ports.CreationAuto, ports.CreationOpenExisting} {
			if s, err := Open(path, Options{Create: c}); !errors.Is(err, ports.ErrNotAStore) {
				if s != nil {
					s.Close()
				}
				t.Fatalf("%s, creation %d: Open = %v, want ErrNotAStore", name, c, err)
			}
		}
	}
}

// TestUpgradeFromVersion1 opens a database of schema version 1 (no used_ids
// table): its objects are kept, and from then on a deleted object's
// identifier is never used again.
func TestUpgradeFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmipd.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	old := storetest.Sample("old")
	body, terms, err := record.ForCreate(old)
	if err != nil {
		t.Fatal(err)
	}
	v1 := `CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE objects (id TEXT PRIMARY KEY, revision INTEGER NOT NULL, body BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE terms (name TEXT NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (name, key, id)) WITHOUT ROWID;`
	if _, err := db.Exec(`PRAGMA journal_mode=WAL`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(v1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO objects (id, revision, body) VALUES (?, 0, ?)`, old.ID, body); err != nil {
		t.Fatal(err)
	}
	for _, term := range terms {
		if _, err := db.Exec(`INSERT INTO terms (name, key, id) VALUES (?, ?, ?)`, term.Name, term.Key, old.ID); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open of a version 1 database: %v", err)
	}
	ctx := context.Background()
	got, err := s.Get(ctx, "old")
	if err != nil || got.Owner != old.Owner {
		t.Fatalf("Get of an object written by version 1: %v, %v", got, err)
	}
	if err := s.Delete(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, storetest.Sample("old")); !errors.Is(err, ports.ErrExists) {
		t.Fatalf("Create of a deleted identifier after the upgrade: %v, want ErrExists", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`SELECT max(version) FROM schema_version`).Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("schema version after the upgrade: %d, %v; want %d", v, err, SchemaVersion)
	}
}
