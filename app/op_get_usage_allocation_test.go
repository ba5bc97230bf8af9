package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestGetUsageAllocationReasonsByVersion: Get Usage Allocation refusals name
// the reason each version's table gives. KMIP 1.4 §11.19: no Usage Limits,
// or not usable for applying protection (Pre-Active, past the Protect Stop
// Date) is Illegal Operation, an amount not available Permission Denied.
// KMIP 2.0 §6.1.22.1 and 2.1 §6.1.23.1 list Attribute Not Found and Usage
// Limit Exceeded, and no Wrong Key Lifecycle State: a key not usable now is
// Permission Denied.
func TestGetUsageAllocationReasonsByVersion(t *testing.T) {
	s := newCryptoService()
	enc := mask(kmip.CryptographicUsageMaskEncrypt)
	limits := func() *kmip.Item {
		return usageLimitsValue(kmip.Long(kmip.TagUsageLimitsTotal, 10), kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitByte)))
	}
	alloc := func(id string, n int64) *kmip.Item {
		return batchItem(kmip.OperationGetUsageAllocation, uidItem(id), kmip.Long(kmip.TagUsageLimitsCount, n))
	}
	for _, v := range []version{{1, 0}, v14, {2, 0}, v21} {
		noLimits, notNow, usable := kmip.ResultReasonIllegalOperation, kmip.ResultReasonIllegalOperation, kmip.ResultReasonPermissionDenied
		if v.major >= 2 {
			noLimits, notNow, usable = kmip.ResultReasonAttributeNotFound, kmip.ResultReasonPermissionDenied, kmip.ResultReasonUsageLimitExceeded
		}
		active := aesKey(t, s, v, enc, activeNow(), limits())
		mustOK(t, sendOne(t, s, alice, v, alloc(active, 4)))
		mustFail(t, sendOne(t, s, alice, v, alloc(active, 7)), usable)
		mustFail(t, sendOne(t, s, alice, v, alloc(aesKey(t, s, v, enc, activeNow()), 1)), noLimits)
		mustFail(t, sendOne(t, s, alice, v, alloc(aesKey(t, s, v, enc, limits()), 1)), notNow) // Pre-Active
		stopped := aesKey(t, s, v, enc, activeNow(), limits(), kmip.DateTime(kmip.TagProtectStopDate, testNow.Add(-1800e9)))
		mustFail(t, sendOne(t, s, alice, v, alloc(stopped, 1)), notNow)
	}
}
