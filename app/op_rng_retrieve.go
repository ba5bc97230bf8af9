package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// maxRNG caps one RNG Retrieve, like the message size limits cap requests.
const maxRNG = 1 << 20

// rngRetrieve implements RNG Retrieve (KMIP 1.4 §4.35, KMIP 2.1 §6.1.47).
func (s *Service) rngRetrieve(ctx context.Context, c *call) (*kmip.Item, error) {
	n, err := codec.DecodeRNGRetrieve(c.payload)
	if err != nil {
		return nil, err
	}
	if n > maxRNG {
		return nil, invalidField("Data Length must be between 1 and %d", maxRNG)
	}
	b, err := s.cfg.Crypto.RandomBytes(ctx, int(n))
	if err != nil {
		return nil, engineError(err)
	}
	return codec.DataResponse(b), nil
}
