// Package faults checks, against the real binary, that kmipd notices when
// the ground moves under its store: a database directory removed or a
// database file replaced while it runs stops every acknowledgement and is
// logged loudly, a restart does not silently start on a new or foreign
// store, and a full disk gives clean errors that clear when space returns.
package faults

import (
	"errors"
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

var storages = []string{"sqlite", "bbolt"}

// createKey creates an AES-256 key and returns its identifier.
func createKey(c *kmipclient.Client, name string) (string, error) {
	p, err := c.Call(kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256,
		kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, name)...)
	if err != nil {
		return "", err
	}
	id, ok := p.Child(kmip.TagUniqueIdentifier).AsText()
	if !ok || id == "" {
		return "", fmt.Errorf("Create answered no Unique Identifier")
	}
	return id, nil
}

// generalFailure reports whether err is a KMIP General Failure answer.
func generalFailure(err error) bool {
	var oe *kmipclient.OperationError
	return errors.As(err, &oe) && oe.Reason == kmip.ResultReasonGeneralFailure
}

// load runs Creates from several clients until stop is closed.
type load struct {
	mu      sync.Mutex
	acked   []string  // identifiers whose Create succeeded
	lastAck time.Time // when the last successful Create was sent
	refused int       // Creates answered General Failure
	other   []error   // any other failure
	wg      sync.WaitGroup
	stop    chan struct{}
}

