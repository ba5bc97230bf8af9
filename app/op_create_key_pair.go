package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// createKeyPair implements Create Key Pair (KMIP 1.4 §4.2, KMIP 2.1 §6.1.8).
func (s *Service) createKeyPair(ctx context.Context, c *call) (*kmip.Item, error) {
	kp, err := codec.DecodeKeyPair(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	// KMIP 1.x: Templates named in any of the three Template-Attributes
	// (1.4 §4.2 Tables 164-166) give their attributes.
	privAttrs, pubAttrs, err := s.halves(ctx, c, kp, true)
	if err != nil {
		return nil, err
	}
	priv, err := s.newObject(ctx, c, kmip.ObjectTypePrivateKey, privAttrs)
	if err != nil {
		return nil, err
	}
	pub, err := s.newObject(ctx, c, kmip.ObjectTypePublicKey, pubAttrs)
	if err != nil {
		return nil, err
	}
	return s.generatePair(ctx, c, priv, pub)
}
