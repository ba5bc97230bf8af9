// Package faults runs the real binary while the ground moves under it: the
// store removed, replaced, full or read-only, the memory budget reached, the
// HSM's token files removed, the SLUGS service stopped or hung. Each test
// checks what clients see and what the log says during the fault, that the
// server recovers when the fault ends, and that every write it acknowledged
// is still there after a restart. Faults that need root, chattr, a memory
// cgroup or SoftHSM2 skip with a message saying what is missing.
package faults

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11/softhsm"
	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// ackLedger holds the Unique Identifiers of the Creates the server
// acknowledged, so that a test can check each survives a restart.
type ackLedger struct {
	mu  sync.Mutex
	ids []string
}

// create asks c for a 128-bit AES key and records its identifier when the
// server acknowledges it.
func (l *ackLedger) create(c *kmipclient.Client) (string, error) {
	p, err := c.Call(kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128,
		kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, "")...)
	if err != nil {
		return "", err
	}
	id, ok := p.Child(kmip.TagUniqueIdentifier).AsText()
	if !ok || id == "" {
		return "", fmt.Errorf("Create acknowledged without a Unique Identifier: %v", p)
	}
	l.mu.Lock()
	l.ids = append(l.ids, id)
	l.mu.Unlock()
	return id, nil
}

// mustCreate is create, failing the test on an error.
func (l *ackLedger) mustCreate(t *testing.T, c *kmipclient.Client) string {
	t.Helper()
	id, err := l.create(c)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return id
}

// checkAfterRestart restarts srv and Gets every acknowledged object as cn.
func (l *ackLedger) checkAfterRestart(t *testing.T, srv *harness.Server, cn string) {
	t.Helper()
	begin := time.Now()
	srv.Restart(t)
	t.Logf("restart took %v", time.Since(begin))
	c := srv.Dial(t, cn, 1, 4)
	l.mu.Lock()
	ids := append([]string(nil), l.ids...)
	l.mu.Unlock()
	if len(ids) == 0 {
		t.Fatal("no acknowledged Create to check")
	}
	for _, id := range ids {
		if _, err := c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id)); err != nil {
			t.Errorf("acknowledged object %s after the restart: Get: %v", id, err)
		}
	}
	t.Logf("%d acknowledged objects found after the restart", len(ids))
}

// reasonOf is the Result Reason of a failed operation, 0 for other errors.
func reasonOf(err error) kmip.ResultReason {
	var oe *kmipclient.OperationError
	if errors.As(err, &oe) {
		return oe.Reason
	}
	return 0
}

// needHSM skips the test without SoftHSM2 or without cgo (the binary then
// has no PKCS#11 engine), and returns a fresh token.
func needHSM(t *testing.T, label string) *softhsm.Token {
	t.Helper()
	if !build.Default.CgoEnabled {
		t.Skip("cgo is disabled: kmipd is built without its PKCS#11 engine; skipping the HSM fault")
	}
	return softhsm.Setup(t, label, "31415926")
}

// tokenObjectFiles are the SoftHSM2 files of the token's objects (file
// backend: one UUID.object and UUID.lock each), not the token's own.
func tokenObjectFiles(t *testing.T, tok *softhsm.Token) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(tok.Dir, "tokens", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range all {
		switch filepath.Base(f) {
		case "token.object", "token.lock", "generation":
		default:
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no object files under %s: SoftHSM2's file layout changed?", tok.Dir)
	}
	return out
}

// moveFiles moves files into dir (or back, with back set).
func moveFiles(t *testing.T, files []string, dir string, back bool) {
	t.Helper()
	for _, f := range files {
		from, to := f, filepath.Join(dir, filepath.Base(f))
		if back {
			from, to = to, from
		}
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}
}

// callTimeout bounds every client round trip in the fault tests: a server
// that hangs fails the test instead of stalling it.
const callTimeout = 20 * time.Second

// dialT is srv.Dial with callTimeout set.
func dialT(t *testing.T, srv *harness.Server, cn string) *kmipclient.Client {
	t.Helper()
	c := srv.Dial(t, cn, 1, 4)
	c.Timeout = callTimeout
	return c
}

// hsmLoad keeps Gets of ids and Creates running on its own connections
// until stop is called; it counts what came back and the slowest answer.
type hsmLoad struct {
	stop    func()
	done    sync.WaitGroup
	calls   atomic.Int64
	slowest atomic.Int64 // nanoseconds
	mu      sync.Mutex
	odd     []string // answers other than success and Key Value Not Present
}

func startHSMLoad(t *testing.T, srv *harness.Server, ledger *ackLedger, ids []string) *hsmLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &hsmLoad{stop: cancel}
	for w := 0; w < 3; w++ {
		c := dialT(t, srv, "alice")
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			for i := w; ctx.Err() == nil; i++ {
				begin := time.Now()
				var err error
				if i%8 == 7 {
					_, err = ledger.create(c)
				} else {
					_, err = c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, ids[i%len(ids)]))
				}
				d := int64(time.Since(begin))
				for old := l.slowest.Load(); d > old && !l.slowest.CompareAndSwap(old, d); old = l.slowest.Load() {
				}
				l.calls.Add(1)
				if err != nil && reasonOf(err) != kmip.ResultReasonKeyValueNotPresent {
					l.mu.Lock()
					l.odd = append(l.odd, err.Error())
					l.mu.Unlock()
					if reasonOf(err) == 0 {
						return // the connection is gone
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	return l
}

// finish stops the load and fails the test on a hang or an unexpected answer.
func (l *hsmLoad) finish(t *testing.T) {
	t.Helper()
	l.stop()
	l.done.Wait()
	if s := time.Duration(l.slowest.Load()); s > 10*time.Second {
		t.Errorf("the slowest answer under load took %v", s)
	}
	if len(l.odd) > 0 {
		t.Errorf("%d unexpected answers under load, first: %s", len(l.odd), l.odd[0])
	}
	t.Logf("load: %d calls, slowest %v", l.calls.Load(), time.Duration(l.slowest.Load()))
}

// keyMissingWarned reports whether the log has a WARN line for id saying its
// key material is unavailable.
func keyMissingWarned(log, id string) bool {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `"level":"warn"`) && strings.Contains(line, `"id":"`+id+`"`) &&
			strings.Contains(line, "key material unavailable") {
			return true
		}
	}
	return false
}

