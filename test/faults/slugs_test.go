package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// slugsFault is a SLUGS service (alice, in group "g") on a fixed address
// that a test can stop and start again, hang (accept and never answer) or
// make answer garbage.
type slugsFault struct {
	addr string

	mu   sync.Mutex
	mode string // "up", "hung" or "garbled"
	srv  *http.Server
	hung chan struct{} // closed to release hung requests
}

func startSlugsFault(t *testing.T) *slugsFault {
	t.Helper()
	f := &slugsFault{mode: "up", hung: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.serve(ln)
	t.Cleanup(func() {
		f.setMode("up")
		f.stop()
	})
	return f
}

// URL is the base URL kmipd is configured with.
func (f *slugsFault) URL() string { return "http://" + f.addr + "/slugs/" }

func (f *slugsFault) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(f.handle), ReadHeaderTimeout: 5 * time.Second}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go srv.Serve(ln)
}

// stop closes the listener and every connection: kmipd's requests are refused.
func (f *slugsFault) stop() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// start listens again on the same address.
func (f *slugsFault) start(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			f.serve(ln)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("SLUGS could not listen on %s again: %v", f.addr, err)
}

// setMode switches the answers; leaving "hung" releases the hung requests.
func (f *slugsFault) setMode(m string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mode == "hung" && m != "hung" {
		close(f.hung)
		f.hung = make(chan struct{})
	}
	f.mode = m
}

func (f *slugsFault) handle(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	mode, hung := f.mode, f.hung
	f.mu.Unlock()
	switch mode {
	case "hung":
		select {
		case <-hung:
		case <-r.Context().Done():
		}
		return
	case "garbled":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"groups": [`+"\x00\xff")
		return
	}
	switch r.URL.Path {
	case "/slugs/users/alice":
		json.NewEncoder(w).Encode(map[string]string{"user": "alice"})
	case "/slugs/users/alice/groups":
		json.NewEncoder(w).Encode(map[string][]string{"groups": {"g"}})
	default:
		http.NotFound(w, r)
	}
}

// slugsTimeout is kmipd's per-request SLUGS timeout in these tests.
const slugsTimeout = time.Second

// startWithSlugs runs kmipd asking f for every request (no answer cache).
func startWithSlugs(t *testing.T, f *slugsFault) *harness.Server {
	t.Helper()
	return harness.Start(t, harness.Options{ExtraTOML: fmt.Sprintf(
		"[auth.slugs.main]\nenabled = true\nurl = %q\ntimeout = %q\ncache_ttl = \"0s\"\n", f.URL(), slugsTimeout.String())})
}

// refusedInTime checks that n concurrent Creates, each on a new
// connection, are answered Authentication Not Successful within the SLUGS
// timeout plus a margin: the server neither hangs nor grants access.
func refusedInTime(t *testing.T, srv *harness.Server, ledger *ackLedger, what string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	took := make([]time.Duration, n)
	for i := 0; i < n; i++ {
		c, err := kmipclient.Dial(context.Background(), srv.Addr, srv.ClientTLSConfig(t, "alice"))
		if err != nil {
			t.Fatal(err)
		}
		c.Timeout = callTimeout
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			begin := time.Now()
			_, errs[i] = ledger.create(c)
			took[i] = time.Since(begin)
		}()
	}
	wg.Wait()
	t.Logf("%s: %d Creates refused, the slowest after %v", what, n, slices.Max(took))
	for i := range errs {
		if r := reasonOf(errs[i]); r != kmip.ResultReasonAuthenticationNotSuccessful {
			t.Errorf("%s: Create %d: %v, want Authentication Not Successful", what, i, errs[i])
		}
		if took[i] > 2*slugsTimeout+3*time.Second {
			t.Errorf("%s: Create %d answered after %v (SLUGS timeout %v)", what, i, took[i], slugsTimeout)
		}
	}
}

// worksAgain checks that a Create on a new connection succeeds, retrying
// for a few seconds while the service comes back.
func worksAgain(t *testing.T, srv *harness.Server, ledger *ackLedger, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := kmipclient.Dial(context.Background(), srv.Addr, srv.ClientTLSConfig(t, "alice"))
		if err != nil {
			t.Fatal(err)
		}
		c.Timeout = callTimeout
		_, err = ledger.create(c)
		c.Close()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: Create still fails 10s after SLUGS came back (no restart): %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSLUGSFaults: SLUGS stopped, hung (accepts and never answers) and
// answering garbage. Each request is refused with Authentication Not
// Successful within the SLUGS timeout — never granted, never hung, even
// with several at once — the log says the service is unavailable, and
// requests work again as soon as SLUGS does, without a restart. Every
// acknowledged Create is there after a restart.
func TestSLUGSFaults(t *testing.T) {
	f := startSlugsFault(t)
	srv := startWithSlugs(t, f)
	var ledger ackLedger
	worksAgain(t, srv, &ledger, "before any fault")

	faults := []struct {
		name       string
		begin, end func()
	}{
		{"stopped", f.stop, func() { f.start(t) }},
		{"hung", func() { f.setMode("hung") }, func() { f.setMode("up") }},
		{"garbled", func() { f.setMode("garbled") }, func() { f.setMode("up") }},
	}
	for _, fault := range faults {
		before := strings.Count(srv.LogContents(t), "authentication service unavailable")
		fault.begin()
		refusedInTime(t, srv, &ledger, "SLUGS "+fault.name, 4)
		if after := strings.Count(srv.LogContents(t), "authentication service unavailable"); after <= before {
			t.Errorf("SLUGS %s: no \"authentication service unavailable\" log line", fault.name)
		}
		fault.end()
		worksAgain(t, srv, &ledger, "SLUGS "+fault.name)
	}
	ledger.checkAfterRestart(t, srv, "alice")
}

// TestSLUGSDownAtRestart: kmipd restarts while SLUGS is down; it starts,
// refuses requests, and serves once SLUGS is back; every acknowledged
// object is there after a further restart.
func TestSLUGSDownAtRestart(t *testing.T) {
	f := startSlugsFault(t)
	srv := startWithSlugs(t, f)
	var ledger ackLedger
	worksAgain(t, srv, &ledger, "before the fault")
	f.stop()
	srv.Restart(t)
	refusedInTime(t, srv, &ledger, "SLUGS down at restart", 2)
	f.start(t)
	worksAgain(t, srv, &ledger, "SLUGS back after the restart")
	ledger.checkAfterRestart(t, srv, "alice")
}
