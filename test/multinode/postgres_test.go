package multinode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// TestMain gives the package a throwaway PostgreSQL cluster for the
// PostgreSQL tests (the SQLite and HSM tests do not use it).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, pgtest.Options{})) }

// pgNodes starts n kmipd processes on one new PostgreSQL database.
func pgNodes(t *testing.T, n int) []*harness.Server {
	t.Helper()
	o := harness.Options{StorageTOML: harness.PostgresStorage(pgtest.NewDatabase(t))}
	nodes := make([]*harness.Server, n)
	for i := range nodes {
		nodes[i] = harness.Start(t, o)
	}
	return nodes
}

func uidOf(t *testing.T, p *kmip.Item) *kmip.Item {
	t.Helper()
	id, ok := p.Child(kmip.TagUniqueIdentifier).AsText()
	if !ok || id == "" {
		t.Fatal("response without a Unique Identifier")
	}
	return kmip.Text(kmip.TagUniqueIdentifier, id)
}

// A key's life across two nodes on PostgreSQL: created on A, found, read,
// activated and used on B, re-keyed on B and the replacement read on A,
// destroyed through B and gone on A.
func TestPostgresKeyAcrossNodes(t *testing.T) {
	nodes := pgNodes(t, 2)
	a, b := dial(t, nodes[0], "alice", 1, 4), dial(t, nodes[1], "alice", 1, 4)
	mask := kmip.CryptographicUsageMaskEncrypt | kmip.CryptographicUsageMaskDecrypt
	uid := uidOf(t, call(t, a, kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256, mask, "pg-across")...))

	found := call(t, b, kmip.OperationLocate, kmipclient.NameAttribute("pg-across"))
	if id, _ := found.Child(kmip.TagUniqueIdentifier).AsText(); id != uid.Value.(string) {
		t.Fatalf("node B located %q by name, want %q", id, uid.Value)
	}
	if !bytes.Equal(keyBytes(t, call(t, a, kmip.OperationGet, uid)), keyBytes(t, call(t, b, kmip.OperationGet, uid))) {
		t.Fatal("nodes A and B return different key material for one key")
	}
	call(t, b, kmip.OperationActivate, uid)
	iv := kmip.Bytes(kmip.TagIVCounterNonce, bytes.Repeat([]byte{7}, 16))
	cbc := kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC)),
		kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5)))
	ct := field(t, call(t, a, kmip.OperationEncrypt, uid, cbc, iv, kmip.Bytes(kmip.TagData, []byte("shared store"))), kmip.TagData)
	if pt := field(t, call(t, b, kmip.OperationDecrypt, uid, cbc, iv, kmip.Bytes(kmip.TagData, ct)), kmip.TagData); string(pt) != "shared store" {
		t.Fatalf("node B decrypted %q", pt)
	}

	newUID := uidOf(t, call(t, b, kmip.OperationReKey, uid))
	attrs := call(t, a, kmip.OperationGetAttributes, newUID, kmip.Text(kmip.TagAttributeName, "Link"))
	if !bytes.Contains([]byte(fmt.Sprint(attrs)), []byte(uid.Value.(string))) {
		t.Errorf("node A does not see the replacement's link to %s: %v", uid.Value, attrs)
	}

	call(t, a, kmip.OperationRevoke, uid, kmip.Struct(kmip.TagRevocationReason,
		kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeCessationOfOperation))))
	call(t, b, kmip.OperationDestroy, uid)
	if _, err := a.Call(kmip.OperationGet, uid); err == nil {
		t.Fatal("node A returned the key node B destroyed")
	}
}

// keyBytes returns the key material in a Get response.
func keyBytes(t *testing.T, p *kmip.Item) []byte {
	t.Helper()
	km := p.Child(kmip.TagSymmetricKey).Child(kmip.TagKeyBlock).Child(kmip.TagKeyValue).Child(kmip.TagKeyMaterial)
	b, ok := km.Value.([]byte)
	if !ok {
		t.Fatal("Get returned no raw key material")
	}
	return b
}

