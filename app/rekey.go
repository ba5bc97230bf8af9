package app

import (
	"context"
	"errors"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// offsetDates are the attributes an Offset computes, which a Re-key request
// must not also give (KMIP 1.4 §11.5: Invalid Message).
var offsetDates = map[string]bool{
	kmip.TagActivationDate.SpecName(): true, kmip.TagProcessStartDate.SpecName(): true, kmip.TagProtectStopDate.SpecName(): true, kmip.TagDeactivationDate.SpecName(): true,
}

// retireReplaced records on the existing object (a key re-keyed, a
// certificate re-certified) that id replaces it: Names removed,
// Replacement Object Link. When the object changed meanwhile (destroyed,
// archived) the stored replacement is removed, so that none is left that
// nothing links to.
func (s *Service) retireReplaced(ctx context.Context, c *call, oldID, id string, now time.Time, offset *time.Duration) error {
	var before *domain.Object
	err := s.cfg.Store.Update(ctx, oldID, func(obj *domain.Object) error {
		if err := s.authorize(ctx, c, obj, c.op); err != nil {
			return err
		}
		before = obj.Clone()
		if err := s.effectiveAt(c, obj, now); err != nil {
			return err
		}
		_, err := obj.ReKey(id, now, offset)
		return err
	})
	if err != nil {
		if derr := s.cfg.Store.Delete(ctx, id); derr != nil {
			s.cfg.Log.Error().Err(derr).Str("id", id).Msg("could not remove an unlinked replacement")
		}
		return reKeyError(err)
	}
	s.undoUpdate(c, before)
	return nil
}

// overlay applies one attribute of a Re-key request to the replacement:
// Names and other multi-valued attributes are added, single-valued ones
// replaced.
func overlay(obj *domain.Object, a domain.Attribute) error {
	if a.Name == kmip.TagOperationPolicyName.SpecName() {
		name, ok := a.Value.AsText()
		if !ok || name == "" {
			return invalidField("Operation Policy Name must be a non-empty Text String")
		}
		obj.Policy = name
		return nil
	}
	if rule, _ := domain.AttrRuleFor(a.Name); rule.Multi {
		obj.AddAttr(a.Name, a.Value.Clone())
	} else {
		obj.SetAttr(a.Name, a.Value.Clone())
	}
	return nil
}

// reKeyError gives the Re-key refusals their KMIP 1.4 §11.5 reasons.
func reKeyError(err error) error {
	if errors.Is(err, domain.ErrNoActivationDate) {
		return errorf(kmip.ResultReasonIllegalOperation, "the existing key has no Activation Date for the Offset to apply to")
	}
	return err
}
