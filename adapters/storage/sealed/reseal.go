package sealed

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Stale reports whether a stored object is not sealed under the KEK named
// current: a secret payload in clear, or an envelope under another KEK.
func Stale(obj *domain.Object, current string) bool {
	if obj.Payload == nil {
		return false
	}
	if IsSealed(obj) {
		return KEKOf(obj) != current
	}
	return Secret(obj.Type)
}

// Progress is what Reseal did so far.
type Progress struct {
	// Seen counts the objects examined, Resealed those sealed anew.
	Seen, Resealed int
}

// resealPage is how many identifiers Reseal reads at a time.
const resealPage = 256

// Reseal seals under the current KEK every object that is not (Stale):
// clear ones (kmipd seal migrate) and those under a previous KEK (rotation),
// whose data key is rewrapped. Each object is resealed by an update of its
// own, so Reseal runs beside a serving kmipd; interrupted, it resumes by
// running again, since every envelope names its KEK. report, if not nil, is
// called after each page.
func (s *Store) Reseal(ctx context.Context, report func(Progress)) (Progress, error) {
	var p Progress
	after := ""
	cur := s.cur.ID()
	for {
		ids, err := s.inner.Locate(ctx, ports.LocateQuery{After: after, Limit: resealPage})
		if err != nil {
			return p, err
		}
		for _, id := range ids {
			raw, err := s.inner.Get(ctx, id)
			if errors.Is(err, ports.ErrNotFound) {
				continue
			}
			if err != nil {
				return p, err
			}
			p.Seen++
			if !Stale(raw, cur) {
				continue
			}
			err = s.Update(ctx, id, func(*domain.Object) error { return nil })
			switch {
			case errors.Is(err, ports.ErrNotFound):
			case err != nil:
				return p, fmt.Errorf("resealing object %s: %w", id, err)
			default:
				p.Resealed++
			}
		}
		if report != nil {
			report(p)
		}
		if len(ids) < resealPage {
			return p, nil
		}
		after = ids[len(ids)-1]
	}
}

// Survey is what Probe found in a sample of a store's secret objects.
type Survey struct {
	// KEKs counts the sampled envelopes per KEK ID; Clear counts sampled
	// secret payloads in clear.
	KEKs  map[string]int
	Clear int
	// sealed holds the sampled sealed objects as stored.
	sealed []*domain.Object
}

// probeLimit is how many objects of each secret type Probe samples.
const probeLimit = 4

// Probe samples the live objects (those that may hold a payload) of each
// secret type of a store, as stored (not through a sealed Store), and
// reports how they are sealed: a start-up check, a few index lookups and
// reads, never a scan.
func Probe(ctx context.Context, store ports.Store) (Survey, error) {
	sv := Survey{KEKs: map[string]int{}}
	var live []domain.IndexTerm
	for _, st := range []domain.State{domain.PreActive, domain.Active, domain.Deactivated, domain.Compromised} {
		live = append(live, domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(uint32(st))})
	}
	for t := kmip.ObjectTypeCertificate; t <= kmip.ObjectTypeCertificateRequest; t++ {
		if !Secret(uint32(t)) {
			continue
		}
		ids, err := store.Locate(ctx, ports.LocateQuery{
			Terms: []domain.IndexTerm{{Name: domain.IndexObjectType, Key: domain.EnumKey(uint32(t))}},
			Any:   [][]domain.IndexTerm{live},
			Limit: probeLimit,
		})
		if err != nil {
			return sv, err
		}
		for _, id := range ids {
			obj, err := store.Get(ctx, id)
			if errors.Is(err, ports.ErrNotFound) {
				continue
			}
			if err != nil {
				return sv, err
			}
			switch {
			case IsSealed(obj):
				sv.KEKs[KEKOf(obj)]++
				sv.sealed = append(sv.sealed, obj)
			case obj.Payload != nil:
				sv.Clear++
			}
		}
	}
	return sv, nil
}

// Check opens a sample of the store's envelopes (Probe's): it fails,
// wrapping ErrUnseal, when one is sealed under a KEK that is not
// configured or its data key does not unwrap, so that a server given the
// wrong key file stops before serving.
func (s *Store) Check(ctx context.Context) (Survey, error) {
	sv, err := Probe(ctx, s.inner)
	if err != nil {
		return sv, err
	}
	for id := range sv.KEKs {
		if _, ok := s.keks[id]; !ok {
			return sv, fmt.Errorf("%w: the store is sealed under KEK %s, which is not configured", ErrUnseal, id)
		}
	}
	// Opening the envelopes proves the keys, not just their names.
	for _, obj := range sv.sealed {
		dk, err := s.unseal(ctx, obj)
		dk.wipe()
		if err != nil {
			return sv, err
		}
	}
	return sv, nil
}
