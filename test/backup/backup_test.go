// Package backup tests kmipd backup and kmipd restore against the real
// binary: an online backup taken under a create load holds every object
// acknowledged before it began, and restores into a store a new kmipd
// serves; bbolt, whose file a running kmipd locks, is backed up through that
// kmipd's admin listener by an allowed client certificate only.
package backup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// createLoad creates keys on several connections until stopped, keeping
// the identifiers acknowledged.
type createLoad struct {
	mu    sync.Mutex
	acked []string
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startLoad(t *testing.T, srv *harness.Server, conns int) *createLoad {
	l := &createLoad{stop: make(chan struct{})}
	for i := 0; i < conns; i++ {
		c := srv.Dial(t, "alice", 1, 4)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				out, err := c.Call(kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "")...)
				if err != nil {
					t.Errorf("create under load: %v", err)
					return
				}
				id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
				l.mu.Lock()
				l.acked = append(l.acked, id)
				l.mu.Unlock()
			}
		}()
	}
	t.Cleanup(l.end)
	return l
}

// ackedSoFar is a copy of what was acknowledged until now.
func (l *createLoad) ackedSoFar() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.acked...)
}

func (l *createLoad) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// restoreAndCheck restores backup into a new server's store with kmipd
// restore and checks that each identifier in want is there.
func restoreAndCheck(t *testing.T, storage, backup string, want []string) {
	t.Helper()
	srv := harness.Start(t, harness.Options{Storage: storage})
	r := harness.Run(t, srv.Dir, "restore", "-config", srv.ConfigPath, "-force", backup)
	if r.ExitCode != 1 || !strings.Contains(r.Stderr, "running kmipd") {
		t.Errorf("restore over a store in use: %+v", r)
	}
	srv.Stop(t)
	r = harness.Run(t, srv.Dir, "restore", "-config", srv.ConfigPath, backup)
	if r.ExitCode != 1 || !strings.Contains(r.Stderr, "-force") {
		t.Errorf("restore over an existing store without -force: %+v", r)
	}
	r = harness.Run(t, srv.Dir, "restore", "-config", srv.ConfigPath, "-force", backup)
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "restored") {
		t.Fatalf("restore: %+v", r)
	}
	srv.Restart(t)
	c := srv.Dial(t, "alice", 1, 4)
	for _, id := range want {
		if _, err := c.Call(kmip.OperationGetAttributes, kmip.Text(kmip.TagUniqueIdentifier, id)); err != nil {
			t.Fatalf("object %s, acknowledged before the backup, is not in the restored store: %v", id, err)
		}
	}
}

// TestSQLiteBackupUnderLoad: kmipd backup copies the database while kmipd
// serves a create load; the copy restores.
func TestSQLiteBackupUnderLoad(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	l := startLoad(t, srv, 4)
	time.Sleep(300 * time.Millisecond)
	before := l.ackedSoFar()
	out := filepath.Join(t.TempDir(), "backup.db")
	r := harness.Run(t, srv.Dir, "backup", "-config", srv.ConfigPath, out)
	l.end()
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "objects") {
		t.Fatalf("backup: %+v", r)
	}
	if len(before) == 0 {
		t.Fatal("the load acknowledged nothing before the backup")
	}
	if r := harness.Run(t, srv.Dir, "backup", "-config", srv.ConfigPath, out); r.ExitCode != 1 || !strings.Contains(r.Stderr, "exists") {
		t.Errorf("backup over an existing file: %+v", r)
	}
	restoreAndCheck(t, "sqlite", out, before)
}

// TestBboltBackupThroughAdmin: the running kmipd serves the snapshot of its
// locked bbolt file to a client certificate named in backup_clients, over
// TLS; other certificates and missing ones are refused.
func TestBboltBackupThroughAdmin(t *testing.T) {
	port := harness.FreePort(t)
	srv := harness.Start(t, harness.Options{Storage: "bbolt",
		ExtraTOML: fmt.Sprintf("[admin]\naddress = \"127.0.0.1:%d\"\nallow_remote = true\nbackup_clients = [\"ops\"]\n", port)})
	opsCert, opsKey, err := srv.PKI.IssueClientCert(t.TempDir(), "ops")
	if err != nil {
		t.Fatal(err)
	}
	eveCert, eveKey, err := srv.PKI.IssueClientCert(t.TempDir(), "eve")
	if err != nil {
		t.Fatal(err)
	}
	l := startLoad(t, srv, 4)
	time.Sleep(300 * time.Millisecond)
	before := l.ackedSoFar()
	dir := t.TempDir()
	out := filepath.Join(dir, "backup.db")
	if r := harness.Run(t, srv.Dir, "backup", "-config", srv.ConfigPath, out); r.ExitCode != 1 || !strings.Contains(r.Stderr, "-cert") {
		t.Errorf("backup of a locked bbolt store without a certificate: %+v", r)
	}
	if r := harness.Run(t, srv.Dir, "backup", "-config", srv.ConfigPath, "-cert", eveCert, "-key", eveKey, out); r.ExitCode != 1 || !strings.Contains(r.Stderr, "403") {
		t.Errorf("backup with a certificate not in backup_clients: %+v", r)
	}
	r := harness.Run(t, srv.Dir, "backup", "-config", srv.ConfigPath, "-cert", opsCert, "-key", opsKey, out)
	l.end()
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "objects") {
		t.Fatalf("backup through the admin listener: %+v", r)
	}
	restoreAndCheck(t, "bbolt", out, before)
}

// TestRestoreRefusesWhatDoesNotOpen: a file that is not a store of the
// configured type is refused and the store left alone.
func TestRestoreRefusesWhatDoesNotOpen(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	srv.Stop(t)
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := writeFile(junk, []byte("this is not a database, just some bytes in a file")); err != nil {
		t.Fatal(err)
	}
	r := harness.Run(t, srv.Dir, "restore", "-config", srv.ConfigPath, "-force", junk)
	if r.ExitCode != 1 || !strings.Contains(r.Stderr, "not a sqlite store") {
		t.Errorf("restore of a junk file: %+v", r)
	}
	srv.Restart(t)
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
