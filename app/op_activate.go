package app

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// activate implements Activate (KMIP 1.4 §4.19).
func (s *Service) activate(ctx context.Context, c *call) (*kmip.Item, error) {
	return s.transition(ctx, c, func(obj *domain.Object, now time.Time) error { return obj.Activate(now) })
}
