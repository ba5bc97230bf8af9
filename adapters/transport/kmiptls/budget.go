package kmiptls

import (
	"container/list"
	"context"
	"sync"
)

// budget bounds the bytes held by messages in flight, in total and per
// client identity, so that many large requests slow down instead of
// exhausting memory, and one client cannot take all of it. Waiters are
// served in arrival order, except that a waiter held back only by its own
// client's share lets the others pass. budget is safe for concurrent use.
type budget struct {
	total     int64 // bytes all clients may hold together
	perClient int64 // bytes one identity may hold

	mu      sync.Mutex
	used    int64
	held    map[string]int64 // by identity; absent means zero
	waiters list.List        // of *budgetWaiter, oldest first
}

type budgetWaiter struct {
	who   string
	n     int64
	ready chan struct{} // closed once the bytes are granted
}

// newBudget returns a budget of total bytes of which one identity may hold
// perClient; perClient is raised to minGrant and total to perClient, so
// that a request of minGrant bytes (the largest message) can always be
// granted eventually.
func newBudget(total, perClient, minGrant int64) *budget {
	perClient = max(perClient, minGrant)
	return &budget{total: max(total, perClient), perClient: perClient, held: map[string]int64{}}
}

// tryAcquire reserves n bytes for who when nobody waits and they fit, as
// acquire would grant them at once; false reserves nothing. It spares the
// common case acquire's waiter and its caller a deadline context.
func (b *budget) tryAcquire(who string, n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiters.Len() > 0 || b.held[who]+n > b.perClient || b.used+n > b.total {
		return false
	}
	b.take(who, n)
	return true
}

// acquire reserves n bytes for who, waiting while they do not fit; waited
// tells whether it had to wait. It returns ctx's error, holding nothing, if
// ctx ends first. n must not exceed the per-client share.
func (b *budget) acquire(ctx context.Context, who string, n int64) (waited bool, err error) {
	b.mu.Lock()
	w := &budgetWaiter{who: who, n: n, ready: make(chan struct{})}
	e := b.waiters.PushBack(w)
	b.grant()
	b.mu.Unlock()
	select {
	case <-w.ready:
		return false, nil
	default:
	}
	select {
	case <-w.ready:
		return true, nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready: // granted meanwhile: give it back
		b.take(who, -n)
	default:
		b.waiters.Remove(e)
	}
	b.grant() // a waiter ahead leaving may let others through
	return true, ctx.Err()
}

// grow adds n bytes to what who holds without waiting: for memory already
// allocated, such as an encoded response, so that later requests see it.
func (b *budget) grow(who string, n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.take(who, n)
}

// release returns n bytes who held.
func (b *budget) release(who string, n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.take(who, -n)
	b.grant()
}

// waiting reports how many reservations wait; for tests and logs.
func (b *budget) waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiters.Len()
}

// take adds n (negative: removes) to who's holding; callers hold b.mu.
func (b *budget) take(who string, n int64) {
	b.used += n
	if h := b.held[who] + n; h > 0 {
		b.held[who] = h
	} else {
		delete(b.held, who)
	}
}

// grant serves the waiters that fit, oldest first; it stops at the first
// one the total budget cannot hold, so that a large request is not starved
// by smaller ones arriving after it. Callers hold b.mu.
func (b *budget) grant() {
	for e := b.waiters.Front(); e != nil; {
		w := e.Value.(*budgetWaiter)
		next := e.Next()
		switch {
		case b.held[w.who]+w.n > b.perClient:
			// Held back by its own client's share only: others pass.
		case b.used+w.n > b.total:
			return
		default:
			b.take(w.who, w.n)
			b.waiters.Remove(e)
			close(w.ready)
		}
		e = next
	}
}