func startLoad(t *testing.T, srv *harness.Server, workers int) *load {
	l := &load{stop: make(chan struct{})}
	for w := range workers {
		c := srv.Dial(t, "alice", 1, 4)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				sent := time.Now()
				id, err := createKey(c, fmt.Sprintf("w%d-%d", w, i))
				l.mu.Lock()
				switch {
				case err == nil:
					l.acked = append(l.acked, id)
					if sent.After(l.lastAck) {
						l.lastAck = sent
					}
				case generalFailure(err):
					l.refused++
				default:
					l.other = append(l.other, err)
				}
				l.mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	return l
}

// waitFor waits until cond holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

func (l *load) finish() {
	close(l.stop)
	l.wg.Wait()
}

// logHas reports whether a line of the server's log contains every part.
func logHas(t *testing.T, srv *harness.Server, parts ...string) bool {
	for _, line := range strings.Split(srv.LogContents(t), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// setCreate rewrites storage.create in the server's configuration (the
// harness writes [storage] last).
func setCreate(t *testing.T, srv *harness.Server, value string) {
	t.Helper()
	b, err := os.ReadFile(srv.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if !strings.HasPrefix(l, "create = ") {
			lines = append(lines, l)
		}
	}
	lines = append(lines, fmt.Sprintf("create = %q", value))
	if err := os.WriteFile(srv.ConfigPath, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDatabaseDirectoryRemoved removes the database directory under a
// Create load: Creates sent after the removal are refused, the log says the
// store is lost, shutdown fails, a restart with storage.create = "never"
// refuses to start, and one with "auto" warns that it created a new store.
func TestDatabaseDirectoryRemoved(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(data, 0o700); err != nil {
				t.Fatal(err)
			}
			srv := harness.Start(t, harness.Options{Storage: storage, DBPath: filepath.Join(data, "k.db")})
			l := startLoad(t, srv, 4)
			waitFor(t, 30*time.Second, "50 acknowledged Creates", func() bool {
				l.mu.Lock()
				defer l.mu.Unlock()
				return len(l.acked) >= 50
			})
			if err := os.RemoveAll(data); err != nil {
				t.Fatal(err)
			}
			removed := time.Now()
			waitFor(t, 30*time.Second, "refused Creates", func() bool {
				l.mu.Lock()
				defer l.mu.Unlock()
				return l.refused >= 20
			})
			l.finish()
			if l.lastAck.After(removed) {
				t.Errorf("a Create sent %v after the database directory was removed was acknowledged", l.lastAck.Sub(removed))
			}
			if len(l.other) > 0 {
				t.Errorf("%d Creates failed otherwise than General Failure, first: %v", len(l.other), l.other[0])
			}
			waitFor(t, 10*time.Second, "the STORE LOST log line", func() bool {
				return logHas(t, srv, `"level":"error"`, "STORE LOST", "the database file was removed")
			})
			if err := srv.Terminate(t); err == nil {
				t.Errorf("kmipd exited 0 after losing its store")
			}

			setCreate(t, srv, "never")
			r := harness.Run(t, srv.Dir, "-config", srv.ConfigPath)
			if r.ExitCode != 78 || !strings.Contains(r.Stderr, "storage.create") ||
				!strings.Contains(r.Stderr, "kmipd store init -config "+srv.ConfigPath) || strings.Count(r.Stderr, "\n") != 1 {
				t.Fatalf("restart with storage.create = never and no store: exit %d, stderr %q", r.ExitCode, r.Stderr)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Fatalf("the refused restart made %s: %v", data, err)
			}

			setCreate(t, srv, "auto")
			if err := os.Mkdir(data, 0o700); err != nil {
				t.Fatal(err)
			}
			srv.Restart(t)
			if !logHas(t, srv, `"level":"warn"`, "created a new store") {
				t.Errorf("a restart that created a new store did not warn:\n%s", srv.LogContents(t))
			}
		})
	}
}

// TestDatabaseFileReplaced replaces the running server's database file by
// another kmipd store (made by kmipd store init): the next Create is
// refused and the loss logged; after a restart the path holds the other
// store, intact and named by its identity, and the lost store, kept through
// a hard link, still holds every acknowledged Create.
func TestDatabaseFileReplaced(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			data := t.TempDir()
			db := filepath.Join(data, "k.db")
			srv := harness.Start(t, harness.Options{Storage: storage, DBPath: db})
			c := srv.Dial(t, "alice", 1, 4)
			var acked []string
			for i := range 20 {
				id, err := createKey(c, fmt.Sprintf("before-%d", i))
				if err != nil {
					t.Fatal(err)
				}
				acked = append(acked, id)
			}
			otherConf := filepath.Join(data, "other.toml")
			other := filepath.Join(data, "other.db")
			if err := os.WriteFile(otherConf, []byte(fmt.Sprintf("[storage]\ntype = %q\npath = %q\n", storage, other)), 0o600); err != nil {
				t.Fatal(err)
			}
			r := harness.Run(t, data, "store", "init", "-config", otherConf)
			var otherID string
			if _, err := fmt.Sscanf(r.Stdout, "created store %s", &otherID); r.ExitCode != 0 || err != nil {
				t.Fatalf("kmipd store init: exit %d, %q %q", r.ExitCode, r.Stdout, r.Stderr)
			}
			if err := os.Link(db, filepath.Join(data, "kept.db")); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(other, db); err != nil { // mv other.db k.db
				t.Fatal(err)
			}
			_, err := createKey(c, "after")
			var oe *kmipclient.OperationError
			if !generalFailure(err) || !errors.As(err, &oe) || strings.Contains(oe.Message, data) ||
				!strings.Contains(oe.Message, "nothing was written") {
				t.Fatalf("Create after the file was replaced: %v, want General Failure saying nothing was written, naming no path", err)
			}
			waitFor(t, 10*time.Second, "the STORE LOST log line", func() bool {
				return logHas(t, srv, `"level":"error"`, "STORE LOST", "replaced by another file")
			})
			if err := srv.Terminate(t); err == nil {
				t.Errorf("kmipd exited 0 after losing its store")
			}

			// The path now holds the other store, and says so.
			setCreate(t, srv, "never")
			srv.Restart(t)
			if !logHas(t, srv, "opened store "+otherID+" with 0 objects") {
				t.Fatalf("restart on the replacing store did not log its identity %s:\n%s", otherID, srv.LogContents(t))
			}
			c = srv.Dial(t, "alice", 1, 4)
			if p := harness.Call(t, c, kmip.OperationLocate); len(p.ChildrenOf(kmip.TagUniqueIdentifier)) != 0 {
				t.Fatalf("the replacing store holds objects it never had: %v", p)
			}
			srv.Stop(t)

			// The lost store, put back with its WAL, holds every acknowledged Create.
			restored := t.TempDir()
			if err := os.Rename(filepath.Join(data, "kept.db"), filepath.Join(restored, "k.db")); err != nil {
				t.Fatal(err)
			}
			wals, _ := filepath.Glob(db + "-wal.lost-*")
			if storage == "sqlite" {
				if len(wals) != 1 {
					t.Fatalf("the lost store's WAL was not set aside: %v", wals)
				}
				if err := os.Rename(wals[0], filepath.Join(restored, "k.db-wal")); err != nil {
					t.Fatal(err)
				}
			}
			back := harness.Start(t, harness.Options{Storage: storage, DBPath: filepath.Join(restored, "k.db"), ExtraTOML: `create = "never"`})
			c = back.Dial(t, "alice", 1, 4)
			for _, id := range acked {
				harness.Call(t, c, kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id))
			}
			if !logHas(t, back, fmt.Sprintf("with %d objects", len(acked))) {
				t.Errorf("the restored store does not hold exactly the %d acknowledged objects:\n%s", len(acked), back.LogContents(t))
			}
		})
	}
}