// TestHSMTokenObjectsRemovedUnderLoad: the token's object files are moved
// away while clients work. Requests for those keys answer Key Value Not
// Present saying the key material is unavailable — not Item Not Found, not
// a hang — and the log has a WARN line naming the object; other requests go
// on. When the files come back, a restart finds every key again: every
// acknowledged Create, those whose files were away included, works.
func TestHSMTokenObjectsRemovedUnderLoad(t *testing.T) {
	tok := needHSM(t, "kmipd-faults-objects")
	srv := harness.Start(t, harness.HSMOptions(tok, "extractable = true"))
	c := dialT(t, srv, "alice")
	var ledger ackLedger
	var ids []string
	for i := 0; i < 4; i++ {
		ids = append(ids, ledger.mustCreate(t, c))
	}
	files := tokenObjectFiles(t, tok)
	load := startHSMLoad(t, srv, &ledger, ids)
	time.Sleep(200 * time.Millisecond)

	backup := t.TempDir()
	moveFiles(t, files, backup, false)
	for _, id := range ids {
		begin := time.Now()
		_, err := c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id))
		var oe *kmipclient.OperationError
		if !errors.As(err, &oe) || oe.Reason != kmip.ResultReasonKeyValueNotPresent || !strings.Contains(oe.Message, "unavailable") {
			t.Errorf("Get %s with its token object removed: %v, want Key Value Not Present saying the key material is unavailable", id, err)
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Errorf("Get %s with its token object removed took %v", id, d)
		}
	}
	if _, err := c.Call(kmip.OperationGetAttributes, kmip.Text(kmip.TagUniqueIdentifier, ids[0])); err != nil {
		t.Errorf("Get Attributes (no key material needed) while the token objects are gone: %v", err)
	}
	ledger.mustCreate(t, c) // the token itself is there: new keys still work
	time.Sleep(300 * time.Millisecond)
	log := srv.LogContents(t)
	for _, id := range ids {
		if !keyMissingWarned(log, id) {
			t.Errorf("no WARN log line naming %s and its unavailable key material", id)
		}
	}

	// SoftHSM2 may not see restored object files until it is initialized
	// again: the operator restarts kmipd (README "Failure behaviour").
	moveFiles(t, files, backup, true)
	if _, err := c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, ids[0])); err != nil {
		t.Logf("restored token objects are not seen before a restart: %v", err)
	}
	load.finish(t)
	ledger.checkAfterRestart(t, srv, "alice")
}

// TestHSMTokenDirectoryRemoved: the whole token directory is moved away.
// Use of existing keys answers Key Value Not Present and a Create answers
// General Failure with the CKR code in the log — never a client error such
// as Invalid Field — and nothing hangs. SoftHSM2 does not find the token
// again by itself when the directory comes back; after a restart (what the
// operator does, README "Failure behaviour") every acknowledged key works.
func TestHSMTokenDirectoryRemoved(t *testing.T) {
	tok := needHSM(t, "kmipd-faults-tokendir")
	srv := harness.Start(t, harness.HSMOptions(tok, "extractable = true"))
	c := dialT(t, srv, "alice")
	var ledger ackLedger
	id := ledger.mustCreate(t, c)
	dirs, err := filepath.Glob(filepath.Join(tok.Dir, "tokens", "*"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("token directories: %v %v", dirs, err)
	}
	aside := filepath.Join(t.TempDir(), "token")
	if err := os.Rename(dirs[0], aside); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	_, err = c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id))
	if r := reasonOf(err); r != kmip.ResultReasonKeyValueNotPresent {
		t.Errorf("Get with the token directory gone: %v, want Key Value Not Present", err)
	}
	_, err = ledger.create(c)
	switch r := reasonOf(err); {
	case err == nil:
		t.Log("SoftHSM2 created a key with its token directory gone")
	case r != kmip.ResultReasonGeneralFailure:
		t.Errorf("Create with the token directory gone: %v, want General Failure (a token fault is not the client's)", err)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("two requests with the token directory gone took %v", d)
	}
	if err != nil && !strings.Contains(srv.LogContents(t), "CKR_") {
		t.Error("the failed Create left no CKR code in the log")
	}
	if err := os.Rename(aside, dirs[0]); err != nil {
		t.Fatal(err)
	}
	ledger.checkAfterRestart(t, srv, "alice")
}
