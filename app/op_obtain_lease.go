package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

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