// TestDatabaseFileReplacedThenKilled replaces the SQLite file of a running
// server by another store and then kills the server, so that nothing sets
// the lost store's WAL aside: the restart refuses (exit 78) to apply that
// WAL to the other store; once the WAL is moved aside as the message says,
// the other store opens intact, and the lost one, put back with its WAL,
// holds every acknowledged Create.
func TestDatabaseFileReplacedThenKilled(t *testing.T) {
	data := t.TempDir()
	db := filepath.Join(data, "k.db")
	srv := harness.Start(t, harness.Options{DBPath: db})
	c := srv.Dial(t, "alice", 1, 4)
	var acked []string
	for i := range 10 {
		id, err := createKey(c, fmt.Sprintf("before-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, id)
	}
	otherConf := filepath.Join(data, "other.toml")
	if err := os.WriteFile(otherConf, []byte(fmt.Sprintf("[storage]\npath = %q\n", filepath.Join(data, "other.db"))), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := harness.Run(t, data, "store", "init", "-config", otherConf); r.ExitCode != 0 {
		t.Fatalf("kmipd store init: exit %d, %q", r.ExitCode, r.Stderr)
	}
	if err := os.Link(db, filepath.Join(data, "kept.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(data, "other.db"), db); err != nil {
		t.Fatal(err)
	}
	if _, err := createKey(c, "after"); !generalFailure(err) {
		t.Fatalf("Create after the file was replaced: %v, want General Failure", err)
	}
	srv.Kill(t)

	r := harness.Run(t, srv.Dir, "-config", srv.ConfigPath)
	if r.ExitCode != 78 || !strings.Contains(r.Stderr, "belongs to store") || strings.Count(r.Stderr, "\n") != 1 {
		t.Fatalf("restart beside the lost store's WAL: exit %d, stderr %q; want 78 and one line", r.ExitCode, r.Stderr)
	}
	restored := t.TempDir()
	for from, to := range map[string]string{db + "-wal": "k.db-wal", filepath.Join(data, "kept.db"): "k.db"} {
		if err := os.Rename(from, filepath.Join(restored, to)); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(db + "-shm")
	srv.Restart(t)
	if p := harness.Call(t, srv.Dial(t, "alice", 1, 4), kmip.OperationLocate); len(p.ChildrenOf(kmip.TagUniqueIdentifier)) != 0 {
		t.Fatalf("the replacing store holds objects it never had: %v", p)
	}
	back := harness.Start(t, harness.Options{DBPath: filepath.Join(restored, "k.db"), ExtraTOML: `create = "never"`})
	c = back.Dial(t, "alice", 1, 4)
	for _, id := range acked {
		harness.Call(t, c, kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id))
	}
	if !logHas(t, back, fmt.Sprintf("with %d objects", len(acked))) {
		t.Errorf("the restored store does not hold exactly the %d acknowledged objects", len(acked))
	}
}
