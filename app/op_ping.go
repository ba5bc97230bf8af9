package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// ping implements Ping (KMIP 2.1 §6.1.36): the request payload is empty
// and so is the answer, which only says the server is alive and answering.
// Fields a client adds are ignored, as the table lists none to refuse. It
// touches no object; its audit record is kept like any other (the spec
// allows, but does not require, leaving it out).
func (s *Service) ping(_ context.Context, _ *call) (*kmip.Item, error) {
	return codec.EmptyResponse(), nil
}
