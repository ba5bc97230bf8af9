package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

func open(path string) (ports.Store, error) { return sqlite.Open(path, sqlite.Options{}) }

func TestContract(t *testing.T) { storetest.Exercise(t, open) }

func TestScratch(t *testing.T) { storetest.Scratch(t, open) }

func BenchmarkCreate(b *testing.B)         { storetest.BenchCreate(b, open, 0) }
func BenchmarkCreateParallel(b *testing.B) { storetest.BenchCreate(b, open, 32) }
func BenchmarkGet(b *testing.B)            { storetest.BenchGet(b, open) }
func BenchmarkLocateByName(b *testing.B)   { storetest.BenchLocateByName(b, open) }

func TestCrash(t *testing.T) { storetest.Crash(t, open) }

func TestDatabaseFileIsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode %v, want 0600", fi.Mode().Perm())
	}
}

// Locate by Name among 100k and 1M objects: each loads its store first (a
// minute or more for 1M), so they run only when -bench selects them.
func BenchmarkLocateByName100k(b *testing.B) { storetest.BenchLocateByNameN(b, open, 100_000) }
func BenchmarkLocateByName1M(b *testing.B)   { storetest.BenchLocateByNameN(b, open, 1_000_000) }

func TestFaults(t *testing.T) {
	storetest.Faults(t, func(path string, c ports.Creation) (ports.Store, error) {
		return sqlite.Open(path, sqlite.Options{Create: c})
	})
}

func TestDestroyLeavesNoKey(t *testing.T) { storetest.DestroyLeavesNoKey(t, open) }

func TestSnapshot(t *testing.T)            { storetest.Snapshot(t, open) }
func TestUsedIdentifiersCopy(t *testing.T) { storetest.UsedIdentifiersCopy(t, open) }
