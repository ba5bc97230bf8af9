package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/kmipd/kmipd/adapters/storage/bolt"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

func open(path string) (ports.Store, error) { return bolt.Open(path, bolt.Options{}) }

func TestContract(t *testing.T) { storetest.Exercise(t, open) }

func TestScratch(t *testing.T) { storetest.Scratch(t, open) }

func TestCrash(t *testing.T) { storetest.Crash(t, open) }

func BenchmarkCreate(b *testing.B)         { storetest.BenchCreate(b, open, 0) }
func BenchmarkCreateParallel(b *testing.B) { storetest.BenchCreate(b, open, 32) }
func BenchmarkGet(b *testing.B)            { storetest.BenchGet(b, open) }
func BenchmarkLocateByName(b *testing.B)   { storetest.BenchLocateByName(b, open) }

// TestLocked checks that a second opener of the file fails clearly instead
// of waiting for ever (bbolt's flock conflicts between open files even in
// one process).
func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmipd.bolt")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = bolt.Open(path, bolt.Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ports.ErrUnavailable) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Open: %v, want ErrUnavailable naming %s", err, path)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmipd.bolt")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte{0, 0, 0, 0, 0, 0, 0, bolt.SchemaVersion + 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = bolt.Open(path, bolt.Options{})
	if !errors.Is(err, bolt.ErrNewerSchema) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a newer schema: %v, want ErrNewerSchema naming %s", err, path)
	}
}

// Locate by Name among 100k and 1M objects: each loads its store first (a
// minute or more for 1M), so they run only when -bench selects them.
func BenchmarkLocateByName100k(b *testing.B) { storetest.BenchLocateByNameN(b, open, 100_000) }
func BenchmarkLocateByName1M(b *testing.B)   { storetest.BenchLocateByNameN(b, open, 1_000_000) }

func TestFaults(t *testing.T) {
	storetest.Faults(t, func(path string, c ports.Creation) (ports.Store, error) {
		return bolt.Open(path, bolt.Options{Create: c, LockTimeout: 100 * time.Millisecond})
	})
}

// TestOldStoreGainsIdentity checks that a file written before identities
// opens, even when only existing stores may be opened, keeps its objects and
// gains an identity that stays.
func TestOldStoreGainsIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmipd.bolt")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create(context.Background(), storetest.Sample("old")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		return errors.Join(meta.Delete([]byte("store_id")), meta.Delete([]byte("created")))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 2 {
		s, err := bolt.Open(path, bolt.Options{Create: ports.CreationOpenExisting})
		if err != nil {
			t.Fatalf("Open of a store without identity: %v", err)
		}
		info, err := s.Info(context.Background())
		s.Close()
		if err != nil || info.New || len(info.ID) != 32 || info.Objects != 1 {
			t.Fatalf("Info = %+v, %v; want an old store given an identity, 1 object", info, err)
		}
		ids = append(ids, info.ID)
	}
	if ids[0] != ids[1] {
		t.Fatalf("identity changed from %s to %s on reopening", ids[0], ids[1])
	}
}

// TestForeignFileRefused checks that a bbolt file of another application is
// never taken over.
func TestForeignFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmipd.bolt")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("accounts")); return err })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []ports.Creation{ports.CreationAuto, ports.CreationOpenExisting} {
		if s, err := bolt.Open(path, bolt.Options{Create: c}); !errors.Is(err, ports.ErrNotAStore) {
			if s != nil {
				s.Close()
			}
			t.Fatalf("creation %d: Open = %v, want ErrNotAStore", c, err)
		}
	}
}

func TestDestroyLeavesNoKey(t *testing.T) { storetest.DestroyLeavesNoKey(t, open) }

// TestUpgradeFromVersion1 opens a file of schema version 1 (no used_ids
// bucket): its objects are kept, and from then on a deleted object's
// identifier is never used again.
func TestUpgradeFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmipd.bolt")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Create(ctx, storetest.Sample("old")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Make it the version 1 layout: no used_ids bucket, version 1.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket([]byte("used_ids")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte{0, 0, 0, 0, 0, 0, 0, 1})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("Open of a version 1 file: %v", err)
	}
	if _, err := s.Get(ctx, "old"); err != nil {
		t.Fatalf("Get of an object written by version 1: %v", err)
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
	db, err = bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket([]byte("meta")).Get([]byte("schema_version")); len(v) != 8 || v[7] != bolt.SchemaVersion {
			t.Errorf("schema version after the upgrade: %v, want %d", v, bolt.SchemaVersion)
		}
		return nil
	})
}

func TestSnapshot(t *testing.T)            { storetest.Snapshot(t, open) }
func TestUsedIdentifiersCopy(t *testing.T) { storetest.UsedIdentifiersCopy(t, open) }
