package app

import (
	"context"
	"sort"
	"sync"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
)

// memStore is an in-memory ports.Store for unit tests of the app layer only;
// the real adapters are tested with the shared contract suite.
type memStore struct {
	mu   sync.Mutex
	objs map[string]*domain.Object
	used map[string]bool // identifiers of deleted objects
}

func newMemStore() *memStore {
	return &memStore{objs: map[string]*domain.Object{}, used: map[string]bool{}}
}

func (m *memStore) Create(_ context.Context, o *domain.Object) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[o.ID]; ok || m.used[o.ID] {
		return ports.ErrExists
	}
	m.objs[o.ID] = o.Clone()
	return nil
}

func (m *memStore) Get(_ context.Context, id string) (*domain.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[id]
	if !ok {
		return nil, ports.ErrNotFound
	}
	return o.Clone(), nil
}

func (m *memStore) Update(_ context.Context, id string, fn func(*domain.Object) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[id]
	if !ok {
		return ports.ErrNotFound
	}
	c := o.Clone()
	if err := fn(c); err != nil {
		return err
	}
	c.Revision++
	m.objs[id] = c
	return nil
}

func (m *memStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[id]; !ok {
		return ports.ErrNotFound
	}
	delete(m.objs, id)
	m.used[id] = true
	return nil
}

func (m *memStore) DeleteIf(_ context.Context, id string, revision uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[id]
	if !ok {
		return ports.ErrNotFound
	}
	if o.Revision != revision {
		return ports.ErrConflict
	}
	delete(m.objs, id)
	m.used[id] = true
	return nil
}

func (m *memStore) Locate(_ context.Context, q ports.LocateQuery) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id, o := range m.objs {
		if id <= q.After && q.After != "" {
			continue
		}
		have := map[domain.IndexTerm]bool{}
		for _, t := range o.IndexTerms() {
			have[t] = true
		}
		all := true
		for _, t := range q.Terms {
			all = all && have[t]
		}
		for _, g := range q.Any {
			anyOf := false
			for _, t := range g {
				anyOf = anyOf || have[t]
			}
			all = all && anyOf
		}
		if all {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if q.Limit > 0 && len(ids) > q.Limit {
		ids = ids[:q.Limit]
	}
	return ids, nil
}

func (m *memStore) Close() error { return nil }
