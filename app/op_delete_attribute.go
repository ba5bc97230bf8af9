package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// deleteAttribute implements Delete Attribute (KMIP 1.4 §4.16, KMIP 2.1 §6.1.14).
func (s *Service) deleteAttribute(ctx context.Context, c *call) (*kmip.Item, error) {
	sel, err := codec.DecodeDeleteAttribute(c.payload)
	if err != nil {
		return nil, err
	}
	name := sel.Name
	r, err := ruleFor(c, name)
	if err != nil {
		return nil, err
	}
	if !r.ClientDeletes {
		return nil, attrReadOnly(name)
	}
	var deleted domain.Attribute
	obj, err := s.updateAttr(ctx, c, func(obj *domain.Object) error {
		if r.PreActiveOnly && obj.State != domain.PreActive {
			return notPreActive(name)
		}
		if usageSpent(obj, name) {
			return usageLimitsFixed()
		}
		if len(obj.AttrValues(name)) == 0 {
			return attrNotFound(c, name)
		}
		d, err := deleteSelected(obj, sel)
		deleted = d
		return err
	})
	if err != nil {
		return nil, err
	}
	return codec.AttributeChangeResponse(c.v.wire(), obj.ID, deleted), nil
}

// deleteSelected removes the instances sel names from obj and returns the
// one removed (zero when every instance went), or Attribute Instance Not
// Found when no instance matches.
func deleteSelected(obj *domain.Object, sel codec.DeleteAttributeRequest) (domain.Attribute, error) {
	if sel.Value == nil && sel.Index < 0 {
		// A KMIP 2.x Attribute Reference deletes every instance (2.1 §6.1.13).
		obj.DeleteAttr(sel.Name)
		return domain.Attribute{}, nil
	}
	for i, a := range obj.Attributes {
		if a.Name != sel.Name {
			continue
		}
		if (sel.Value != nil && a.Value.Equal(sel.Value)) || (sel.Value == nil && a.Index == sel.Index) {
			obj.Attributes = append(obj.Attributes[:i], obj.Attributes[i+1:]...)
			return a, nil
		}
	}
	return domain.Attribute{}, instanceNotFound(sel.Name)
}
