package sealed

import (
	"context"
	"fmt"
	"time"

	"github.com/kmipd/kmipd/ports"
)

// scratchStore is a sealed Store over a ports.ScratchStore: each scratch
// value is sealed under a data key of its own, bound to its key.
type scratchStore struct {
	*Store
	scratch ports.ScratchStore
}

var _ ports.ScratchStore = (*scratchStore)(nil)

func scratchAAD(key string) []byte {
	return append([]byte("kmipd seal scratch v1\x00"), key...)
}

// PutScratch seals value and stores it.
func (s *scratchStore) PutScratch(ctx context.Context, key string, value []byte, expires time.Time, quotas ...ports.ScratchQuota) error {
	env, err := s.sealScratch(ctx, key, value)
	if err != nil {
		return err
	}
	// The quotas count the caller's bytes, not the envelope's.
	adjusted := make([]ports.ScratchQuota, len(quotas))
	for i, q := range quotas {
		q.ValueOverhead += int64(len(env) - len(value))
		adjusted[i] = q
	}
	return s.scratch.PutScratch(ctx, key, env, expires, adjusted...)
}

// AddScratch seals value and adds it (ports.ScratchStore.AddScratch).
func (s *scratchStore) AddScratch(ctx context.Context, key string, value []byte, expires time.Time) error {
	env, err := s.sealScratch(ctx, key, value)
	if err != nil {
		return err
	}
	return s.scratch.AddScratch(ctx, key, env, expires)
}

// sealScratch is value sealed under a fresh data key, bound to key; the
// data key is wiped before it returns.
func (s *scratchStore) sealScratch(ctx context.Context, key string, value []byte) ([]byte, error) {
	dk, err := newDataKey(ctx, s.cur)
	if err != nil {
		return nil, err
	}
	defer dk.wipe()
	return dk.seal(value, scratchAAD(key))
}

// GetScratch returns the opened value under key.
func (s *scratchStore) GetScratch(ctx context.Context, key string) ([]byte, error) {
	env, err := s.scratch.GetScratch(ctx, key)
	if err != nil {
		return nil, err
	}
	return s.openScratch(ctx, key, env)
}

// TakeScratch takes the value under key and returns it opened.
func (s *scratchStore) TakeScratch(ctx context.Context, key string) ([]byte, error) {
	env, err := s.scratch.TakeScratch(ctx, key)
	if err != nil {
		return nil, err
	}
	return s.openScratch(ctx, key, env)
}

// DeleteScratch removes the value under key.
func (s *scratchStore) DeleteScratch(ctx context.Context, key string) error {
	return s.scratch.DeleteScratch(ctx, key)
}

func (s *scratchStore) openScratch(ctx context.Context, key string, env []byte) ([]byte, error) {
	plain, dk, err := open(ctx, s.keks, env, scratchAAD(key))
	if err != nil {
		return nil, fmt.Errorf("scratch value: %w", err)
	}
	dk.wipe()
	return plain, nil
}
