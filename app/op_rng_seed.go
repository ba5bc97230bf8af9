package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// rngSeed implements RNG Seed (KMIP 1.4 §4.36, KMIP 2.1 §6.1.48).
func (s *Service) rngSeed(ctx context.Context, c *call) (*kmip.Item, error) {
	seeder, err := capability[ports.RandomSeeder](s)
	if err != nil {
		return nil, err
	}
	d, ok, err := codec.Bytes(c.payload, kmip.TagData)
	if err != nil {
		return nil, err
	} else if !ok {
		return nil, missingData("Data is required")
	}
	n, err := seeder.SeedRandom(ctx, d)
	if err != nil {
		return nil, engineError(err)
	}
	return codec.DataLengthResponse(n), nil
}
