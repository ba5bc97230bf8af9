// Package tlstickets keeps the TLS session ticket keys that every kmipd node
// on one store shares, so that a client resumes its session on any node
// behind a load balancer, and rotates them in step on every node.
//
// Time is cut into periods of Rotation, numbered from the Unix epoch, so
// that nodes whose clocks differ by less than a period agree on the number.
// Each period has one key, kept in the store's scratch space
// (ports.ScratchStore, sealed under the KEK when sealing is on) under a name
// made of the rotation and the period number. Whichever node first needs a
// period's key makes it with AddScratch; a node that loses the race reads
// the winner's. The key of the current period encrypts new tickets; the
// next period's key is made ahead, so that a node whose clock is a little
// ahead can already use it, and every key decrypts until Lifetime after its
// period ended.
package tlstickets

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/ports"
)

// Defaults of Options.
const (
	DefaultRotation = time.Hour
	DefaultLifetime = 24 * time.Hour
	// MaxKeys bounds the keys held at once (the current, the next, and
	// those still decrypting): an unknown ticket is tried against each.
	MaxKeys = 100
	// MinRotation is the shortest rotation period accepted.
	MinRotation = time.Second
)

// opTimeout bounds one refresh's store operations.
const opTimeout = 10 * time.Second

// keyPrefix starts the scratch names of ticket keys.
const keyPrefix = "tls-ticket-key/"

// Options configure a Ring.
type Options struct {
	// Store is the scratch space shared by the nodes. Required.
	Store ports.ScratchStore
	// Rotation is how long one key encrypts new tickets; every node on
	// the store must use the same. Zero means DefaultRotation.
	Rotation time.Duration
	// Lifetime is how long a key still decrypts (resumes sessions) after
	// its rotation period ended, so a ticket resumes for at least Lifetime
	// and at most Rotation+Lifetime. Zero means DefaultLifetime.
	Lifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives refresh failures and rotations; key bytes are never
	// logged.
	Log zerolog.Logger
}

// Ring holds the shared ticket keys of one node and gives them to its TLS
// configurations (Apply). Its methods are safe for concurrent use.
type Ring struct {
	store              ports.ScratchStore
	rotation, lifetime time.Duration
	now                func() time.Time
	log                zerolog.Logger

	// current holds the keys in force: a configuration used only for its
	// EncryptTicket and DecryptTicket. Until shared keys are loaded it has
	// none, and Go's own per-process keys serve.
	current atomic.Pointer[tls.Config]

	mu sync.Mutex
	// keys holds the keys by period; nil marks a past period whose key is
	// missing or does not open, so it is not read again.
	keys map[int64]*[32]byte
}

// New returns a Ring with no shared keys yet (Refresh loads them).
func New(o Options) (*Ring, error) {
	if o.Store == nil {
		return nil, errors.New("tlstickets: no store")
	}
	if o.Rotation == 0 {
		o.Rotation = DefaultRotation
	}
	if o.Lifetime == 0 {
		o.Lifetime = DefaultLifetime
	}
	if err := CheckPeriods(o.Rotation, o.Lifetime); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Ring{store: o.Store, rotation: o.Rotation, lifetime: o.Lifetime, now: o.Now, log: o.Log,
		keys: map[int64]*[32]byte{}}
	r.current.Store(&tls.Config{})
	return r, nil
}

// CheckPeriods reports whether rotation and lifetime can be used: rotation
// at least MinRotation, lifetime positive, and at most MaxKeys keys held.
func CheckPeriods(rotation, lifetime time.Duration) error {
	switch {
	case rotation < MinRotation:
		return fmt.Errorf("rotation %s is shorter than %s", rotation, MinRotation)
	case lifetime <= 0:
		return fmt.Errorf("lifetime %s is not positive", lifetime)
	case keysHeld(rotation, lifetime) > MaxKeys:
		return fmt.Errorf("lifetime %s over rotation %s would hold more than %d keys", lifetime, rotation, MaxKeys)
	}
	return nil
}

// keysHeld is the most keys a ring holds: the current and next periods'
// and those of the past periods that ended less than lifetime ago.
func keysHeld(rotation, lifetime time.Duration) int64 {
	return 2 + int64((lifetime+rotation-1)/rotation)
}

// Apply makes cfg encrypt and decrypt session tickets with the ring's keys
// in force at each handshake. Configurations cloned from cfg keep them.
func (r *Ring) Apply(cfg *tls.Config) {
	cfg.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		return r.current.Load().EncryptTicket(cs, ss)
	}
	cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		return r.current.Load().DecryptTicket(identity, cs)
	}
}