// Three nodes under load from 32 connections spread across them; node A is
// killed with SIGKILL mid-load: the other nodes keep serving, and once A is
// back every Create any node acknowledged is found on every node (issue
// 15.4, 15.7).
func TestPostgresNodeKilledUnderLoad(t *testing.T) {
	nodes := pgNodes(t, 3)
	const conns = 32
	clients := make([]*kmipclient.Client, conns)
	for i := range clients {
		clients[i] = dial(t, nodes[i%3], "alice", 1, 4)
	}
	var (
		mu         sync.Mutex
		acked      []string
		afterKill  atomic.Int32
		killed     atomic.Bool
		stop       = make(chan struct{})
		wg         sync.WaitGroup
		unexpected = make(chan error, conns)
	)
	create := kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "")
	for i, c := range clients {
		wg.Go(func() {
			for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); {
				select {
				case <-stop:
					return
				default:
				}
				p, err := c.Call(kmip.OperationCreate, create...)
				if err != nil {
					if i%3 == 0 && killed.Load() {
						return // node A is gone; its client stops
					}
					unexpected <- fmt.Errorf("connection %d (node %c): %w", i, "ABC"[i%3], err)
					return
				}
				id, _ := p.Child(kmip.TagUniqueIdentifier).AsText()
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
				if killed.Load() {
					afterKill.Add(1)
				}
			}
		})
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				close(stop)
				wg.Wait()
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitUntil("creates before the kill", func() bool { return count() >= 300 })
	killed.Store(true)
	nodes[0].Kill(t)
	waitUntil("creates on nodes B and C after the kill", func() bool { return afterKill.Load() >= 300 })
	close(stop)
	wg.Wait()
	close(unexpected)
	for err := range unexpected {
		t.Error(err)
	}
	nodes[0].Restart(t)
	t.Logf("%d creates acknowledged, %d after node A was killed", count(), afterKill.Load())
	for _, n := range nodes {
		c := dial(t, n, "alice", 1, 4)
		for _, id := range acked {
			if _, err := c.Call(kmip.OperationGetAttributes, kmip.Text(kmip.TagUniqueIdentifier, id),
				kmip.Text(kmip.TagAttributeName, "State")); err != nil {
				t.Fatalf("acknowledged key %s not found on %s after node A was killed: %v", id, n.Addr, err)
			}
		}
	}
}

