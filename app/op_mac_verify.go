package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// macVerify implements MAC Verify (KMIP 1.4 §4.34, KMIP 2.1 §6.1.31).
func (s *Service) macVerify(ctx context.Context, c *call) (*kmip.Item, error) {
	macer, err := capability[ports.MACer](s)
	if err != nil {
		return nil, err
	}
	op, partial, err := s.readDataOp(ctx, c, useMACVerify, false, kmip.TagMACData)
	if op == nil {
		return partial, err
	}
	if !op.hasCheck {
		return nil, missingData("MAC Data is required")
	}
	m := op.check
	if op.foreign {
		return codec.VerifyResponse(op.obj.ID, false), nil
	}
	valid, err := macer.VerifyMAC(ctx, op.key, op.p, op.data, m)
	if err != nil {
		return nil, engineError(err)
	}
	return codec.VerifyResponse(op.obj.ID, valid), nil
}
