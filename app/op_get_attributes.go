package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// getAttributes implements Get Attributes (KMIP 1.4 §4.12, KMIP 2.1 §6.1.24).
func (s *Service) getAttributes(ctx context.Context, c *call) (*kmip.Item, error) {
	obj, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, err
	}
	req, err := codec.DecodeGetAttributes(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	if len(req.Names) == 0 {
		return codec.GetAttributesResponse(c.v.wire(), obj.ID, listedAttrs(c.v, obj)), nil
	}
	all := allAttrs(c.v, obj)
	var picked []domain.Attribute
	for _, name := range req.Names {
		for _, a := range all {
			if a.Name == name {
				picked = append(picked, a)
			}
		}
	}
	return codec.GetAttributesResponse(c.v.wire(), obj.ID, picked), nil
}
