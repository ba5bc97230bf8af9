package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// discoverVersions implements Discover Versions (KMIP 1.4 §4.26): the
// supported versions among those the client lists (all when it lists none),
// in the server's order of preference.
func (s *Service) discoverVersions(ctx context.Context, c *call) (*kmip.Item, error) {
	listed, err := codec.DecodeDiscoverVersions(c.payload)
	if err != nil {
		return nil, err
	}
	asked := map[codec.Version]bool{}
	for _, v := range listed {
		asked[v] = true
	}
	var answer []codec.Version
	for _, v := range supportedVersions {
		if len(asked) == 0 || asked[v.wire()] {
			answer = append(answer, v.wire())
		}
	}
	return codec.DiscoverVersionsResponse(answer), nil
}
