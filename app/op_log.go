package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// logOp implements Log (KMIP 2.1 §6.1.28): the client's message goes to the
// server log, attributed to the client.
func (s *Service) logOp(ctx context.Context, c *call) (*kmip.Item, error) {
	m, err := codec.DecodeLog(c.payload)
	if err != nil {
		return nil, err
	}
	s.cfg.Log.Info().Str("client", c.who.Name).Str("message", m).Msg("client log")
	return codec.EmptyResponse(), nil
}
