package app

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// destroy implements Destroy (KMIP 1.4 §4.21): only Pre-Active, Deactivated
// and Compromised objects may be destroyed; their metadata is kept, except
// for Templates, which are removed whole.
func (s *Service) destroy(ctx context.Context, c *call) (*kmip.Item, error) {
	template := false
	destroy := func(obj *domain.Object, now time.Time) error {
		if obj.State == domain.Destroyed || obj.State == domain.DestroyedCompromised {
			return kindErr(errKindAlreadyDestroyed, "object has already been destroyed") // 2.1 §6.1.15.1
		}
		template = obj.Type == uint32(kmip.ObjectTypeTemplate)
		if err := obj.Destroy(now); err != nil {
			return err
		}
		obj.KeyRef = ""
		return nil
	}
	if err := s.destroyKept(ctx, c, destroy); err != nil {
		return nil, err
	}
	out, err := s.transition(ctx, c, destroy)
	if err != nil || !template {
		return out, err
	}
	// "If the Unique Identifier specifies a Template object, then the object
	// itself, including all meta-data, SHALL be destroyed" (KMIP 1.4 §4.21).
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	if err := s.cfg.Store.Delete(ctx, id); err != nil {
		return nil, err
	}
	return out, nil
}

// destroyKept destroys the HSM copy of a kept key before its object is
// marked destroyed, once the same checks the transition makes pass on a
// trial copy. The order means an acknowledged Destroy never leaves the key
// in the HSM; should the store then fail, the object stays as it was with
// its key already gone, and a retried Destroy completes (destroying an
// absent key is not an error).
func (s *Service) destroyKept(ctx context.Context, c *call, destroy func(*domain.Object, time.Time) error) error {
	k, ok := s.keeper()
	if !ok {
		return nil
	}
	id, err := c.uid()
	if err != nil {
		return err
	}
	obj, err := s.cfg.Store.Get(ctx, id)
	if err != nil || obj.KeyRef == "" {
		return nil // the transition reports a missing object
	}
	if err := s.authorize(ctx, c, obj, c.op); err != nil {
		return err
	}
	now := s.cfg.Clock.Now()
	trial := obj.Clone()
	if err := s.effectiveAt(c, trial, now); err != nil {
		return err
	}
	if err := destroy(trial, now); err != nil {
		return err
	}
	return k.DestroyKey(ctx, ports.KeyHandle{ID: obj.ID, ObjectType: obj.Type, Ref: obj.KeyRef})
}
