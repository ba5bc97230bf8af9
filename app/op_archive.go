package app

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// archive implements Archive (KMIP 1.4 §4.22, KMIP 2.1 §6.1.3): kmipd keeps
// archived objects in the same store, marked by their Archive Date; until
// recovered, every operation on them but Recover answers Object Archived,
// and Locate finds them only when asked for archival storage.
func (s *Service) archive(ctx context.Context, c *call) (*kmip.Item, error) {
	return s.transition(ctx, c, func(obj *domain.Object, now time.Time) error { return obj.Archive(now) })
}