// Run refreshes the keys whenever a period starts or a key expires until
// ctx ends; a refresh that fails is logged and retried soon, the keys in
// hand staying in force.
func (r *Ring) Run(ctx context.Context) {
	for {
		next, err := r.Refresh(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.log.Error().Err(err).Msg("TLS session ticket keys: reading or writing the shared keys failed; serving with the keys in hand")
		}
		t := time.NewTimer(max(next.Sub(r.now()), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Refresh reads, or makes when missing, the keys of the current and next
// periods, reads the past keys not yet read that still decrypt, drops the
// expired ones and puts the rest in force. It returns when the next refresh
// is due, and the first store error met (the keys it could get are in
// force all the same).
func (r *Ring) Refresh(ctx context.Context) (next time.Time, err error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	p := r.period(now)
	for q := p + 1; q > p-keysHeld(r.rotation, r.lifetime) && r.decrypts(q, now); q-- {
		if _, known := r.keys[q]; known {
			continue
		}
		k, lerr := r.load(ctx, q, q >= p)
		if lerr != nil {
			err = firstErr(err, fmt.Errorf("period %d: %w", q, lerr))
			if q >= p || transient(ctx, lerr) {
				continue // read again at the next refresh
			}
		}
		r.keys[q] = k
	}
	for q := range r.keys {
		if !r.decrypts(q, now) {
			if k := r.keys[q]; k != nil {
				clear(k[:])
			}
			delete(r.keys, q)
		}
	}
	r.install(p)
	next = r.start(p + 1)
	for q, k := range r.keys {
		if k != nil && r.expiry(q).Before(next) {
			next = r.expiry(q)
		}
	}
	if err != nil {
		next = minTime(next, now.Add(min(r.rotation/2, 15*time.Second)))
	}
	return next, err
}

// load returns period q's key from the store; when there is none and create
// is set, it adds a new one, or reads the one another node added first. A
// past period without a key gives nil.
func (r *Ring) load(ctx context.Context, q int64, create bool) (*[32]byte, error) {
	name := r.name(q)
	v, err := r.store.GetScratch(ctx, name)
	if err == nil {
		return keyOf(v)
	}
	if !errors.Is(err, ports.ErrNotFound) {
		return nil, err
	}
	if !create {
		return nil, nil
	}
	k := new([32]byte)
	if _, err := rand.Read(k[:]); err != nil {
		return nil, err
	}
	err = r.store.AddScratch(ctx, name, k[:], r.expiry(q).Add(r.rotation))
	if err == nil {
		r.log.Debug().Int64("period", q).Msg("TLS session ticket keys: made the key of a new period")
		return k, nil
	}
	clear(k[:])
	if !errors.Is(err, ports.ErrExists) {
		return nil, err
	}
	v, err = r.store.GetScratch(ctx, name) // another node's, added first
	if err != nil {
		return nil, err
	}
	return keyOf(v)
}

// keyOf copies a stored key and wipes v.
func keyOf(v []byte) (*[32]byte, error) {
	defer clear(v)
	if len(v) != 32 {
		return nil, fmt.Errorf("stored ticket key is %d bytes, want 32", len(v))
	}
	return (*[32]byte)(slices.Clone(v)), nil
}

// install puts the held keys in force: the newest of periods up to p
// first (it encrypts), then the others, newest first. With none, Go's
// per-process keys serve.
func (r *Ring) install(p int64) {
	periods := make([]int64, 0, len(r.keys))
	for q, k := range r.keys {
		if k != nil {
			periods = append(periods, q)
		}
	}
	inForceOrder(periods, p)
	cfg := &tls.Config{}
	if len(periods) > 0 {
		keys := make([][32]byte, len(periods))
		for i, q := range periods {
			keys[i] = *r.keys[q]
		}
		cfg.SetSessionTicketKeys(keys)
		clear(keys)
	}
	r.current.Store(cfg)
}

// inForceOrder sorts periods newest first, except that those after the
// current period p (made ahead) come last: the first one encrypts.
func inForceOrder(periods []int64, p int64) {
	slices.SortFunc(periods, func(a, b int64) int {
		if (a > p) != (b > p) {
			if a > p {
				return 1
			}
			return -1
		}
		return int(b - a)
	})
}

// period is the number of the rotation period t falls in.
func (r *Ring) period(t time.Time) int64 { return Period(t, r.rotation) }

// Period is the number of the rotation period t falls in: periods of
// rotation counted from the Unix epoch.
func Period(t time.Time, rotation time.Duration) int64 {
	n := t.UnixNano()
	q := n / int64(rotation)
	if n < 0 && n%int64(rotation) != 0 {
		q--
	}
	return q
}

// start is when period q starts.
func (r *Ring) start(q int64) time.Time { return time.Unix(0, q*int64(r.rotation)) }

// expiry is when period q's key stops decrypting: Lifetime after the
// period ended.
func (r *Ring) expiry(q int64) time.Time { return r.start(q + 1).Add(r.lifetime) }

// decrypts reports whether period q's key still decrypts at now.
func (r *Ring) decrypts(q int64, now time.Time) bool { return now.Before(r.expiry(q)) }

// name is the scratch name of period q's key.
func (r *Ring) name(q int64) string { return KeyName(r.rotation, q) }

// KeyName is the scratch name of the key of period q of rotation; the
// rotation is part of it, so that nodes configured with another rotation
// share no key with these.
func KeyName(rotation time.Duration, q int64) string {
	return keyPrefix + rotation.String() + "/" + strconv.FormatInt(q, 10)
}

// Keys returns copies of the keys in force, the encrypting one first, and
// the period each belongs to, for tests and diagnostics.
func (r *Ring) Keys() (periods []int64, keys [][32]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.period(r.now())
	for q, k := range r.keys {
		if k != nil {
			periods = append(periods, q)
		}
	}
	inForceOrder(periods, p)
	for _, q := range periods {
		keys = append(keys, *r.keys[q])
	}
	return periods, keys
}

// transient reports whether err may go away by itself (the store out of
// reach, the refresh out of time), so that the key is read again later;
// other errors (a key that does not open) would come back every time.
func transient(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, ports.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
