package app

import (
	"context"
	"errors"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// effective brings obj, as just read from the store, into the lifecycle
// state its dates give it now (domain.EffectiveState: an Activation Date
// that has passed makes a Pre-Active object Active, a Deactivation Date an
// Active one Deactivated; KMIP 1.4 §3.22), and refuses an archived object
// with Object Archived for every operation but Recover (KMIP 1.4 §11). Every
// handler that reads an object calls it; a handler that writes the object
// persists the new state with its write.
func (s *Service) effective(c *call, obj *domain.Object) error {
	return s.effectiveAt(c, obj, s.cfg.Clock.Now())
}

func (s *Service) effectiveAt(c *call, obj *domain.Object, now time.Time) error {
	obj.ApplyDates(now)
	if obj.Archived() && c.op != kmip.OperationRecover {
		return domain.ErrArchived
	}
	return nil
}

// transition runs a lifecycle change inside one store transaction after the
// access check, and answers with the object's identifier.
func (s *Service) transition(ctx context.Context, c *call, fn func(obj *domain.Object, now time.Time) error) (*kmip.Item, error) {
	id, err := c.uid()
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now()
	var before *domain.Object
	err = s.cfg.Store.Update(ctx, id, func(obj *domain.Object) error {
		if err := s.authorize(ctx, c, obj, c.op); err != nil {
			return err
		}
		before = obj.Clone()
		if err := s.effectiveAt(c, obj, now); err != nil {
			return err
		}
		if err := fn(obj, now); err != nil {
			return err
		}
		obj.SetAttrOf(kmip.TagLastChangeDate, kmip.DateTime(kmip.TagLastChangeDate, now))
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.undoUpdate(c, before)
	s.cfg.Log.Info().Str("id", id).Str("client", c.who.Name).Str("op", c.op.String()).Msg("lifecycle change")
	return codec.IDResponse(id), nil
}

// activate implements Activate (KMIP 1.4 §4.19).
func (s *Service) activate(ctx context.Context, c *call) (*kmip.Item, error) {
	return s.transition(ctx, c, func(obj *domain.Object, now time.Time) error { return obj.Activate(now) })
}

// revoke implements Revoke (KMIP 1.4 §4.20): Key Compromise and CA Compromise
// mark the object Compromised; other reasons deactivate an Active object.
func (s *Service) revoke(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeRevoke(c.payload)
	if err != nil {
		return nil, err
	}
	out, err := s.transition(ctx, c, func(obj *domain.Object, now time.Time) error {
		return obj.Revoke(req.Reason, req.Compromise(), req.CompromiseAt, now)
	})
	if errors.Is(err, domain.ErrWrongState) {
		// KMIP 1.4 §11.21 has no state error for Revoke; an object that cannot
		// be revoked is an Illegal Operation, as the reference server answers.
		return nil, kindErr(errKindRevokeRefused, "the object cannot be revoked for this reason in its state")
	}
	return out, err
}

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
