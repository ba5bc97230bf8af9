package bolt_test

import (
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/bolt"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// TestDiskFull fills a small disk with Creates: they then fail with
// ports.ErrNoSpace and write nothing; once space is freed, writes succeed
// again without reopening, and every acknowledged write is there after
// reopening (storetest.DiskFull).
func TestDiskFull(t *testing.T) {
	open := func(path string) (ports.Store, error) { return bolt.Open(path, bolt.Options{}) }
	path, acked := storetest.DiskFull(t, open, "4m", 2<<20)
	storetest.ExactlyAfterReopen(t, func(path string) (ports.Store, error) {
		return bolt.Open(path, bolt.Options{Create: ports.CreationOpenExisting})
	}, path, acked)
}
