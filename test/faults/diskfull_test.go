package faults

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports/storetest"
	"github.com/kmipd/kmipd/test/harness"
)

// TestDiskFull runs kmipd on a small disk and fills it: Creates are then
// answered General Failure saying the store is out of space, reads go on
// working, and once space is freed Creates succeed again without a
// restart; after a restart every acknowledged Create is there.
func TestDiskFull(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) { testDiskFull(t, storage) })
	}
}

func testDiskFull(t *testing.T, storage string) {
	disk := storetest.SmallDisk(t, "3m")
	filler := filepath.Join(disk, "filler")
	if err := os.WriteFile(filler, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := harness.Start(t, harness.Options{Storage: storage, DBPath: filepath.Join(disk, "k.db")})
	c := srv.Dial(t, "alice", 1, 4)
	// A key read once before the disk fills: its later Gets write nothing
	// (a first Get records that the key is no longer Fresh, a write).
	read, err := createKey(c, "read-before")
	if err != nil {
		t.Fatal(err)
	}
	harness.Call(t, c, kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, read))
	acked := []string{read}
	refused := 0
	for i := 0; refused < 10 && i < 20000; i++ {
		id, err := createKey(c, fmt.Sprintf("k-%d", i))
		var oe *kmipclient.OperationError
		switch {
		case err == nil:
			acked = append(acked, id)
		case errors.As(err, &oe) && oe.Reason == kmip.ResultReasonGeneralFailure:
			if !strings.Contains(oe.Message, "out of space") || strings.Contains(oe.Message, disk) {
				t.Fatalf("Create on a full disk answered %q", oe.Message)
			}
			refused++
		default:
			t.Fatalf("Create %d on a full disk: %v", i, err)
		}
	}
	if refused == 0 || len(acked) == 1 {
		t.Fatalf("%d Creates acknowledged, %d refused: the disk never filled", len(acked), refused)
	}
	for range 3 {
		harness.Call(t, c, kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, read))
	}
	if !logHas(t, srv, `"level":"error"`, "no space left for the store") {
		t.Errorf("the log does not say the store is out of space")
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		id, err := createKey(c, fmt.Sprintf("after-%d", i))
		if err != nil {
			t.Fatalf("Create after space was freed: %v", err)
		}
		acked = append(acked, id)
	}
	srv.Restart(t)
	c = srv.Dial(t, "alice", 1, 4)
	for _, id := range acked {
		harness.Call(t, c, kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id))
	}
	if !logHas(t, srv, fmt.Sprintf("with %d objects", len(acked))) {
		t.Errorf("after the restart the store does not hold exactly the %d acknowledged objects", len(acked))
	}
}
