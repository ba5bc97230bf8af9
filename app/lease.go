package app

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// leaseSeconds is Config.LeaseTime in whole seconds (0: no lease limit),
// capped at the largest Interval.
func (s *Service) leaseSeconds() uint32 {
	secs := s.cfg.LeaseTime / time.Second
	switch {
	case secs <= 0:
		return 0
	case secs > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(secs)
}

// leaseOf returns the lease kmipd grants on obj: its Lease Time attribute,
// which the server sets on new cryptographic objects from Config.LeaseTime,
// else no limit (KMIP 1.4 §4.17: a lease of zero means the client may use
// the object without a lease time limit).
func leaseOf(obj *domain.Object) (seconds uint32, limited bool) {
	lt, ok := obj.AttrOf(kmip.TagLeaseTime).AsInterval()
	return lt, ok && lt > 0
}

// obtainLease implements Obtain Lease (KMIP 1.4 §4.17, KMIP 2.1 §6.1.35):
// the lease kmipd grants (the object's Lease Time; zero: no limit) and the
// Last Change Date, so the client can tell whether its cached
// attributes are stale.
func (s *Service) obtainLease(ctx context.Context, c *call) (*kmip.Item, error) {
	obj, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, err
	}
	if !domain.HasLifecycle(obj.Type) {
		return nil, errorf(kmip.ResultReasonPermissionDenied, "no lease is issued for this object") // 1.4 §11.18
	}
	if obj.State == domain.Destroyed || obj.State == domain.DestroyedCompromised {
		return nil, errorf(kmip.ResultReasonPermissionDenied, "no lease is issued for a destroyed object")
	}
	lease, _ := leaseOf(obj)
	changed, ok := obj.AttrOf(kmip.TagLastChangeDate).AsTime()
	if !ok {
		changed = obj.InitialDate
	}
	return codec.LeaseResponse(obj.ID, lease, changed), nil
}

// getUsageAllocation implements Get Usage Allocation (KMIP 1.4 §4.18, KMIP
// 2.1 §6.1.23): the requested units are taken from the object's Usage Limits
// Count, in one store transaction, while the object may apply protection.
func (s *Service) getUsageAllocation(ctx context.Context, c *call) (*kmip.Item, error) {
	it := c.payload.Child(kmip.TagUsageLimitsCount)
	if it == nil {
		return nil, errorf(kmip.ResultReasonInvalidMessage, "Usage Limits Count is required") // 1.4 §11.19
	}
	n, ok := it.AsLong()
	if !ok || n <= 0 {
		return nil, invalidField("Usage Limits Count must be a positive Long Integer")
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
