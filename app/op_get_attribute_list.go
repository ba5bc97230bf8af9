package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// getAttributeList implements Get Attribute List (KMIP 1.4 §4.13).
func (s *Service) getAttributeList(ctx context.Context, c *call) (*kmip.Item, error) {
	obj, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, err
	}
	return codec.GetAttributeListResponse(c.v.wire(), obj.ID, listedAttrs(c.v, obj)), nil
}
