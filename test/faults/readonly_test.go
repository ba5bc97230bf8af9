package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// needChattr skips the test unless chattr +i works in dir (root, and a
// file system with the immutable flag: not tmpfs or overlayfs).
func needChattr(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("chattr"); err != nil {
		t.Skip("chattr is not installed (e2fsprogs); skipping the read-only store fault")
	}
	probe := filepath.Join(dir, "chattr-probe")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(probe)
	if out, err := exec.Command("chattr", "+i", probe).CombinedOutput(); err != nil {
		t.Skipf("chattr +i does not work in %s (needs root and a file system with the immutable flag, not tmpfs or overlayfs): %v: %s",
			dir, err, strings.TrimSpace(string(out)))
	}
	exec.Command("chattr", "-i", probe).Run()
}

// setImmutable sets (on) or clears the immutable flag of files; the flag is
// cleared when the test ends whatever happens.
func setImmutable(t *testing.T, on bool, files ...string) {
	t.Helper()
	flag := "-i"
	if on {
		flag = "+i"
		t.Cleanup(func() { exec.Command("chattr", append([]string{"-i"}, files...)...).Run() })
	}
	if out, err := exec.Command("chattr", append([]string{flag}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("chattr %s: %v: %s", flag, err, out)
	}
}

// storeFiles are the files kmipd writes its store to: the database and,
// for SQLite, its write-ahead log (the -shm index is memory, not data).
func storeFiles(t *testing.T, srv *harness.Server) []string {
	t.Helper()
	files := []string{srv.DBPath}
	if _, err := os.Stat(srv.DBPath + "-wal"); err == nil {
		files = append(files, srv.DBPath+"-wal")
	}
	return files
}

// TestStoreMadeImmutable: the store's files are made immutable while
// kmipd serves. Writes answer General Failure at once (no hang, no
// acknowledged write lost) with the cause in the log at ERROR; reads of
// objects keep working; when the flag is cleared, writes work again without
// a restart; every acknowledged Create is there after a restart.
func TestStoreMadeImmutable(t *testing.T) {
	for _, storage := range []string{"sqlite", "bbolt"} {
		t.Run(storage, func(t *testing.T) {
			srv := harness.Start(t, harness.Options{Storage: storage})
			needChattr(t, filepath.Dir(srv.DBPath))
			c := dialT(t, srv, "alice")
			var ledger ackLedger
			var ids []string
			for i := 0; i < 3; i++ {
				id := ledger.mustCreate(t, c)
				// A first Get clears Fresh (a write); later ones only read.
				harness.Call(t, c, kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id))
				ids = append(ids, id)
			}
			files := storeFiles(t, srv)
			setImmutable(t, true, files...)

			for i := 0; i < 3; i++ {
				begin := time.Now()
				_, err := ledger.create(c)
				if r := reasonOf(err); r != kmip.ResultReasonGeneralFailure {
					t.Errorf("Create with the store immutable: %v, want General Failure", err)
				}
				if d := time.Since(begin); d > 3*time.Second {
					t.Errorf("Create with the store immutable took %v, want an answer at once", d)
				}
			}
			for _, id := range ids {
				uid := kmip.Text(kmip.TagUniqueIdentifier, id)
				if _, err := c.Call(kmip.OperationGet, uid); err != nil {
					t.Errorf("Get %s with the store immutable: %v", id, err)
				}
				if _, err := c.Call(kmip.OperationGetAttributes, uid); err != nil {
					t.Errorf("Get Attributes %s with the store immutable: %v", id, err)
				}
			}
			if _, err := c.Call(kmip.OperationLocate); err != nil {
				t.Errorf("Locate with the store immutable: %v", err)
			}
			log := srv.LogContents(t)
			if !strings.Contains(log, `"level":"error"`) || !strings.Contains(log, `"op":"Create"`) {
				t.Errorf("no ERROR log line for the refused Creates")
			}

			setImmutable(t, false, files...)
			if _, err := ledger.create(c); err != nil {
				t.Errorf("Create after the immutable flag was cleared (no restart): %v", err)
			}
			ledger.checkAfterRestart(t, srv, "alice")
		})
	}
}
