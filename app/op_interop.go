package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// interop implements Interop (KMIP 2.1 §6.1.26), which test harnesses use to
// mark the beginning and end of a test case; kmipd logs it and keeps no state.
func (s *Service) interop(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeInterop(c.payload)
	if err != nil {
		return nil, err
	}
	s.cfg.Log.Info().Str("client", c.who.Name).Str("function", req.Function.String()).Str("identifier", req.Identifier).Msg("interop")
	return codec.EmptyResponse(), nil
}
