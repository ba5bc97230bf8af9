package app

import (
	"context"
	"errors"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// getUsageAllocation implements Get Usage Allocation (KMIP 1.4 §4.18, KMIP
// 2.1 §6.1.23): the requested units are taken from the object's Usage Limits
// Count, in one store transaction, while the object may apply protection.
func (s *Service) getUsageAllocation(ctx context.Context, c *call) (*kmip.Item, error) {
	n, err := codec.DecodeUsageAllocation(c.payload)
	if err != nil {
		return nil, err
	}
	out, err := s.transition(ctx, c, func(obj *domain.Object, now time.Time) error { return obj.AllocateUsage(n, now) })
	switch {
	case errors.Is(err, domain.ErrNotApplicable):
		return nil, kindErr(errKindNoUsageLimits, "the object has no Usage Limits")
	case errors.Is(err, domain.ErrWrongState), errors.Is(err, domain.ErrUsageDate):
		// "only ... after the Activation Date and before the Protect Stop Date".
		return nil, kindErr(errKindCannotProtect, "the object may not be used for applying cryptographic protection now").because(err)
	case errors.Is(err, domain.ErrUsageLimit):
		return nil, kindErr(errKindUsageLimit, "the requested usage allocation is not available")
	}
	return out, err
}
