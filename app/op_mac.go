package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// mac implements MAC (KMIP 1.4 §4.33, KMIP 2.1 §6.1.30).
func (s *Service) mac(ctx context.Context, c *call) (*kmip.Item, error) {
	macer, err := capability[ports.MACer](s)
	if err != nil {
		return nil, err
	}
	op, partial, err := s.readDataOp(ctx, c, useMAC, false, 0)
	if op == nil {
		return partial, err
	}
	if err := s.spendUsage(ctx, c, op.obj, len(op.data)); err != nil {
		return nil, err
	}
	m, err := macer.MAC(ctx, op.key, op.p, op.data)
	if err != nil {
		return nil, engineError(err)
	}
	return codec.MACResponse(op.obj.ID, m), nil
}
