// Package crash checks kmipd's durability and shutdown promises against the
// real binary: a Create whose response reached the client survives SIGKILL,
// and SIGTERM lets in-flight requests finish without truncating any response.
package crash

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// Bounds on the traffic of one kill cycle: it stops at the first one reached
// (the time bound only once something was acknowledged). They bound the
// runtime; nothing asserts on speed.
const (
	workers      = 8
	ackedPerKill = 400
	maxTraffic   = 10 * time.Second
	killCycles   = 3
	sampleSize   = 16
)

var storages = []string{"sqlite", "bbolt"}

// createAES256 is the request payload of a KMIP 1.4 Create (§4.1) of an
// AES-256 encrypt/decrypt key named name.
func createAES256(name string) []*kmip.Item {
	return kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256,
		kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, name)
}

// createdID returns the Unique Identifier of a Create response payload.
func createdID(payload *kmip.Item) (string, error) {
	id, ok := payload.Child(kmip.TagUniqueIdentifier).AsText()
	if !ok || id == "" {
		return "", fmt.Errorf("Create response payload without a Unique Identifier: %v", payload)
	}
	return id, nil
}

// keyMaterial returns the key material of a Get response payload for an
// AES-256 key, or an error unless it is 32 raw bytes.
func keyMaterial(payload *kmip.Item) ([]byte, error) {
	m, ok := payload.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	if !ok || len(m) != 32 {
		return nil, fmt.Errorf("Get returned no 32-byte key material (got %d bytes)", len(m))
	}
	return m, nil
}

func dial(t testing.TB, s *harness.Server) *kmipclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := kmipclient.Dial(ctx, s.Addr, s.ClientTLSConfig(t, ""))
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr, err)
	}
	return c
}

// acked is the set of Creates whose successful response reached a client:
// id to name.
type acked struct {
	mu    sync.Mutex
	names map[string]string
	order []string
}

func (a *acked) add(id, name string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, dup := a.names[id]; !dup {
		a.order = append(a.order, id)
	}
	a.names[id] = name
	return len(a.order)
}

func (a *acked) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.order)
}

// since returns the ids acknowledged after the first n.
func (a *acked) since(n int) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.order[n:]...)
}

func TestKill9KeepsAcknowledgedCreates(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the kmipd binary")
	}
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			s := harness.Start(t, harness.Options{Storage: storage})
			keys := &acked{names: map[string]string{}}
			sample := map[string][]byte{} // id to the key material Get returned before a kill
			for cycle := 1; cycle <= killCycles; cycle++ {
				before := keys.len()
				unacked := trafficThenKill(t, s, storage, cycle, keys, sample)
				if t.Failed() {
					return
				}
				s.Restart(t)
				verifyDurable(t, s, keys, sample)
				kept := verifyAllOrNothing(t, s, unacked)
				t.Logf("cycle %d: %d creates acknowledged before SIGKILL (%d in all); %d of %d cut off kept",
					cycle, keys.len()-before, keys.len(), kept, len(unacked))
				if t.Failed() {
					return
				}
			}
		})
	}
}

