package app

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestCheck follows KMIP 1.4 §4.10 / §11.11 and KMIP 2.1 §6.1.7.1.
func TestCheck(t *testing.T) {
	t.Parallel()
	s, clk := newClockedService(t)
	past := clk.Now().Add(-time.Hour)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14With("", dateAttr14("Activation Date", past), usageLimits14(10))))
	encrypt := kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt))
	sign := kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskSign))
	p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCheck, uidItem(id), encrypt,
		kmip.Long(kmip.TagUsageLimitsCount, 10), kmip.Interval(kmip.TagLeaseTime, 3600))))
	if got, _ := p.Child(kmip.TagUniqueIdentifier).AsText(); got != id {
		t.Fatalf("Check answered %q", got)
	}
	r := sendOne(t, s, alice, v14, batchItem(kmip.OperationCheck, uidItem(id), sign, kmip.Long(kmip.TagUsageLimitsCount, 1)))
	mustFail(t, r, kmip.ResultReasonPermissionDenied)
	// The refusal lists only what was refused, and no identifier (1.4 Table 193).
	if r.payload == nil || r.payload.Child(kmip.TagUniqueIdentifier) != nil || r.payload.Child(kmip.TagUsageLimitsCount) != nil {
		t.Fatalf("refused Check payload %v", r.payload)
	}
	if m, _ := r.payload.Child(kmip.TagCryptographicUsageMask).AsInt(); m != int32(kmip.CryptographicUsageMaskSign) {
		t.Fatalf("refused Check names mask %d", m)
	}
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationCheck, uidItem(id), sign)), kmip.ResultReasonIncompatibleCryptographicUsageMask)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCheck, uidItem(id), kmip.Long(kmip.TagUsageLimitsCount, 11))), kmip.ResultReasonPermissionDenied)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationCheck, uidItem(id), kmip.Long(kmip.TagUsageLimitsCount, 11))), kmip.ResultReasonUsageLimitExceeded)
	// A Pre-Active key may not be used for encryption yet.
	pre := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCheck, uidItem(pre), encrypt)), kmip.ResultReasonPermissionDenied)
	// A refused Check empties the ID Placeholder: the Get after it has no object.
	_, rs := send(t, s, alice, withContinue(msg(v14, aesCreate14(128, ""), batchItem(kmip.OperationCheck, encrypt), batchItem(kmip.OperationGet))))
	mustOK(t, rs[0])
	mustFail(t, rs[1], kmip.ResultReasonPermissionDenied)
	mustFail(t, rs[2], kmip.ResultReasonMissingData)
}
