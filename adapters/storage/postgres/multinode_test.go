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
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// twoNodes opens two stores on one new database, as two kmipd nodes would.
func twoNodes(t *testing.T) [2]*postgres.Store {
	dsn := pgtest.NewDatabase(t)
	return [2]*postgres.Store{openDSN(t, dsn, postgres.Options{}), openDSN(t, dsn, postgres.Options{})}
}

// Updates of one object sent to two nodes at once all take effect, one
// after the other: none is lost to another node's concurrent write.
func TestTwoNodesUpdateOneObject(t *testing.T) {
	nodes := twoNodes(t)
	ctx := context.Background()
	o := storetest.Sample("shared")
	o.SetAttr("x-counter", kmip.Int(kmip.TagAttributeValue, 0))
	if err := nodes[0].Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	const each = 40
	var wg sync.WaitGroup
	var failed atomic.Int32
	for w := range 2 * each {
		wg.Go(func() {
			err := nodes[w%2].Update(ctx, "shared", func(o *domain.Object) error {
				v, _ := o.Attr("x-counter").AsInt()
				o.SetAttr("x-counter", kmip.Int(kmip.TagAttributeValue, v+1))
				return nil
			})
			if err != nil {
				failed.Add(1)
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := nodes[1].Get(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := got.Attr("x-counter").AsInt(); v != 2*each || got.Revision != 2*each {
		t.Fatalf("counter %d at revision %d after %d increments from two nodes", v, got.Revision, 2*each)
	}
}

// Of Creates of one identifier sent to two nodes at once exactly one wins,
// and an identifier deleted on one node is refused by the other for ever.
func TestTwoNodesCreateOneIdentifier(t *testing.T) {
	nodes := twoNodes(t)
	ctx := context.Background()
	for round := range 5 {
		id := fmt.Sprintf("contended-%d", round)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				switch err := nodes[w%2].Create(ctx, storetest.Sample(id)); {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, ports.ErrExists):
					t.Errorf("Create(%s): %v", id, err)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("%s: %d Creates succeeded across two nodes, want 1", id, n)
		}
		if err := nodes[round%2].Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := nodes[1-round%2].Create(ctx, storetest.Sample(id)); !errors.Is(err, ports.ErrExists) {
			t.Fatalf("Create of %s, deleted on the other node: %v, want ErrExists", id, err)
		}
	}
}

// A Delete on one node and Creates of the same identifier on the other, at
// once: the identifier is never given twice.
func TestTwoNodesDeleteAndCreateRace(t *testing.T) {
	nodes := twoNodes(t)
	ctx := context.Background()
	for round := range 20 {
		id := fmt.Sprintf("race-%d", round)
		if err := nodes[0].Create(ctx, storetest.Sample(id)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var created atomic.Int32
		wg.Go(func() {
			if err := nodes[0].Delete(ctx, id); err != nil {
				t.Error(err)
			}
		})
		for range 4 {
			wg.Go(func() {
				if err := nodes[1].Create(ctx, storetest.Sample(id)); err == nil {
					created.Add(1)
				} else if !errors.Is(err, ports.ErrExists) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if created.Load() != 0 {
			t.Fatalf("%s was created again on node B while node A deleted it", id)
		}
	}
}

// A streamed operation's state taken by two nodes at once goes to one.
func TestTwoNodesTakeScratch(t *testing.T) {
	nodes := twoNodes(t)
	ctx := context.Background()
	for round := range 10 {
		key := fmt.Sprintf("stream-%d", round)
		if err := nodes[0].PutScratch(ctx, key, []byte("state"), time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		var got atomic.Int32
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				switch _, err := nodes[w%2].TakeScratch(ctx, key); {
				case err == nil:
					got.Add(1)
				case !errors.Is(err, ports.ErrNotFound):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got.Load() != 1 {
			t.Fatalf("%s: %d takers got the value, want 1", key, got.Load())
		}
	}
}

// Nodes starting at once on an empty database create the schema once.
func TestNodesStartingAtOnce(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 2})
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	s := openDSN(t, dsn, postgres.Options{})
	if err := s.Create(context.Background(), storetest.Sample("after")); err != nil {
		t.Fatal(err)
	}
}
