package app

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/kmipd/kmipd/ports"
)

// lockNames holds the Name lock of each of names until the batch item ends,
// so that no other request, on any node, checks or writes one of them
// between this item's uniqueness check and its write. Names are locked in
// sorted order, so two items locking the same names cannot deadlock.
func (s *Service) lockNames(ctx context.Context, c *call, names ...string) error {
	if c.names == nil {
		return fmt.Errorf("app: a call outside a batch item cannot lock names")
	}
	if c.names.session == nil {
		ns, err := s.cfg.NameLocks.NameSession(ctx)
		if err != nil {
			return err
		}
		c.names.session = ns
	}
	names = slices.Clone(names)
	slices.Sort(names)
	return c.names.session.Lock(ctx, slices.Compact(names)...)
}

// nameHold is the Name lock session of one batch item, once it has one.
type nameHold struct{ session ports.NameSession }

// releaseNames frees the Name locks the item holds.
func (c *call) releaseNames() {
	if c.names != nil && c.names.session != nil {
		c.names.session.Release()
		c.names.session = nil
	}
}

// localNameLocks are Name locks within one process: a channel per locked
// name, deleted when its last holder or waiter leaves.
type localNameLocks struct {
	mu    sync.Mutex
	names map[string]*localNameLock
}

type localNameLock struct {
	held chan struct{} // holds a value while the name is locked
	refs int           // the session holding it and those waiting
}

func newLocalNameLocks() *localNameLocks {
	return &localNameLocks{names: map[string]*localNameLock{}}
}

// NameSession implements ports.NameLocks.
func (l *localNameLocks) NameSession(context.Context) (ports.NameSession, error) {
	return &localNameSession{locks: l, held: map[string]bool{}}, nil
}

// localNameSession is one batch item's hold on local Name locks.
type localNameSession struct {
	locks *localNameLocks
	held  map[string]bool
}

// Lock implements ports.NameSession.
func (s *localNameSession) Lock(ctx context.Context, names ...string) error {
	for _, n := range names {
		if s.held[n] {
			continue
		}
		if err := s.locks.lock(ctx, n); err != nil {
			return err
		}
		s.held[n] = true
	}
	return nil
}

// Release implements ports.NameSession.
func (s *localNameSession) Release() {
	for n := range s.held {
		s.locks.unlock(n)
	}
	clear(s.held)
}

// lock waits until name is free or ctx ends.
func (l *localNameLocks) lock(ctx context.Context, name string) error {
	l.mu.Lock()
	e := l.names[name]
	if e == nil {
		e = &localNameLock{held: make(chan struct{}, 1)}
		l.names[name] = e
	}
	e.refs++
	l.mu.Unlock()
	select {
	case e.held <- struct{}{}:
		return nil
	case <-ctx.Done():
		l.leave(name, e)
		return ctx.Err()
	}
}

// unlock frees name, which the caller holds.
func (l *localNameLocks) unlock(name string) {
	l.mu.Lock()
	e := l.names[name]
	l.mu.Unlock()
	<-e.held
	l.leave(name, e)
}

// leave drops one reference to e, forgetting name with the last one.
func (l *localNameLocks) leave(name string, e *localNameLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(l.names, name)
	}
}
