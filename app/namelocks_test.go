package app

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Requests racing on one node to give one Name to different keys: for every
// name exactly one key gets it (the uniqueness check and the write it
// guards are one step for other requests).
func TestConcurrentNamesStayUnique(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: slowLocate{newMemStore()}, Crypto: cryptoFake{}, Clock: fixedClock{testNow}})
	const rounds, racers = 10, 4
	keys := make([][]string, rounds)
	for i := range keys {
		for range racers {
			keys[i] = append(keys[i], aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt)))
		}
	}
	var wg sync.WaitGroup
	for i := range rounds {
		start := make(chan struct{})
		for _, id := range keys[i] {
			wg.Go(func() {
				<-start
				send(t, s, alice, msg(v14, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("Name", nameItem(fmt.Sprintf("race-%d", i))))))
			})
		}
		close(start)
	}
	wg.Wait()
	for i := range rounds {
		found := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLocate, attribute1x("Name", nameItem(fmt.Sprintf("race-%d", i))))))
		if n := len(found.ChildrenOf(kmip.TagUniqueIdentifier)); n != 1 {
			t.Errorf("race-%d: %d keys carry it, want 1", i, n)
		}
	}
}

// slowLocate widens the gap between a uniqueness check (a Locate) and the
// write after it, where a racing request could slip in.
type slowLocate struct{ *memStore }

func (s slowLocate) Locate(ctx context.Context, q ports.LocateQuery) ([]string, error) {
	ids, err := s.memStore.Locate(ctx, q)
	time.Sleep(5 * time.Millisecond)
	return ids, err
}

// A local Name lock is exclusive, a wait for it ends with its context, and
// a released name is forgotten.
func TestLocalNameLocks(t *testing.T) {
	t.Parallel()
	l := newLocalNameLocks()
	ctx := context.Background()
	a, _ := l.NameSession(ctx)
	b, _ := l.NameSession(ctx)
	if err := a.Lock(ctx, "x", "y"); err != nil {
		t.Fatal(err)
	}
	if err := a.Lock(ctx, "x"); err != nil {
		t.Fatalf("a session relocking its own name: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := b.Lock(short, "y"); err == nil {
		t.Fatal("a second session got a held name")
	}
	got := make(chan error, 1)
	go func() { got <- b.Lock(ctx, "x") }()
	select {
	case err := <-got:
		t.Fatalf("lock of a held name returned %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	a.Release()
	if err := <-got; err != nil {
		t.Fatalf("after release: %v", err)
	}
	b.Release()
	if n := len(l.names); n != 0 {
		t.Errorf("%d names still tracked after every session released", n)
	}
}
