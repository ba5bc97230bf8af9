package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kmipd/kmipd/adapters/storage/postgres"
	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// PostgreSQL crashing and coming back under load (issue 15.4): calls fail
// with ErrUnavailable within their time bound (none hangs), the same Store
// serves again by itself once the server is back, and every acknowledged
// Create is there after the server's crash recovery.
func TestServerCrashUnderLoad(t *testing.T) {
	c := pgtest.Shared(t)
	if c.DataDir == "" {
		t.Skip("the cluster was not started by this test binary")
	}
	dsn := pgtest.NewDatabase(t)
	const opTimeout = 3 * time.Second
	s := openDSN(t, dsn, postgres.Options{OpTimeout: opTimeout, ConnectTimeout: time.Second})
	ctx := context.Background()

	load := startCreateLoad(ctx, s, 8, "w", 10*time.Millisecond)
	testTimeout := time.After(60 * time.Second)
	waitFor := func(what string, cond func() bool) {
		for !cond() {
			select {
			case <-testTimeout:
				load.halt()
				t.Fatalf("timed out waiting for %s", what)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	waitFor("writes before the crash", func() bool { return len(load.ackedIDs()) >= 200 })
	if err := c.CrashServer(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // calls meanwhile fail
	if err := c.StartServer(); err != nil {
		t.Fatal(err)
	}
	load.event.Store(true)
	waitFor("writes after the restart", func() bool { return load.after.Load() >= 200 })
	acked := load.finish(t)
	t.Logf("%d acknowledged, %d ErrUnavailable, slowest call %v", len(acked), load.failures.Load(), time.Duration(load.slowest.Load()))
	if load.failures.Load() == 0 {
		t.Errorf("no call failed while the server was down: the test did not take the server down")
	}
	if d := time.Duration(load.slowest.Load()); d > opTimeout+2*time.Second {
		t.Errorf("a call took %v, more than its bound %v", d, opTimeout)
	}
	for _, id := range acked {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatalf("acknowledged %s lost in the server's crash: %v", id, err)
		}
	}
	ids, err := s.Locate(ctx, ports.LocateQuery{Terms: []domain.IndexTerm{{Name: domain.IndexOwner, Key: "alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) < len(acked) {
		t.Fatalf("%d indexed after the crash, %d acknowledged", len(ids), len(acked))
	}
}

// A failover to a promoted standby is a reconnect (issue 15.4): a store on
// a multi-host URL with target_session_attrs=read-write keeps creating
// while the primary crashes and its synchronous standby is promoted; calls
// meanwhile fail with ErrUnavailable, the same Store then writes to the new
// primary, and every Create acknowledged before or after is there.
func TestFailoverToPromotedStandby(t *testing.T) {
	ctx := context.Background()
	primary := pgtest.StartT(t, pgtest.Options{TCP: true})
	if _, err := primary.CreateDatabase(ctx, "kmip"); err != nil {
		t.Fatal(err)
	}
	standby, err := primary.StartStandby()
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Stop()
	// Synchronous replication: a commit returns once the standby has it, so
	// that the failover loses nothing acknowledged.
	conn, err := pgx.Connect(ctx, primary.DSN)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`ALTER SYSTEM SET synchronous_standby_names = '*'`, `SELECT pg_reload_conf()`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the standby did not become synchronous")
		}
	}
	conn.Close(ctx)

	url := fmt.Sprintf("postgres://%s@127.0.0.1:%d,127.0.0.1:%d/kmip?sslmode=disable&target_session_attrs=read-write",
		pgtest.Superuser, primary.Port, standby.Port)
	s := openDSN(t, url, postgres.Options{OpTimeout: 5 * time.Second, ConnectTimeout: time.Second})
	load := startCreateLoad(ctx, s, 4, "f", 20*time.Millisecond)
	wait := func(what string, cond func() bool) {
		for end := time.Now().Add(60 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				load.halt()
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	wait("writes to the primary", func() bool { return len(load.ackedIDs()) >= 100 })
	if err := primary.CrashServer(); err != nil {
		t.Fatal(err)
	}
	if err := standby.Promote(); err != nil {
		t.Fatal(err)
	}
	load.event.Store(true)
	wait("writes to the promoted standby", func() bool { return load.after.Load() >= 100 })
	acked := load.finish(t)
	t.Logf("%d acknowledged, %d after the promotion, %d ErrUnavailable meanwhile", len(acked), load.after.Load(), load.failures.Load())
	for _, id := range acked {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatalf("acknowledged %s lost in the failover: %v", id, err)
		}
	}
}

// createLoad is writers Creating sample objects in a loop on one Store
// until halted: it records every acknowledged id, the acknowledgements
// after event is set, the ErrUnavailable failures, the slowest call and
// (up to 100) errors of any other kind.
type createLoad struct {
	mu         sync.Mutex
	acked      []string
	after      atomic.Int32 // acknowledgements once event is set
	failures   atomic.Int32
	event      atomic.Bool
	slowest    atomic.Int64
	stop       chan struct{}
	wg         sync.WaitGroup
	unexpected chan error
}

// startCreateLoad starts writers goroutines naming their objects
// prefix<writer>-<n>, each pausing backoff after a failed Create.
func startCreateLoad(ctx context.Context, s *postgres.Store, writers int, prefix string, backoff time.Duration) *createLoad {
	l := &createLoad{stop: make(chan struct{}), unexpected: make(chan error, 100)}
	for g := range writers {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				id := fmt.Sprintf("%s%d-%06d", prefix, g, i)
				start := time.Now()
				err := s.Create(ctx, storetest.Sample(id))
				if d := time.Since(start); d > time.Duration(l.slowest.Load()) {
					l.slowest.Store(int64(d))
				}
				switch {
				case err == nil:
					l.mu.Lock()
					l.acked = append(l.acked, id)
					l.mu.Unlock()
					if l.event.Load() {
						l.after.Add(1)
					}
				case errors.Is(err, ports.ErrUnavailable):
					l.failures.Add(1)
					time.Sleep(backoff)
				default:
					select {
					case l.unexpected <- fmt.Errorf("Create(%s): %w", id, err):
					default:
					}
					time.Sleep(backoff)
				}
			}
		})
	}
	return l
}

// ackedIDs is a copy of the ids acknowledged so far.
func (l *createLoad) ackedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.acked...)
}

// halt stops the writers and waits for them.
func (l *createLoad) halt() {
	close(l.stop)
	l.wg.Wait()
}

// finish halts the writers, fails t for every error other than
// ErrUnavailable they met and returns the acknowledged ids.
func (l *createLoad) finish(t *testing.T) []string {
	t.Helper()
	l.halt()
	close(l.unexpected)
	for err := range l.unexpected {
		t.Errorf("error other than ErrUnavailable: %v", err)
	}
	return l.ackedIDs()
}
