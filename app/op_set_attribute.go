package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// setAttribute implements Set Attribute (KMIP 2.1 §6.1.52): single-valued
// attributes only, replacing any value.
func (s *Service) setAttribute(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeSetAttribute(c.payload)
	if err != nil {
		return nil, err
	}
	at := req.Attribute
	r, err := valueRule(c, at)
	if err != nil {
		return nil, err
	}
	if r.Multi {
		return nil, errorf(kmip.ResultReasonMultiValuedAttribute, "attribute %q is multi-valued", at.Name)
	}
	if !r.ClientSets {
		return nil, attrReadOnly(at.Name)
	}
	obj, err := s.updateAttr(ctx, c, func(obj *domain.Object) error {
		if !r.AppliesToType(obj.Type) {
			return notApplicable(c, at.Name, kmip.ObjectType(obj.Type))
		}
		if obj.Attr(at.Name) != nil && !r.ClientModifies {
			return attrReadOnly(at.Name) // set once, then fixed (Fresh, Rotate Automatic, ...)
		}
		if r.PreActiveOnly && obj.State != domain.PreActive {
			return notPreActive(at.Name)
		}
		if usageSpent(obj, at.Name) {
			return usageLimitsFixed()
		}
		obj.SetAttr(at.Name, at.Value)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codec.IDResponse(obj.ID), nil
}
