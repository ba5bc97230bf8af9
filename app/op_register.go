package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// register implements Register (KMIP 1.4 §4.3, KMIP 2.1 §6.1.42) for every
// object type: the object's structure is validated, the attributes its
// content determines are derived, and it is stored as given.
func (s *Service) register(ctx context.Context, c *call) (*kmip.Item, error) {
	t, err := objectType(c)
	if err != nil {
		return nil, err
	}
	tag := objectTags[t]
	payload := c.payload.Child(tag)
	if payload == nil || payload.Type != kmip.TypeStructure {
		return nil, invalidField("Register of %s needs a %s structure", t, tag)
	}
	if err := validateObject(c, t, payload); err != nil {
		return nil, err
	}
	if t == kmip.ObjectTypeTemplate {
		c, payload = templateOwnNames(c, payload)
	}
	if err := s.checkRegisteredWrapping(c, payload); err != nil {
		return nil, err
	}
	derived, err := derivedAttrs(c, t, payload)
	if err != nil {
		return nil, err
	}
	attrs, err := s.requestedAttrs(ctx, c)
	if err != nil {
		return nil, err
	}
	obj, err := s.newObject(ctx, c, t, attrs)
	if err != nil {
		return nil, err
	}
	if err := applyDerived(obj, derived); err != nil {
		return nil, err
	}
	obj.Payload = payload.Clone()
	if err := s.storeNew(ctx, c, obj); err != nil {
		return nil, err
	}
	return codec.IDResponse(obj.ID), nil
}
