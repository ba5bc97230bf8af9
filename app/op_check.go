package app

import (
	"context"
	"errors"
	"strings"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// check implements Check (KMIP 1.4 §4.10, KMIP 2.1 §6.1.5): whether the
// client may use the object for the usage amount, Cryptographic Usage Mask
// and Lease Time it names. When it may not, the ID Placeholder is emptied
// and the failed item's payload lists the refused values: Permission Denied in KMIP 1.x
// (1.4 §11.11); in KMIP 2.x Usage Limit Exceeded, Incompatible Cryptographic
// Usage Mask or Permission Denied (Lease Time) (2.1 §6.1.7.1). Objects
// without a usage lifecycle cannot be checked (Illegal Operation, 2.x
// Illegal Object Type).
func (s *Service) check(ctx context.Context, c *call) (*kmip.Item, error) {
	obj, err := s.loadFor(ctx, c)
	if err != nil {
		return nil, err
	}
	if !domain.HasLifecycle(obj.Type) {
		return nil, kindErr(errKindNotCheckable, "Check cannot be performed on this object")
	}
	req, err := codec.DecodeCheck(c.payload)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now()
	var refused []string
	var denied codec.CheckRequest
	var kind errKind
	refuse := func(tag kmip.Tag, k errKind) {
		if len(refused) == 0 {
			kind = k
		}
		refused = append(refused, tag.SpecName())
	}
	if n := req.UsageLimitsCount; n != nil && !obj.UsageAvailable(*n) {
		denied.UsageLimitsCount = n
		refuse(kmip.TagUsageLimitsCount, errKindUsageLimit)
	}
	if mask := req.UsageMask; mask != nil {
		if err := domain.CheckUsageMask(obj, uint32(*mask), now); err != nil {
			if !errors.Is(err, domain.ErrPermissionDenied) && !errors.Is(err, domain.ErrWrongState) && !errors.Is(err, domain.ErrUsageDate) {
				return nil, err
			}
			denied.UsageMask = mask
			refuse(kmip.TagCryptographicUsageMask, errKindUsageMask)
		}
	}
	if want := req.LeaseTime; want != nil {
		if max, limited := leaseOf(obj); limited && *want > max {
			denied.LeaseTime = want
			refuse(kmip.TagLeaseTime, errKindDenied)
		}
	}
	if len(refused) > 0 {
		c.batch.placeholder = ""
		e := kindErr(kind, "the object may not be used as asked: %s", strings.Join(refused, ", "))
		e.Payload = codec.CheckRefusal(denied)
		return nil, e
	}
	return codec.IDResponse(obj.ID), nil
}
