package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// signatureVerify implements Signature Verify (KMIP 1.4 §4.32, KMIP 2.1 §6.1.52).
func (s *Service) signatureVerify(ctx context.Context, c *call) (*kmip.Item, error) {
	signer, err := capability[ports.Signer](s)
	if err != nil {
		return nil, err
	}
	op, partial, err := s.readDataOp(ctx, c, useVerify, true, kmip.TagSignatureData)
	if op == nil {
		return partial, err
	}
	if !op.hasCheck {
		return nil, missingData("Signature Data is required")
	}
	sig := op.check
	if op.foreign {
		return codec.VerifyResponse(op.obj.ID, false), nil
	}
	valid, err := signer.Verify(ctx, op.key, op.p, op.data, op.digested, sig)
	if err != nil {
		return nil, engineError(err)
	}
	return codec.VerifyResponse(op.obj.ID, valid), nil
}
