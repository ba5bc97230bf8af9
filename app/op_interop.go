package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// interop implements Interop (KMIP 2.1 §6.1.26), which test harnesses use to
// mark the beginning and end of a test case; kmipd logs it and keeps no state.
func (s *Service) interop(ctx context.Context, c *call) (*kmip.Item, error) {
	f, ok := c.payload.Child(kmip.TagInteropFunction).AsEnum()
	if !ok {
		return nil, missingData("Interop Function is required")
	}
	id, _ := c.payload.Child(kmip.TagInteropIdentifier).AsText()
	s.cfg.Log.Info().Str("client", c.who.Name).Str("function", kmip.InteropFunction(f).String()).Str("identifier", id).Msg("interop")
	return codec.EmptyResponse(), nil
}
