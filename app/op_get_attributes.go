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
	all := allAttrs(c.v, obj)
	if len(req.Names) == 0 {
		return codec.GetAttributesResponse(c.v.wire(), obj.ID, unlistedAt12(c.v, all)), nil
	}
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

// unlistedAt12 leaves Original Creation Date out of a KMIP 1.2 answer that
// lists every attribute (Get Attributes without names, Get Attribute
// List); a 1.2 Get Attributes naming it still gets it. KMIP 1.2
// defines it (tag 0x4200BC, the OASIS 1.2 case TC-MDO-2-12 reads it by
// name), but PyKMIP's client, which speaks 1.2 by default, cannot decode
// its value and fails the whole Get Attributes (a deliberate difference,
// README "Conformance to each KMIP version").
func unlistedAt12(v version, attrs []domain.Attribute) []domain.Attribute {
	if v != (version{1, 2}) {
		return attrs
	}
	out := make([]domain.Attribute, 0, len(attrs))
	for _, a := range attrs {
		if a.Name != kmip.TagOriginalCreationDate.SpecName() {
			out = append(out, a)
		}
	}
	return out
}
