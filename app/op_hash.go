package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// hash implements Hash (KMIP 1.4 §4.37, KMIP 2.1 §6.1.23), streamed or not.
func (s *Service) hash(ctx context.Context, c *call) (*kmip.Item, error) {
	hasher, err := capability[ports.Hasher](s)
	if err != nil {
		return nil, err
	}
	req, err := codec.DecodeCrypto(c.payload)
	if err != nil {
		return nil, err
	}
	dr, err := codec.DecodeData(c.payload, false, 0)
	if err != nil {
		return nil, err
	}
	p, err := cryptoParams(req.Params)
	if err != nil {
		return nil, err
	}
	if p.HashingAlgorithm == 0 {
		return nil, missingData("Cryptographic Parameters with a Hashing Algorithm are required")
	}
	st, err := s.readStream(ctx, c, req)
	if err != nil {
		return nil, err
	}
	data, _, done, err := gatherData(dr, st)
	if err != nil {
		return nil, err
	}
	if !done {
		return s.partial(ctx, c, st, "", data)
	}
	sum, err := hasher.Hash(ctx, p.HashingAlgorithm, data)
	if err != nil {
		return nil, engineError(err)
	}
	return codec.DataResponse(sum), nil
}