// trafficThenKill runs workers that create keys on their own connections,
// samples the key material of some acknowledged keys, and SIGKILLs kmipd
// while the workers still send; it returns the names of the Creates that
// were in flight.
func trafficThenKill(t *testing.T, s *harness.Server, storage string, cycle int, keys *acked, sample map[string][]byte) (unacked []string) {
	t.Helper()
	start := keys.len()
	var killed atomic.Bool
	var wg sync.WaitGroup
	var running atomic.Int32
	unacked = make([]string, workers) // the Create each worker had in flight at the kill
	clients := make([]*kmipclient.Client, workers)
	for w := range clients {
		clients[w] = dial(t, s)
	}
	for w, c := range clients {
		running.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer running.Add(-1)
			defer c.Close()
			// Until the kill makes a Create fail.
			for n := 0; ; n++ {
				name := fmt.Sprintf("crash-%s-c%d-w%d-%d", storage, cycle, w, n)
				p, err := c.Call(kmip.OperationCreate, createAES256(name)...)
				if err == nil {
					var id string
					if id, err = createdID(p); err == nil {
						keys.add(id, name)
						continue
					}
				}
				var opErr *kmipclient.OperationError
				if !killed.Load() || errors.As(err, &opErr) {
					t.Errorf("worker %d: Create %q: %v", w, name, err)
				}
				unacked[w] = name
				return
			}
		}()
	}

	deadline := time.Now().Add(maxTraffic)
	for keys.len()-start < ackedPerKill && running.Load() == workers &&
		(time.Now().Before(deadline) || keys.len() == start) {
		time.Sleep(5 * time.Millisecond)
	}
	if running.Load() == workers {
		// Sample key material while the workers keep the server busy.
		c := dial(t, s)
		ids := keys.since(start)
		step := max(1, len(ids)/sampleSize)
		for i := 0; i < len(ids); i += step {
			p, err := c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, ids[i]))
			if err == nil {
				var m []byte
				if m, err = keyMaterial(p); err == nil {
					sample[ids[i]] = m
					continue
				}
			}
			t.Errorf("Get %s before the kill: %v", ids[i], err)
			break
		}
		c.Close()
	}
	killed.Store(true)
	s.Kill(t)
	wg.Wait()
	if keys.len() == start && !t.Failed() {
		t.Fatal("no Create was acknowledged before the kill; the test proves nothing")
	}
	return unacked
}

// verifyAllOrNothing checks that each Create cut off by the kill left either
// no key or one whole key under its name, and returns how many left a key.
func verifyAllOrNothing(t *testing.T, s *harness.Server, names []string) (kept int) {
	t.Helper()
	c := dial(t, s)
	defer c.Close()
	for _, name := range names {
		p, err := c.Call(kmip.OperationLocate, kmipclient.NameAttribute(name))
		if err != nil {
			t.Errorf("Locate %q: %v", name, err)
			continue
		}
		found := p.ChildrenOf(kmip.TagUniqueIdentifier)
		kept += len(found)
		if len(found) > 1 {
			t.Errorf("Locate %q found %d keys for one Create", name, len(found))
		}
		for _, u := range found {
			id, _ := u.AsText()
			p, err := c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id))
			if err == nil {
				_, err = keyMaterial(p)
			}
			if err != nil {
				t.Errorf("key %s of the Create %q cut off by the kill is half there: %v", id, name, err)
			}
		}
	}
	return kept
}

// verifyDurable checks over several connections that every acknowledged key
// can be fetched with 32 bytes of key material (the sampled ones unchanged)
// and is the one key Locate finds by its name.
func verifyDurable(t testing.TB, s *harness.Server, keys *acked, sample map[string][]byte) {
	t.Helper()
	ids := keys.since(0)
	todo := make(chan string)
	var wg sync.WaitGroup
	var errCount atomic.Int32
	fail := func(format string, args ...any) {
		if errCount.Add(1) <= 20 {
			t.Errorf(format, args...)
		}
	}
	for range workers {
		c := dial(t, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			for id := range todo {
				name := keys.names[id]
				resp, err := c.RoundTrip(c.Request(
					kmipclient.BatchItem(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id)),
					kmipclient.BatchItem(kmip.OperationLocate, kmipclient.NameAttribute(name))))
				if err != nil {
					fail("Get+Locate %s: %v", id, err)
					continue
				}
				rs, err := kmipclient.Results(resp)
				if err != nil || len(rs) == 0 {
					fail("Get+Locate %s: no results: %v", id, err)
					continue
				}
				if rs[0].Err != nil {
					// With the default Batch Error Continuation Option
					// (Stop), the Locate may not have run.
					fail("acknowledged key %s (%s) lost: Get: %v", id, name, rs[0].Err)
					continue
				}
				if m, err := keyMaterial(rs[0].Payload); err != nil {
					fail("acknowledged key %s: %v", id, err)
				} else if want, ok := sample[id]; ok && !bytes.Equal(m, want) {
					fail("key %s: key material changed across restart", id)
				}
				if len(rs) != 2 {
					fail("Get+Locate %s: %d results, want 2", id, len(rs))
					continue
				}
				if rs[1].Err != nil {
					fail("Locate %q: %v", name, rs[1].Err)
					continue
				}
				var found []string
				for _, u := range rs[1].Payload.ChildrenOf(kmip.TagUniqueIdentifier) {
					v, _ := u.AsText()
					found = append(found, v)
				}
				if len(found) != 1 || found[0] != id {
					fail("Locate %q found %v, want [%s]", name, found, id)
				}
			}
		}()
	}
	for _, id := range ids {
		todo <- id
	}
	close(todo)
	wg.Wait()
	if n := errCount.Load(); n > 20 {
		t.Errorf("... %d failures in all", n)
	}
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	n int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n += int64(n)
	return n, err
}