// Attribute edits of one key sent to three nodes at once all take effect:
// each added value is kept under its own index, none is lost to another
// node's concurrent write.
func TestPostgresConcurrentEditsAcrossNodes(t *testing.T) {
	nodes := pgNodes(t, 3)
	first := dial(t, nodes[0], "alice", 1, 4)
	uid := uidOf(t, call(t, first, kmip.OperationCreate,
		kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "")...))
	const each = 8
	var wg sync.WaitGroup
	errs := make(chan error, 3*each)
	for n, srv := range nodes {
		c := dial(t, srv, "alice", 1, 4)
		wg.Go(func() {
			for i := range each {
				v := fmt.Sprintf("note %d from node %d", i, n)
				if _, err := c.Call(kmip.OperationAddAttribute, uid,
					kmipclient.Attribute("x-note", kmip.Text(kmip.TagAttributeValue, v))); err != nil {
					errs <- fmt.Errorf("AddAttribute %q: %w", v, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := call(t, dial(t, nodes[1], "alice", 1, 4), kmip.OperationGetAttributes, uid, kmip.Text(kmip.TagAttributeName, "x-note"))
	notes := map[string]bool{}
	indexes := map[int32]bool{}
	for _, a := range got.ChildrenOf(kmip.TagAttribute) {
		v, _ := a.Child(kmip.TagAttributeValue).AsText()
		notes[v] = true
		var i int32 // an absent Attribute Index is 0
		if ix := a.Child(kmip.TagAttributeIndex); ix != nil {
			i, _ = ix.AsInt()
		}
		indexes[i] = true
	}
	if len(notes) != 3*each || len(indexes) != 3*each {
		t.Fatalf("%d distinct values under %d indexes after %d concurrent adds on three nodes: %v", len(notes), len(indexes), 3*each, got)
	}
}

// PostgreSQL crashed and restarted under load (issue 15.4): kmipd answers
// General Failure meanwhile — never a hang, never a dropped connection —
// and serves again on the same connections without a restart; every
// acknowledged Create is there, and the process exits cleanly at the end.
func TestPostgresRestartedUnderLoad(t *testing.T) {
	cluster := pgtest.StartT(t, pgtest.Options{}) // its own: the test stops it
	dsn, err := cluster.CreateDatabase(context.Background(), "kmip")
	if err != nil {
		t.Fatal(err)
	}
	srv := harness.Start(t, harness.Options{StorageTOML: harness.PostgresStorage(dsn)})
	const conns = 4
	var (
		mu         sync.Mutex
		acked      []string
		after      atomic.Int32
		failures   atomic.Int32
		restarted  atomic.Bool
		slowest    atomic.Int64
		stop       = make(chan struct{})
		wg         sync.WaitGroup
		unexpected = make(chan error, conns)
	)
	create := kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "")
	for i := range conns {
		c := dial(t, srv, "alice", 1, 4)
		c.Timeout = 45 * time.Second // a hang shows as a timeout
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				p, err := c.Call(kmip.OperationCreate, create...)
				if d := time.Since(start); int64(d) > slowest.Load() {
					slowest.Store(int64(d))
				}
				var oe *kmipclient.OperationError
				switch {
				case err == nil:
					id, _ := p.Child(kmip.TagUniqueIdentifier).AsText()
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
					if restarted.Load() {
						after.Add(1)
					}
				case errors.As(err, &oe) && oe.Reason == kmip.ResultReasonGeneralFailure:
					failures.Add(1)
					time.Sleep(20 * time.Millisecond)
				default:
					unexpected <- fmt.Errorf("connection %d: %w", i, err)
					return
				}
			}
		})
	}
	wait := func(what string, cond func() bool) {
		for end := time.Now().Add(90 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				close(stop)
				wg.Wait()
				t.Fatalf("timed out waiting for %s\n%s", what, srv.LogContents(t))
			}
		}
	}
	wait("creates before the crash", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 50 })
	if err := cluster.CrashServer(); err != nil {
		t.Fatal(err)
	}
	wait("General Failure while PostgreSQL is down", func() bool { return failures.Load() >= 4 })
	if err := cluster.StartServer(); err != nil {
		t.Fatal(err)
	}
	restarted.Store(true)
	wait("creates after PostgreSQL came back", func() bool { return after.Load() >= 50 })
	close(stop)
	wg.Wait()
	close(unexpected)
	for err := range unexpected {
		t.Error(err)
	}
	t.Logf("%d acknowledged, %d after the restart, %d General Failure; slowest call %v",
		len(acked), after.Load(), failures.Load(), time.Duration(slowest.Load()))
	c := dial(t, srv, "alice", 1, 4)
	for _, id := range acked {
		if _, err := c.Call(kmip.OperationGetAttributes, kmip.Text(kmip.TagUniqueIdentifier, id),
			kmip.Text(kmip.TagAttributeName, "State")); err != nil {
			t.Fatalf("acknowledged key %s lost: %v", id, err)
		}
	}
	if log := srv.LogContents(t); strings.Contains(log, "panic") {
		t.Errorf("the log mentions a panic:\n%s", log)
	}
}

// Nodes on a PostgreSQL server that requires a password, one given in
// storage.url and one in storage.password_file: both serve, and neither
// the DEBUG log nor the output of either shows the password.
func TestPostgresPasswordNeverLogged(t *testing.T) {
	const password = "pg-Secret-7d1f0c"
	cluster := pgtest.StartT(t, pgtest.Options{Password: password})
	if _, err := cluster.CreateDatabase(context.Background(), "kmip"); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(t.TempDir(), "pg-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PGPASSWORD=", "PGPASSFILE=" + filepath.Join(t.TempDir(), "none")}
	a := harness.Start(t, harness.Options{Env: env,
		StorageTOML: harness.PostgresStorage(cluster.DSNFor("kmip"))})
	b := harness.Start(t, harness.Options{Env: env,
		StorageTOML: harness.PostgresStorage(cluster.DSNWithoutPassword("kmip")) + fmt.Sprintf("password_file = %q\n", pwFile)})
	ca, cb := dial(t, a, "alice", 1, 4), dial(t, b, "alice", 1, 4)
	uid := uidOf(t, call(t, ca, kmip.OperationCreate,
		kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "")...))
	call(t, cb, kmip.OperationGet, uid)
	for _, srv := range []*harness.Server{a, b} {
		srv.Stop(t)
		out, _ := os.ReadFile(filepath.Join(srv.Dir, "stderr.txt"))
		if log := srv.LogContents(t) + string(out); strings.Contains(log, password) {
			t.Errorf("%s: the log or output shows the PostgreSQL password", srv.Addr)
		} else if !strings.Contains(log, "kmip") {
			t.Errorf("%s: the log is empty: the check sees nothing", srv.Addr)
		}
	}
}
