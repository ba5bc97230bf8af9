package multinode

import (
	"context"
	"crypto/tls"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sealfile "github.com/kmipd/kmipd/adapters/seal/file"
	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/adapters/storage/sealed"
	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/adapters/transport/tlstickets"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
	"github.com/kmipd/kmipd/test/harness"
)

// Short ticket periods, so that a ticket's key expires within the test.
const (
	ticketRotation = 2 * time.Second
	ticketLifetime = 2 * time.Second
	ticketsTOML    = "tls_ticket_rotation = \"2s\"\ntls_ticket_lifetime = \"2s\"\n"
)

// firstTicket is a client session cache that keeps the first ticket it is
// given, so that every later handshake offers that one.
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

// resumed opens a KMIP connection to srv with cfg, runs a Query (which
// also reads the tickets the server sent) and reports whether the
// handshake resumed a session.
func resumed(t *testing.T, srv *harness.Server, cfg *tls.Config) bool {
	t.Helper()
	c, err := kmipclient.Dial(context.Background(), srv.Addr, cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", srv.Addr, err)
	}
	defer c.Close()
	call(t, c, kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))
	return c.ConnectionState().DidResume
}

// resumedHTTPS reports whether a TLS handshake with srv's HTTPS listener
// resumed the session of cfg's cached ticket.
func resumedHTTPS(t *testing.T, srv *harness.Server, cfg *tls.Config) bool {
	t.Helper()
	conn, err := tls.Dial("tcp", srv.HTTPSAddr, cfg)
	if err != nil {
		t.Fatalf("HTTPS handshake with %s: %v", srv.HTTPSAddr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().DidResume
}

// sharedNodes starts two nodes on one SQLite store that serve the same
// certificate and trust the same CA, as behind one load balancer.
func sharedNodes(t *testing.T, o harness.Options) (a, b *harness.Server) {
	t.Helper()
	o.Storage = "sqlite"
	o.PKIDir = filepath.Join(t.TempDir(), "pki")
	o.ExtraServerTOML += ticketsTOML
	return twoNodesWith(t, o)
}

// clientWithTicket is alice's client configuration with a session cache
// that keeps the first ticket.
func clientWithTicket(t *testing.T, srv *harness.Server) *tls.Config {
	cfg := srv.ClientTLSConfig(t, "alice")
	cfg.ClientSessionCache = &firstTicket{}
	return cfg
}

// A session begun on node A resumes on node B, over TTLV and over HTTPS
// (the ticket keys are shared through the store), until its key's period
// and lifetime have ended; then the handshake is a full one and works.
func TestTicketResumesOnOtherNode(t *testing.T) {
	a, b := sharedNodes(t, harness.Options{HTTPS: true})
	cfg := clientWithTicket(t, a)
	if resumed(t, a, cfg) {
		t.Fatal("the first connection resumed a session")
	}
	issued := time.Now()
	if !resumed(t, b, cfg) {
		t.Fatal("node B did not resume the session node A issued")
	}
	if !resumedHTTPS(t, b, cfg) {
		t.Fatal("node B's HTTPS listener did not resume the session node A issued")
	}
	if !resumed(t, a, cfg) {
		t.Fatal("node A did not resume its own session")
	}
	// The key that sealed the ticket decrypts until the end of its period
	// plus the lifetime: at most rotation + lifetime after issue.
	time.Sleep(time.Until(issued.Add(ticketRotation + ticketLifetime + time.Second)))
	for _, n := range []*harness.Server{a, b} {
		if resumed(t, n, cfg) {
			t.Fatalf("node %s resumed a session whose ticket key's lifetime ended", n.Addr)
		}
	}
	// After SIGHUP renews the TLS configuration, a new ticket still
	// resumes across nodes.
	for _, n := range []*harness.Server{a, b} {
		n.Signal(syscall.SIGHUP)
		waitLog(t, n, `"reload":"tls"`)
	}
	cfg = clientWithTicket(t, b)
	resumed(t, b, cfg)
	if !resumed(t, a, cfg) {
		t.Fatal("a fresh ticket from node B did not resume on node A")
	}
}

// tls_session_tickets = false: no session resumes, on the same node either.
func TestTicketsOff(t *testing.T) {
	a, b := sharedNodes(t, harness.Options{ExtraServerTOML: "tls_session_tickets = false\n"})
	cfg := clientWithTicket(t, a)
	for _, n := range []*harness.Server{a, a, b} {
		if resumed(t, n, cfg) {
			t.Fatal("a session resumed with tls_session_tickets = false")
		}
	}
}

// With sealing on no ticket key is in any store file in clear; without
// sealing the same scan finds the key (so the scan can fail).
func TestTicketKeysAtRest(t *testing.T) {
	for _, seal := range []bool{true, false} {
		t.Run(fmt.Sprintf("sealed=%v", seal), func(t *testing.T) {
			var o harness.Options
			var kekFile string
			if seal {
				kekFile = filepath.Join(t.TempDir(), "kek")
				if err := sealfile.Generate(kekFile); err != nil {
					t.Fatal(err)
				}
				o.ExtraTOML = fmt.Sprintf("\n[seal]\ntype = \"file\"\nkey_file = %q\n", kekFile)
			}
			a, b := sharedNodes(t, o)
			cfg := clientWithTicket(t, a)
			resumed(t, a, cfg)
			if !resumed(t, b, cfg) {
				t.Fatal("node B did not resume the session node A issued")
			}
			now := time.Now()
			b.Stop(t)
			a.Stop(t)
			keys := storedTicketKeys(t, a.DBPath, kekFile, now)
			if len(keys) == 0 {
				t.Fatal("no ticket key found in the store")
			}
			for _, k := range keys {
				files := storetest.StoreFilesHolding(t, a.DBPath, k)
				if seal && len(files) > 0 {
					t.Fatalf("a ticket key is in clear in %v", files)
				}
				if !seal && len(files) == 0 {
					t.Fatal("the scan did not find an unsealed ticket key in the store files")
				}
			}
		})
	}
}

// storedTicketKeys opens the SQLite store at dbPath (through the seal when
// kekFile is set) and returns the ticket keys of the periods around now.
func storedTicketKeys(t *testing.T, dbPath, kekFile string, now time.Time) [][]byte {
	t.Helper()
	inner, err := sqlite.Open(dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	var store ports.Store = inner
	if kekFile != "" {
		kek, err := sealfile.Open(kekFile)
		if err != nil {
			t.Fatal(err)
		}
		store = sealed.New(inner, kek).Port()
	}
	ss := store.(ports.ScratchStore)
	var keys [][]byte
	p := tlstickets.Period(now, ticketRotation)
	for q := p - 3; q <= p+1; q++ {
		v, err := ss.GetScratch(context.Background(), tlstickets.KeyName(ticketRotation, q))
		if err == nil && len(v) == 32 {
			keys = append(keys, v)
		}
	}
	return keys
}

// On PostgreSQL too, a session begun on one node resumes on the other.
func TestPostgresTicketResumesOnOtherNode(t *testing.T) {
	o := harness.Options{StorageTOML: harness.PostgresStorage(pgtest.NewDatabase(t)),
		PKIDir: filepath.Join(t.TempDir(), "pki"), ExtraServerTOML: ticketsTOML}
	a := harness.Start(t, o)
	b := harness.Start(t, o)
	cfg := clientWithTicket(t, a)
	if resumed(t, a, cfg) {
		t.Fatal("the first connection resumed a session")
	}
	if !resumed(t, b, cfg) {
		t.Fatal("node B did not resume the session node A issued")
	}
	if log := a.LogContents(t) + b.LogContents(t); strings.Contains(log, "shared keys failed") {
		t.Fatalf("a node failed to read or write the shared keys:\n%s", log)
	}
}

// waitLog waits until srv's log holds want.
func waitLog(t *testing.T, srv *harness.Server, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(srv.LogContents(t), want) {
			return
		}
	}
	t.Fatalf("no %s in the log of %s", want, srv.Addr)
}
