package tlstickets

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/ports"
)

// clock is a fake clock the tests step.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// memStore is a ports.ScratchStore in memory whose values expire by a
// fake clock; fail makes every call fail.
type memStore struct {
	now  func() time.Time
	mu   sync.Mutex
	vals map[string]memValue
	fail atomic.Bool
	adds atomic.Int32
	// failWith, when set, is the error of every call while fail is set.
	failWith error
}

type memValue struct {
	v   []byte
	exp time.Time
}

var errDown = errors.New("store down")

func (m *memStore) down() error {
	if m.failWith != nil {
		return m.failWith
	}
	return errDown
}

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, vals: map[string]memValue{}}
}

func (m *memStore) PutScratch(_ context.Context, key string, value []byte, exp time.Time, _ ...ports.ScratchQuota) error {
	if m.fail.Load() {
		return m.down()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[key] = memValue{bytes.Clone(value), exp}
	return nil
}

func (m *memStore) AddScratch(_ context.Context, key string, value []byte, exp time.Time) error {
	if m.fail.Load() {
		return m.down()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.vals[key]; ok && m.now().Before(v.exp) {
		return fmt.Errorf("scratch %q: %w", key, ports.ErrExists)
	}
	m.adds.Add(1)
	m.vals[key] = memValue{bytes.Clone(value), exp}
	return nil
}

func (m *memStore) GetScratch(_ context.Context, key string) ([]byte, error) {
	if m.fail.Load() {
		return nil, m.down()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.vals[key]; ok && m.now().Before(v.exp) {
		return bytes.Clone(v.v), nil
	}
	return nil, fmt.Errorf("scratch %q: %w", key, ports.ErrNotFound)
}

func (m *memStore) TakeScratch(ctx context.Context, key string) ([]byte, error) {
	v, err := m.GetScratch(ctx, key)
	if err == nil {
		err = m.DeleteScratch(ctx, key)
	}
	return v, err
}

func (m *memStore) DeleteScratch(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.vals, key)
	return nil
}

// midPeriod is a time in the middle of a one-minute period.
var midPeriod = time.Date(2036, 12, 7, 12, 0, 30, 0, time.UTC) // after the real clock: stores expire by it

func newRing(t *testing.T, store ports.ScratchStore, now func() time.Time, rotation, lifetime time.Duration) *Ring {
	t.Helper()
	r, err := New(Options{Store: store, Rotation: rotation, Lifetime: lifetime, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func refresh(t *testing.T, r *Ring) time.Time {
	t.Helper()
	next, err := r.Refresh(context.Background())
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return next
}

// TestRotation steps a fake clock through periods: two nodes whose clocks
// differ by seconds encrypt with the same key, a new key encrypts each
// period, and an old key decrypts until Lifetime after its period, then is
// dropped.
func TestRotation(t *testing.T) {
	clkA := &clock{t: midPeriod}
	clkB := &clock{t: midPeriod.Add(3 * time.Second)}
	store := newMemStore(clkA.Now)
	a := newRing(t, store, clkA.Now, time.Minute, 2*time.Minute)
	b := newRing(t, store, clkB.Now, time.Minute, 2*time.Minute)
	next := refresh(t, a)
	if want := midPeriod.Truncate(time.Minute).Add(time.Minute); !next.Equal(want) {
		t.Fatalf("next refresh at %s, want the next period's start %s", next, want)
	}
	refresh(t, b)
	pa, ka := a.Keys()
	pb, kb := b.Keys()
	if len(ka) != 2 || len(kb) != 2 || ka[0] != kb[0] || ka[1] != kb[1] || pa[0] != pb[0] || pa[1] != pa[0]+1 {
		t.Fatalf("nodes disagree or hold other than the current and next keys: periods %v and %v", pa, pb)
	}
	if store.adds.Load() != 2 {
		t.Fatalf("%d keys added to the store, want 2 (current and next period)", store.adds.Load())
	}
	first, nextKey := ka[0], ka[1]

	// One period later, the key made ahead encrypts; the first decrypts.
	for _, c := range []*clock{clkA, clkB} {
		c.Add(time.Minute)
	}
	refresh(t, a)
	refresh(t, b)
	_, ka = a.Keys()
	_, kb = b.Keys()
	if ka[0] != nextKey || kb[0] != nextKey || len(ka) != 3 || ka[1] != first {
		t.Fatalf("after a rotation: %d keys, encrypting with the next key %v, the first still held %v",
			len(ka), ka[0] == nextKey, len(ka) == 3 && ka[1] == first)
	}
	// The first period ended 1m ago; its key decrypts until 2m after.
	clkA.Add(time.Minute)
	refresh(t, a)
	if _, ka = a.Keys(); !holds(ka, first) {
		t.Fatal("the first key was dropped before its lifetime ended")
	}
	clkA.Add(time.Minute)
	refresh(t, a)
	if _, ka = a.Keys(); holds(ka, first) {
		t.Fatal("the first key still held after its period and lifetime ended")
	}
	if len(ka) != 4 { // periods p+3 (current), p+4 (ahead), p+2 and p+1 (lifetime)
		t.Fatalf("%d keys held, want 4", len(ka))
	}
}

// TestNodeLateOnSkew: a node whose clock already entered the next period
// encrypts with the key made ahead, which a node still in the previous
// period holds too.
func TestNodeLateOnSkew(t *testing.T) {
	boundary := midPeriod.Truncate(time.Minute).Add(time.Minute)
	clkA := &clock{t: boundary.Add(-time.Second)}
	clkB := &clock{t: boundary.Add(time.Second)}
	store := newMemStore(clkA.Now)
	a := newRing(t, store, clkA.Now, time.Minute, time.Hour)
	b := newRing(t, store, clkB.Now, time.Minute, time.Hour)
	refresh(t, a)
	refresh(t, b)
	_, ka := a.Keys()
	_, kb := b.Keys()
	if ka[0] == kb[0] || !holds(ka, kb[0]) || !holds(kb, ka[0]) {
		t.Fatal("across a period boundary each node must hold the key the other encrypts with")
	}
}

// TestRaceOneKey: nodes refreshing at once agree on every key.
func TestRaceOneKey(t *testing.T) {
	clk := &clock{t: midPeriod}
	store := newMemStore(clk.Now)
	rings := make([]*Ring, 8)
	for i := range rings {
		rings[i] = newRing(t, store, clk.Now, time.Minute, time.Hour)
	}
	var wg sync.WaitGroup
	for _, r := range rings {
		wg.Go(func() {
			if _, err := r.Refresh(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	_, want := rings[0].Keys()
	for i, r := range rings {
		if _, got := r.Keys(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("ring %d holds other keys than ring 0", i)
		}
	}
	if n := store.adds.Load(); n != 2 {
		t.Fatalf("%d keys added, want 2", n)
	}
}

// TestStoreDownKeepsKeys: when the store cannot be reached the keys in hand
// stay in force, the error names no key, and the next try comes soon.
func TestStoreDownKeepsKeys(t *testing.T) {
	clk := &clock{t: midPeriod}
	store := newMemStore(clk.Now)
	r := newRing(t, store, clk.Now, time.Minute, time.Hour)
	refresh(t, r)
	_, before := r.Keys()
	store.fail.Store(true)
	clk.Add(time.Minute)
	next, err := r.Refresh(context.Background())
	if !errors.Is(err, errDown) {
		t.Fatalf("Refresh with the store down: %v, want its error", err)
	}
	if d := next.Sub(clk.Now()); d <= 0 || d > 15*time.Second {
		t.Fatalf("retry in %s, want soon", d)
	}
	_, after := r.Keys()
	if len(after) != 2 || after[0] != before[1] || after[1] != before[0] {
		t.Fatal("keys in hand were not kept: the key made ahead should encrypt, the old one decrypt")
	}
	for _, k := range after {
		if strings.Contains(err.Error(), string(k[:])) || strings.Contains(err.Error(), fmt.Sprintf("%x", k[:8])) {
			t.Fatal("the error shows key bytes")
		}
	}
	store.fail.Store(false)
	refresh(t, r)
	if _, k := r.Keys(); len(k) != 3 || k[0] != before[1] {
		t.Fatalf("after the store came back: %d keys", len(k))
	}
}

// TestPastKeyReadAfterOutage: a node that starts while the store is out
// of reach reads the past periods' keys once it is back, so that the
// tickets other nodes issued under them resume on it too.
func TestPastKeyReadAfterOutage(t *testing.T) {
	clk := &clock{t: midPeriod}
	store := newMemStore(clk.Now)
	a := newRing(t, store, clk.Now, time.Minute, time.Hour)
	refresh(t, a)
	_, ka := a.Keys()
	clk.Add(2 * time.Minute) // two periods on: ka[0]'s period is past
	store.failWith = fmt.Errorf("connection refused: %w", ports.ErrUnavailable)
	store.fail.Store(true)
	b := newRing(t, store, clk.Now, time.Minute, time.Hour)
	if _, err := b.Refresh(context.Background()); !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("Refresh with the store out of reach: %v", err)
	}
	store.fail.Store(false)
	refresh(t, b)
	if _, kb := b.Keys(); !holds(kb, ka[0]) {
		t.Fatal("a past period's key was not read once the store was back")
	}
}

// TestResumeAcrossRings runs real handshakes: a ticket one node issued
// resumes on another node of the same store, not on a node of another
// store, and no longer once its key's lifetime ended.
func TestResumeAcrossRings(t *testing.T) {
	cert := selfSigned(t)
	clkA := &clock{t: midPeriod}
	clkB := &clock{t: midPeriod.Add(2 * time.Second)}
	store := newMemStore(time.Now)
	a := newRing(t, store, clkA.Now, time.Minute, time.Minute)
	b := newRing(t, store, clkB.Now, time.Minute, time.Minute)
	other := newRing(t, newMemStore(time.Now), clkA.Now, time.Minute, time.Minute)
	for _, r := range []*Ring{a, b, other} {
		refresh(t, r)
	}
	cache := &firstTicket{}
	if handshake(t, serverConfig(cert, a), cache) {
		t.Fatal("first handshake resumed")
	}
	if !handshake(t, serverConfig(cert, b), cache) {
		t.Fatal("a ticket from node A did not resume on node B")
	}
	if handshake(t, serverConfig(cert, other), cache) {
		t.Fatal("a ticket resumed on a node of another store")
	}
	clkB.Add(2*time.Minute + time.Second) // past the period's end plus the lifetime
	refresh(t, b)
	if handshake(t, serverConfig(cert, b), cache) {
		t.Fatal("a ticket resumed after its key's lifetime ended")
	}
}

// TestNoSharedKeysStillResumesLocally: before any shared key is loaded
// (store down), handshakes work and resume on the same node with Go's own
// keys.
func TestNoSharedKeysStillResumesLocally(t *testing.T) {
	cert := selfSigned(t)
	store := newMemStore(time.Now)
	store.fail.Store(true)
	r := newRing(t, store, time.Now, time.Minute, time.Minute)
	if _, err := r.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh with the store down succeeded")
	}
	cfg := serverConfig(cert, r)
	cache := &firstTicket{}
	handshake(t, cfg, cache)
	if !handshake(t, cfg, cache) {
		t.Fatal("no resumption on the same node without shared keys")
	}
}

// TestRunStops: Run returns once its context ends.
func TestRunStops(t *testing.T) {
	r := newRing(t, newMemStore(time.Now), nil, time.Hour, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if _, k := r.Keys(); len(k) < 2 {
		t.Fatalf("Run loaded %d keys, want the current and next period's", len(k))
	}
}

// TestRunLogsFailure: Run logs a refresh that failed, with the store's
// error, and keeps going.
func TestRunLogsFailure(t *testing.T) {
	store := newMemStore(time.Now)
	store.fail.Store(true)
	var log syncBuffer
	r, err := New(Options{Store: store, Rotation: time.Hour, Lifetime: time.Hour, Log: zerolog.New(&log)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "store down") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := log.String(); !strings.Contains(got, `"level":"error"`) || !strings.Contains(got, "shared keys failed") {
		t.Fatalf("log: %s", got)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCheckPeriods(t *testing.T) {
	for _, c := range []struct {
		rotation, lifetime time.Duration
		ok                 bool
	}{
		{time.Hour, 24 * time.Hour, true},
		{time.Second, time.Second, true},
		{time.Millisecond, time.Second, false},
		{time.Hour, 0, false},
		{time.Hour, -time.Hour, false},
		{time.Minute, 98 * time.Minute, true},
		{time.Minute, 99 * time.Minute, false},
	} {
		if err := CheckPeriods(c.rotation, c.lifetime); (err == nil) != c.ok {
			t.Errorf("CheckPeriods(%s, %s) = %v", c.rotation, c.lifetime, err)
		}
	}
}

func holds(keys [][32]byte, k [32]byte) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// firstTicket is a client session cache that keeps the first ticket it is
// given, so that later handshakes all offer it.
type firstTicket struct {
	mu sync.Mutex
	cs *tls.ClientSessionState
}

func (c *firstTicket) Get(string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cs, c.cs != nil
}

func (c *firstTicket) Put(_ string, cs *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cs == nil && cs != nil {
		c.cs = cs
	}
}

func serverConfig(cert tls.Certificate, r *Ring) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	r.Apply(cfg)
	return cfg.Clone() // as the transports clone it
}

// handshake connects a client offering cache's ticket to a server with
// cfg over loopback TCP and reports whether the session resumed.
func handshake(t *testing.T, cfg *tls.Config, cache tls.ClientSessionCache) bool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvErr := make(chan error, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer s.Close()
		srv := tls.Server(s, cfg)
		if err := srv.Handshake(); err != nil {
			srvErr <- err
			return
		}
		_, err = srv.Write([]byte{1}) // the client reads the tickets sent before it
		srvErr <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ClientSessionCache: cache, ServerName: "node"})
	if err := cl.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if _, err := cl.Read(make([]byte, 1)); err != nil {
		t.Fatalf("client read: %v", err)
	}
	if err := <-srvErr; err != nil {
		t.Fatalf("server: %v", err)
	}
	return cl.ConnectionState().DidResume
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "node"},
		DNSNames: []string{"node"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
