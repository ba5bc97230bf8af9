package app

import (
	"context"
	"errors"
	"strings"

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
	now := s.cfg.Clock.Now()
	var refused []string
	denied := kmip.Struct(kmip.TagResponsePayload)
	var kind errKind
	refuse := func(it *kmip.Item, k errKind) {
		if len(refused) == 0 {
			kind = k
		}
		refused = append(refused, it.Tag.SpecName())
		denied.Add(it.Clone())
	}
	if it := c.payload.Child(kmip.TagUsageLimitsCount); it != nil {
		n, ok := it.AsLong()
		if !ok || n < 0 {
			return nil, invalidField("Usage Limits Count must be a non-negative Long Integer")
		}
		if !obj.UsageAvailable(n) {
			refuse(it, errKindUsageLimit)
		}
	}
	if it := c.payload.Child(kmip.TagCryptographicUsageMask); it != nil {
		mask, ok := it.AsInt()
		if !ok {
			return nil, invalidField("Cryptographic Usage Mask must be an Integer")
		}
		if err := domain.CheckUsageMask(obj, uint32(mask), now); err != nil {
			if !errors.Is(err, domain.ErrPermissionDenied) && !errors.Is(err, domain.ErrWrongState) && !errors.Is(err, domain.ErrUsageDate) {
				return nil, err
			}
			refuse(it, errKindUsageMask)
		}
	}
	if it := c.payload.Child(kmip.TagLeaseTime); it != nil {
		want, ok := it.AsInterval()
		if !ok {
			return nil, invalidField("Lease Time must be an Interval")
		}
		if max, limited := leaseOf(obj); limited && want > max {
			refuse(it, errKindDenied)
		}
	}
	if len(refused) > 0 {
		c.batch.placeholder = ""
		e := kindErr(kind, "the object may not be used as asked: %s", strings.Join(refused, ", "))
		e.Payload = denied
		return nil, e
	}
	return kmip.Struct(kmip.TagResponsePayload, kmip.Text(kmip.TagUniqueIdentifier, obj.ID)), nil
}
