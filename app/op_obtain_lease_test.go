package app

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestObtainLeaseAndUsageAllocation follows KMIP 1.4 §4.17-4.18 and §11.18-11.19.
func TestObtainLeaseAndUsageAllocation(t *testing.T) {
	t.Parallel()
	s, clk := newClockedService(t)
	past := clk.Now().Add(-time.Hour)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14With("", dateAttr14("Activation Date", past), usageLimits14(10))))
	p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationObtainLease, uidItem(id))))
	if lt, ok := p.Child(kmip.TagLeaseTime).AsInterval(); !ok || lt != 0 {
		t.Fatalf("Lease Time %d (%v), want 0: no lease limit", lt, ok)
	}
	if lc, ok := p.Child(kmip.TagLastChangeDate).AsTime(); !ok || lc.IsZero() {
		t.Fatal("no Last Change Date")
	}
	alloc := func(n int64) *kmip.Item {
		return batchItem(kmip.OperationGetUsageAllocation, uidItem(id), kmip.Long(kmip.TagUsageLimitsCount, n))
	}
	mustOK(t, sendOne(t, s, alice, v14, alloc(4)))
	mustFail(t, sendOne(t, s, alice, v14, alloc(7)), kmip.ResultReasonPermissionDenied)
	mustOK(t, sendOne(t, s, alice, v14, alloc(6)))
	mustFail(t, sendOne(t, s, alice, v14, alloc(1)), kmip.ResultReasonPermissionDenied)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGetUsageAllocation, uidItem(id))), kmip.ResultReasonInvalidMessage)
	ul := attrs14(t, s, id)["Usage Limits"][0]
	if c, _ := ul.Child(kmip.TagUsageLimitsCount).AsLong(); c != 0 {
		t.Fatalf("Usage Limits Count after allocating everything: %d", c)
	}
	plain := createdID(t, sendOne(t, s, alice, v14, aesCreate14With("", dateAttr14("Activation Date", past))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGetUsageAllocation, uidItem(plain), kmip.Long(kmip.TagUsageLimitsCount, 1))), kmip.ResultReasonIllegalOperation)
}
