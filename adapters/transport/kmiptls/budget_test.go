package kmiptls

import (
	"context"
	"crypto/tls"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
)

// tryAcquire acquires with a short wait and reports whether it was granted.
func tryAcquire(t *testing.T, b *budget, who string, n int64) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := b.acquire(ctx, who, n)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire: %v", err)
	}
	return err == nil
}

// acquireAsync starts an acquire and returns a channel that receives its result.
func acquireAsync(b *budget, who string, n int64) chan error {
	done := make(chan error, 1)
	go func() {
		_, err := b.acquire(context.Background(), who, n)
		done <- err
	}()
	return done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The budget counts what is held, refuses what does not fit until it is
// released, and a wait that ends holds nothing.
func TestBudgetAccounting(t *testing.T) {
	b := newBudget(100, 100, 10)
	if !tryAcquire(t, b, "a", 60) || !tryAcquire(t, b, "b", 40) {
		t.Fatal("reservations within the budget refused")
	}
	if tryAcquire(t, b, "c", 1) {
		t.Fatal("a reservation over the budget was granted")
	}
	if b.used != 100 || b.waiting() != 0 {
		t.Fatalf("after a wait that timed out: used %d, %d waiting; want 100, 0", b.used, b.waiting())
	}
	done := acquireAsync(b, "c", 30)
	waitFor(t, "the waiter", func() bool { return b.waiting() == 1 })
	b.release("b", 40)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b.grow("c", 25) // a response already allocated: counted without waiting
	if b.used != 115 || b.held["c"] != 55 {
		t.Fatalf("used %d, c holds %d; want 115, 55", b.used, b.held["c"])
	}
	b.release("a", 60)
	b.release("c", 55)
	if b.used != 0 || len(b.held) != 0 {
		t.Fatalf("after releasing everything: used %d, held %v", b.used, b.held)
	}
}

// One client cannot hold more than its share, and while it waits for more,
// other clients behind it are served.
func TestBudgetPerClientShare(t *testing.T) {
	b := newBudget(100, 50, 10)
	if !tryAcquire(t, b, "alice", 30) {
		t.Fatal("alice's first reservation refused")
	}
	done := acquireAsync(b, "alice", 30) // 60 > her share of 50
	waitFor(t, "alice's waiter", func() bool { return b.waiting() == 1 })
	if !tryAcquire(t, b, "bob", 50) {
		t.Fatal("bob was not served while alice waited for more than her share")
	}
	select {
	case err := <-done:
		t.Fatalf("alice got more than her share (%v)", err)
	case <-time.After(20 * time.Millisecond):
	}
	b.release("alice", 30)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A large reservation waiting for the total budget is not overtaken by
// smaller ones arriving after it.
func TestBudgetLargeRequestNotStarved(t *testing.T) {
	b := newBudget(100, 100, 10)
	if !tryAcquire(t, b, "a", 60) {
		t.Fatal("first reservation refused")
	}
	large := acquireAsync(b, "b", 60)
	waitFor(t, "the large waiter", func() bool { return b.waiting() == 1 })
	small := acquireAsync(b, "c", 20)
	waitFor(t, "the small waiter", func() bool { return b.waiting() == 2 })
	b.release("a", 60)
	if err := <-large; err != nil {
		t.Fatal(err)
	}
	if err := <-small; err != nil {
		t.Fatal(err)
	}
	if b.used != 80 {
		t.Fatalf("used %d, want 80", b.used)
	}
}

// paddedRequest is a request message of about n bytes.
func paddedRequest(n int) *kmip.Item {
	return kmip.Struct(kmip.TagRequestMessage, kmip.Int(kmip.TagBatchCount, 1),
		kmip.Bytes(kmip.TagData, make([]byte, n-32)))
}

// sendAsync writes req on c and returns a channel receiving the response's
// error once it arrives.
func sendAsync(c *tls.Conn, req *kmip.Item) chan error {
	done := make(chan error, 1)
	go func() {
		_, err := roundTrip(c, req)
		done <- err
	}()
	return done
}

// A client whose requests fill its share of the memory budget has its next
// request left unread until one finishes, while another client is served.
func TestMemoryBudgetBackpressure(t *testing.T) {
	h := &fakeHandler{started: make(chan struct{}, 8), release: make(chan struct{})}
	ts := startServer(t, h, func(s *Server) {
		s.MaxMessageSize = 1024
		s.MemoryBudget = 4096
		s.ClientMemoryBudget = 1024
	})
	bobCert, bobKey, err := IssueClientCert(pki(t), filepath.Join(t.TempDir(), "bob"), "bob", true)
	if err != nil {
		t.Fatal(err)
	}
	req := paddedRequest(1000)
	var conns []*tls.Conn
	for _, cfg := range []*tls.Config{adminConfig(t), adminConfig(t), clientConfig(t, bobCert, bobKey)} {
		c, err := dial(t, ts.addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	first := sendAsync(conns[0], req)
	<-h.started
	second := sendAsync(conns[1], req) // the admin's share is taken: waits unread
	bob := sendAsync(conns[2], req)
	<-h.started
	time.Sleep(100 * time.Millisecond)
	if n := h.calls(); n != 2 {
		t.Fatalf("%d requests reached the handler, want 2 (the admin's second must wait)", n)
	}
	h.release <- struct{}{}
	h.release <- struct{}{}
	for _, done := range []chan error{first, bob} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	<-h.started // the admin's second request, now read
	h.release <- struct{}{}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}

// A request that does not fit in the budget within the read timeout closes
// its connection without reaching the handler; the server goes on serving.
func TestMemoryBudgetTimeoutClosesConnection(t *testing.T) {
	h := &fakeHandler{started: make(chan struct{}, 8), release: make(chan struct{})}
	ts := startServer(t, h, func(s *Server) {
		s.MaxMessageSize = 1024
		s.MemoryBudget = 1024
		s.ReadTimeout = 200 * time.Millisecond
	})
	req := paddedRequest(1000)
	a, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	first := sendAsync(a, req)
	<-h.started
	if _, err := roundTrip(b, req); err == nil {
		t.Fatal("a request over the budget was answered")
	}
	if n := h.calls(); n != 1 {
		t.Fatalf("%d requests reached the handler, want 1", n)
	}
	h.release <- struct{}{}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	again := sendAsync(a, req)
	<-h.started
	h.release <- struct{}{}
	if err := <-again; err != nil {
		t.Fatalf("the budget was not returned after the timeout: %v", err)
	}
}

// A request that waited for the budget gets the whole read timeout for its
// body once its bytes are reserved: the wait does not count against it.
func TestMemoryBudgetWaitDoesNotShortenRead(t *testing.T) {
	h := &fakeHandler{started: make(chan struct{}, 8), release: make(chan struct{})}
	ts := startServer(t, h, func(s *Server) {
		s.MaxMessageSize = 1024
		s.MemoryBudget = 1024
		s.ReadTimeout = time.Second
	})
	req := paddedRequest(1000)
	a, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := dial(t, ts.addr, adminConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	first := sendAsync(a, req)
	<-h.started
	msg, err := ttlv.Encode(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write(msg[:8]); err != nil { // the header: b now waits for the budget
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond)
	h.release <- struct{}{} // the budget frees 0.8s into b's read timeout
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // past the first read deadline, within the renewed one
	if _, err := b.Write(msg[8:]); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := readResponse(b)
		done <- err
	}()
	select {
	case <-h.started:
		h.release <- struct{}{}
		err = <-done
	case err = <-done: // closed before the handler saw the request
	}
	if err != nil {
		t.Fatalf("the request's body was refused after its wait for the budget: %v", err)
	}
}

// The fast path grants only what acquire would grant at once: nothing while
// another reservation waits (arrival order), nothing over a client's share
// or the total.
func TestBudgetTryAcquire(t *testing.T) {
	b := newBudget(100, 60, 10)
	if !b.tryAcquire("a", 50) {
		t.Fatal("a reservation within the budget refused")
	}
	if b.tryAcquire("a", 20) {
		t.Fatal("a reservation over the client's share was granted")
	}
	if !b.tryAcquire("b", 40) || b.used != 90 {
		t.Fatalf("used %d after two reservations, want 90", b.used)
	}
	if b.tryAcquire("c", 20) {
		t.Fatal("a reservation over the total was granted")
	}
	done := acquireAsync(b, "c", 20)
	waitFor(t, "the waiter", func() bool { return b.waiting() == 1 })
	b.release("b", 5) // 15 free: the waiter still does not fit, "d" would
	if b.tryAcquire("d", 10) {
		t.Fatal("a reservation passed one waiting before it")
	}
	b.release("a", 50)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !b.tryAcquire("d", 10) || b.used != 35+20+10 {
		t.Fatalf("used %d, want 65", b.used)
	}
}
