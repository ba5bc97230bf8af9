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

	var (
		mu          sync.Mutex
		acked       []string
		ackedAfter  atomic.Int32 // acknowledgements after the restart
		failures    atomic.Int32
		restarted   atomic.Bool
		slowest     atomic.Int64
		stop        = make(chan struct{})
		wg          sync.WaitGroup
		unexpected  = make(chan error, 100)
		testTimeout = time.After(60 * time.Second)
	)
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%06d", g, i)
				start := time.Now()
				err := s.Create(ctx, storetest.Sample(id))
				if d := time.Since(start); d > time.Duration(slowest.Load()) {
					slowest.Store(int64(d))
				}
				switch {
				case err == nil:
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
					if restarted.Load() {
						ackedAfter.Add(1)
					}
				case errors.Is(err, ports.ErrUnavailable):
					failures.Add(1)
					time.Sleep(10 * time.Millisecond)
				default:
					select {
					case unexpected <- fmt.Errorf("Create(%s): %w", id, err):
					default:
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	waitFor := func(what string, cond func() bool) {
		for !cond() {
			select {
			case <-testTimeout:
				close(stop)
				wg.Wait()
				t.Fatalf("timed out waiting for %s", what)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	waitFor("writes before the crash", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 200 })
	if err := c.CrashServer(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // calls meanwhile fail
	if err := c.StartServer(); err != nil {
		t.Fatal(err)
	}
	restarted.Store(true)
	waitFor("writes after the restart", func() bool { return ackedAfter.Load() >= 200 })
	close(stop)
	wg.Wait()
	close(unexpected)
	for err := range unexpected {
		t.Errorf("error other than ErrUnavailable: %v", err)
	}
	t.Logf("%d acknowledged, %d ErrUnavailable, slowest call %v", len(acked), failures.Load(), time.Duration(slowest.Load()))
	if failures.Load() == 0 {
		t.Errorf("no call failed while the server was down: the test did not take the server down")
	}
	if d := time.Duration(slowest.Load()); d > opTimeout+2*time.Second {
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
	var (
		mu         sync.Mutex
		acked      []string
		after      atomic.Int32
		failures   atomic.Int32
		promoted   atomic.Bool
		stop       = make(chan struct{})
		wg         sync.WaitGroup
		unexpected = make(chan error, 8)
	)
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("f%d-%06d", g, i)
				switch err := s.Create(ctx, storetest.Sample(id)); {
				case err == nil:
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
					if promoted.Load() {
						after.Add(1)
					}
				case errors.Is(err, ports.ErrUnavailable):
					failures.Add(1)
					time.Sleep(20 * time.Millisecond)
				default:
					select {
					case unexpected <- err:
					default:
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	wait := func(what string, cond func() bool) {
		for end := time.Now().Add(60 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				close(stop)
				wg.Wait()
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	wait("writes to the primary", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 100 })
	if err := primary.CrashServer(); err != nil {
		t.Fatal(err)
	}
	if err := standby.Promote(); err != nil {
		t.Fatal(err)
	}
	promoted.Store(true)
	wait("writes to the promoted standby", func() bool { return after.Load() >= 100 })
	close(stop)
	wg.Wait()
	close(unexpected)
	for err := range unexpected {
		t.Errorf("error other than ErrUnavailable: %v", err)
	}
	t.Logf("%d acknowledged, %d after the promotion, %d ErrUnavailable meanwhile", len(acked), after.Load(), failures.Load())
	for _, id := range acked {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatalf("acknowledged %s lost in the failover: %v", id, err)
		}
	}
}
