package app

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
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
