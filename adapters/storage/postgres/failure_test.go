package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
