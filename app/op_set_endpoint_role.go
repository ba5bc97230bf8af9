package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// setEndpointRole implements Set Endpoint Role (KMIP 2.1 §6.1.54). kmipd only
// ever acts as the server of a connection: asked to stay Server it confirms
// the role it already holds; asked to become the Client (and let the client
// send it requests) it answers Feature Not Supported, one of the reasons
// §6.1.54.1 lists, since no client and no configuration could enable it.
func (s *Service) setEndpointRole(_ context.Context, c *call) (*kmip.Item, error) {
	role, err := codec.DecodeEndpointRole(c.payload)
	if err != nil {
		return nil, err
	}
	switch role {
	case kmip.EndpointRoleServer:
		return codec.EndpointRoleResponse(kmip.EndpointRoleServer), nil
	case kmip.EndpointRoleClient:
		return nil, errorf(kmip.ResultReasonFeatureNotSupported, "kmipd cannot take the client role")
	}
	return nil, invalidField("%d is not an Endpoint Role", uint32(role))
}
