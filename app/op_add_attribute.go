package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// addAttribute implements Add Attribute (KMIP 1.4 §4.14).
func (s *Service) addAttribute(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeAddAttribute(c.payload)
	if err != nil {
		return nil, err
	}
	at := req.Attribute
	r, err := valueRule(c, at)
	if err != nil {
		return nil, err
	}
	if !r.ClientSets {
		return nil, attrReadOnly(at.Name)
	}
	if err := s.checkNameUnique(ctx, c, at); err != nil {
		return nil, err
	}
	idx := 0
	obj, err := s.updateAttr(ctx, c, func(obj *domain.Object) error {
		if !r.AppliesToType(obj.Type) {
			return notApplicable(c, at.Name, kmip.ObjectType(obj.Type))
		}
		// The Operation Policy Name lives in obj.Policy, not the attribute list.
		if !r.Multi && (obj.Attr(at.Name) != nil || at.Name == kmip.TagOperationPolicyName.SpecName() && obj.Policy != "") {
			return singleValued(c, at.Name)
		}
		if at.Name == kmip.TagName.SpecName() && hasNameValue(obj, at.Value, -1) {
			return nameTaken()
		}
		idx = obj.AddAttr(at.Name, at.Value)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codec.AttributeChangeResponse(c.v.wire(), obj.ID, domain.Attribute{Name: at.Name, Index: idx, Value: at.Value}), nil
}
