package app

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// recoverOp implements Recover (KMIP 1.4 §4.23, KMIP 2.1 §6.1.40): the object
// is on-line again at once and its
// Archive Date is removed (§3.32). It may be answered asynchronously
// (app/async.go) like Archive.
func (s *Service) recoverOp(ctx context.Context, c *call) (*kmip.Item, error) {
	return s.transition(ctx, c, func(obj *domain.Object, _ time.Time) error {
		obj.Recover()
		return nil
	})
}
