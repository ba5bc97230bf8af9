package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// sign implements Sign (KMIP 1.4 §4.31, KMIP 2.1 §6.1.51).
func (s *Service) sign(ctx context.Context, c *call) (*kmip.Item, error) {
	signer, err := capability[ports.Signer](s)
	if err != nil {
		return nil, err
	}
	op, partial, err := s.readDataOp(ctx, c, useSign, true, 0)
	if op == nil {
		return partial, err
	}
	if err := s.spendUsage(ctx, c, op.obj, len(op.data)); err != nil {
		return nil, err
	}
	sig, err := signer.Sign(ctx, op.key, op.p, op.data, op.digested)
	if err != nil {
		return nil, engineError(err)
	}
	return codec.SignResponse(op.obj.ID, sig), nil
}