// outcome is how one request on a draining server ended.
type outcome int

const (
	answered outcome = iota // the whole response arrived and decoded
	refused                 // the connection closed before any byte of the response
	torn                    // part of a response arrived, or it did not decode
)

// rawRoundTrip sends req and reads its response on conn, telling apart a
// response that never started from one cut short.
func rawRoundTrip(conn *countingConn, req []byte) (outcome, *kmip.Item, error) {
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(req); err != nil {
		return refused, nil, err
	}
	conn.n = 0
	msg, err := ttlv.ReadMessage(conn, nil, ttlv.DefaultLimits.MaxSize)
	if err != nil {
		// A TLS record cut short reads as io.ErrUnexpectedEOF even when none
		// of its plaintext was delivered.
		if conn.n > 0 || errors.Is(err, io.ErrUnexpectedEOF) {
			return torn, nil, fmt.Errorf("after %d bytes of the response: %w", conn.n, err)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return torn, nil, err // the server neither answered nor closed
		}
		return refused, nil, err
	}
	resp, err := ttlv.Decode(msg, ttlv.DefaultLimits)
	if err != nil {
		return torn, nil, fmt.Errorf("response of %d bytes does not decode: %w", len(msg), err)
	}
	return answered, resp, nil
}

func TestSIGTERMDrainsInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops the kmipd binary")
	}
	const conns = 6
	const ackedBeforeStop = 150
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			s := harness.Start(t, harness.Options{Storage: storage})
			keys := &acked{names: map[string]string{}}
			var stopping atomic.Bool
			var afterSignal atomic.Int32 // responses that arrived once SIGTERM was on its way
			var running atomic.Int32
			var wg sync.WaitGroup
			enc := kmipclient.Client{Major: 1, Minor: 4}
			cc := make([]*countingConn, conns)
			for w := range cc {
				tc, err := tls.Dial("tcp", s.Addr, s.ClientTLSConfig(t, ""))
				if err != nil {
					t.Fatal(err)
				}
				cc[w] = &countingConn{Conn: tc}
			}
			for w, conn := range cc {
				running.Add(1)
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer running.Add(-1)
					defer conn.Close()
					for n := 0; ; n++ {
						name := fmt.Sprintf("drain-%s-w%d-%d", storage, w, n)
						req, err := ttlv.Encode(enc.Request(kmipclient.BatchItem(kmip.OperationCreate, createAES256(name)...)))
						if err != nil {
							t.Error(err)
							return
						}
						sent := stopping.Load()
						how, resp, err := rawRoundTrip(conn, req)
						switch how {
						case torn:
							t.Errorf("worker %d: Create %q: torn response: %v", w, name, err)
							return
						case refused:
							if !stopping.Load() {
								t.Errorf("worker %d: Create %q: connection closed before SIGTERM: %v", w, name, err)
							}
							return
						}
						if stopping.Load() {
							afterSignal.Add(1)
						}
						rs, err := kmipclient.Results(resp)
						if err == nil && len(rs) != 1 {
							err = fmt.Errorf("%d batch items in the response", len(rs))
						}
						if err == nil {
							err = rs[0].Err
						}
						var id string
						if err == nil {
							id, err = createdID(rs[0].Payload)
						}
						if err != nil {
							// A draining server finishes what it accepted.
							t.Errorf("worker %d: Create %q (sent after SIGTERM: %v): %v", w, name, sent, err)
							return
						}
						keys.add(id, name)
					}
				}()
			}
			for keys.len() < ackedBeforeStop && running.Load() == conns {
				time.Sleep(2 * time.Millisecond)
			}
			stopping.Store(true)
			s.Stop(t) // SIGTERM; requires exit status 0
			wg.Wait() // every connection ends: the process is gone
			if t.Failed() {
				return
			}
			t.Logf("%d creates acknowledged, %d of them answered after SIGTERM was sent", keys.len(), afterSignal.Load())

			s.Restart(t)
			verifyDurable(t, s, keys, nil)
		})
	}
}

// TestVerifyDurableDetectsLoss makes sure the durability check can fail: an
// id the server never issued must be reported.
func TestVerifyDurableDetectsLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the kmipd binary")
	}
	s := harness.Start(t, harness.Options{})
	c := dial(t, s)
	defer c.Close()
	p, err := c.Call(kmip.OperationCreate, createAES256("probe")...)
	if err != nil {
		t.Fatal(err)
	}
	id, err := createdID(p)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		keys   map[string]string
		sample map[string][]byte
	}{
		"unknown id":       {map[string]string{"no-such-key": "probe-missing"}, nil},
		"wrong name":       {map[string]string{id: "not-probe"}, nil},
		"changed material": {map[string]string{id: "probe"}, map[string][]byte{id: make([]byte, 32)}},
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tc := cases[n]
		keys := &acked{names: map[string]string{}}
		for id, name := range tc.keys {
			keys.add(id, name)
		}
		rec := &recorder{TB: t}
		verifyDurable(rec, s, keys, tc.sample)
		if !rec.failed.Load() {
			t.Errorf("%s: verifyDurable reported nothing", n)
		}
	}
}

// recorder is a testing.TB that notes Errorf calls instead of failing.
type recorder struct {
	testing.TB
	failed atomic.Bool
}

func (r *recorder) Errorf(format string, args ...any) {
	r.failed.Store(true)
	r.TB.Logf("expected failure: "+format, args...)
}

// TestRawRoundTripClassifies makes sure the drain test tells a response that
// never started from one cut short, on a fake server.
func TestRawRoundTripClassifies(t *testing.T) {
	enc := kmipclient.Client{Major: 1, Minor: 4}
	req, err := ttlv.Encode(enc.Request(kmipclient.BatchItem(kmip.OperationQuery)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ttlv.Encode(kmip.Struct(kmip.TagResponseMessage, kmip.Struct(kmip.TagResponseHeader,
		kmip.Int(kmip.TagBatchCount, 0))))
	if err != nil {
		t.Fatal(err)
	}
	undecodable := append([]byte(nil), resp[:8]...)
	undecodable = append(undecodable, bytes.Repeat([]byte{0xFF}, len(resp)-8)...)
	for _, tc := range []struct {
		name  string
		reply []byte // what the server writes before closing
		want  outcome
	}{
		{"closed before answering", nil, refused},
		{"half a header", resp[:5], torn},
		{"header only", resp[:8], torn},
		{"all but one byte", resp[:len(resp)-1], torn},
		{"garbage body", undecodable, torn},
		{"whole response", resp, answered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server := net.Pipe()
			go func() {
				defer server.Close()
				if _, err := ttlv.ReadMessage(server, nil, ttlv.DefaultLimits.MaxSize); err != nil {
					return
				}
				server.Write(tc.reply)
			}()
			defer client.Close()
			got, _, err := rawRoundTrip(&countingConn{Conn: client}, req)
			if got != tc.want {
				t.Errorf("outcome %d (%v), want %d", got, err, tc.want)
			}
		})
	}
}
