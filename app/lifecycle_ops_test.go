package app

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// stepClock is a clock the test moves forward.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *stepClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newClockedService(t *testing.T) (*Service, *stepClock) {
	t.Helper()
	clk := &stepClock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	return New(Config{Store: newMemStore(), Crypto: fakeCrypto{}, Clock: clk}), clk
}

// aesCreate14With is aesCreate14 with extra 1.x attributes.
func aesCreate14With(name string, extra ...*kmip.Item) *kmip.Item {
	c := aesCreate14(128, name)
	c.Child(kmip.TagRequestPayload).Child(kmip.TagTemplateAttribute).Add(extra...)
	return c
}

func dateAttr14(name string, t time.Time) *kmip.Item { return attribute1x(name, kmip.DateTime(0, t)) }

// TestDatesDriveState: an Activation Date that passes makes the key Active,
// a Deactivation Date that passes makes it Deactivated, as every read sees
// (KMIP 1.4 §3.22 transitions 4 and 6), and the next write persists it.
func TestDatesDriveState(t *testing.T) {
	t.Parallel()
	s, clk := newClockedService(t)
	now := clk.Now()
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14With("",
		dateAttr14("Activation Date", now.Add(time.Hour)),
		dateAttr14("Deactivation Date", now.Add(3*time.Hour)))))
	if st := state(t, s, v14, id); st != domain.PreActive {
		t.Fatalf("before the Activation Date: %s", st)
	}
	clk.advance(2 * time.Hour)
	if st := state(t, s, v14, id); st != domain.Active {
		t.Fatalf("after the Activation Date: %s", st)
	}
	if st := state(t, s, v21, id); st != domain.Active {
		t.Fatalf("after the Activation Date (2.1): %s", st)
	}
	// Activate is refused now: the key is already Active.
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationActivate, uidItem(id))), kmip.ResultReasonWrongKeyLifecycleState)
	clk.advance(2 * time.Hour)
	if st := state(t, s, v14, id); st != domain.Deactivated {
		t.Fatalf("after the Deactivation Date: %s", st)
	}
	// A Deactivated key may be destroyed: Destroy sees the effective state
	// and persists the whole path.
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDestroy, uidItem(id))))
	if st := state(t, s, v14, id); st != domain.Destroyed {
		t.Fatalf("after Destroy: %s", st)
	}
}

// TestReKey14 follows KMIP 1.4 §4.4 and TC-REKEY-1-10.
func TestReKey14(t *testing.T) {
	t.Parallel()
	s, clk := newClockedService(t)
	now := clk.Now()
	old := createdID(t, sendOne(t, s, alice, v14, aesCreate14With("orig", dateAttr14("Activation Date", now.Add(-time.Hour)))))
	_, rs := send(t, s, alice, msg(v14,
		batchItem(kmip.OperationReKey, uidItem(old), kmip.Struct(kmip.TagTemplateAttribute, attribute1x("Name", nameItem("second")))),
		batchItem(kmip.OperationGetAttributes, kmip.Text(kmip.TagAttributeName, "Name"), kmip.Text(kmip.TagAttributeName, "State"))))
	repl := createdID(t, rs[0])
	if repl == old {
		t.Fatal("Re-key returned the existing key")
	}
	got := mustOK(t, rs[1])
	if id, _ := got.Child(kmip.TagUniqueIdentifier).AsText(); id != repl {
		t.Fatalf("ID Placeholder after Re-key is %q, want the replacement", id)
	}
	var names []string
	for _, a := range got.ChildrenOf(kmip.TagAttribute) {
		if n, _ := a.Child(kmip.TagAttributeName).AsText(); n == "Name" {
			v, _ := a.Path(kmip.TagAttributeValue, kmip.TagNameValue).AsText()
			names = append(names, v)
		}
	}
	if strings.Join(names, ",") != "orig,second" {
		t.Fatalf("replacement names %v, want orig,second", names)
	}
	if st := state(t, s, v14, repl); st != domain.Active {
		t.Fatalf("replacement with the existing past Activation Date is %s", st)
	}
	oa := attrs14(t, s, old)
	if len(oa["Name"]) != 0 {
		t.Fatalf("existing key kept its names: %v", oa["Name"])
	}
	if !hasLink(oa["Link"], kmip.LinkTypeReplacementObjectLink, repl) {
		t.Fatal("existing key has no Replacement Object Link")
	}
	if !hasLink(attrs14(t, s, repl)["Link"], kmip.LinkTypeReplacedObjectLink, old) {
		t.Fatal("replacement has no Replaced Object Link")
	}
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(repl))))

	// An Offset with an Activation Date is Invalid Message (1.4 §11.5);
	// with an offset the replacement activates at Initial Date + Offset.
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(repl), kmip.Interval(kmip.TagOffset, 60),
		kmip.Struct(kmip.TagTemplateAttribute, dateAttr14("Activation Date", now)))), kmip.ResultReasonInvalidMessage)
	r2 := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(repl), kmip.Interval(kmip.TagOffset, 3600))))
	if ad, _ := attrs14(t, s, r2)["Activation Date"][0].AsTime(); !ad.Equal(now.Add(time.Hour)) {
		t.Fatalf("offset activation date %v", ad)
	}
	if st := state(t, s, v14, r2); st != domain.PreActive {
		t.Fatalf("replacement activating in an hour is %s", st)
	}
	// A key without an Activation Date cannot take an Offset.
	plain := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(plain), kmip.Interval(kmip.TagOffset, 60))), kmip.ResultReasonIllegalOperation)
	// Only symmetric keys are re-keyed; other users' keys are not.
	opaque := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeOpaqueObject)),
		kmip.Struct(kmip.TagTemplateAttribute), kmip.Struct(kmip.TagOpaqueObject,
			kmip.Enum(kmip.TagOpaqueDataType, 0x80000001), kmip.Bytes(kmip.TagOpaqueDataValue, []byte("x"))))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(opaque))), kmip.ResultReasonPermissionDenied)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationReKey, uidItem(opaque))), kmip.ResultReasonInvalidObjectType)
	mustFail(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationReKey, uidItem(plain))), kmip.ResultReasonPermissionDenied)
	// A destroyed key has no key value to replace.
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDestroy, uidItem(plain))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(plain))), kmip.ResultReasonKeyValueNotPresent)
}

func hasLink(links []*kmip.Item, lt kmip.LinkType, id string) bool {
	for _, l := range links {
		t, _ := l.Child(kmip.TagLinkType).AsEnum()
		to, _ := l.Child(kmip.TagLinkedObjectIdentifier).AsText()
		if t == uint32(lt) && to == id {
			return true
		}
	}
	return false
}

// TestArchiveRecover: an archived object answers Object Archived to every
// operation but Recover (KMIP 1.4 §4.22-4.23, §11).
func TestArchiveRecover(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		t.Run(v.String(), func(t *testing.T) {
			s, _ := newClockedService(t)
			id := createdID(t, sendOne(t, s, alice, v, aesCreateIn(v, 128, "")))
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationArchive, uidItem(id))))
			for _, op := range []kmip.Operation{kmip.OperationGet, kmip.OperationGetAttributes, kmip.OperationActivate,
				kmip.OperationArchive, kmip.OperationReKey, kmip.OperationObtainLease, kmip.OperationCheck, kmip.OperationDestroy} {
				mustFail(t, sendOne(t, s, alice, v, batchItem(op, uidItem(id))), kmip.ResultReasonObjectArchived)
			}
			mustFail(t, sendOne(t, s, bob, v, batchItem(kmip.OperationRecover, uidItem(id))), kmip.ResultReasonPermissionDenied)
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationRecover, uidItem(id))))
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))))
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationRecover, uidItem(id)))) // already on-line: nothing to do
		})
	}
}

func usageLimits14(total int64) *kmip.Item {
	return attribute1x("Usage Limits", kmip.Struct(0,
		kmip.Long(kmip.TagUsageLimitsTotal, total),
		kmip.Long(kmip.TagUsageLimitsCount, total),
		kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitObject))))
}

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

func withContinue(m *kmip.Item) *kmip.Item {
	m.Child(kmip.TagRequestHeader).Add(kmip.Enum(kmip.TagBatchErrorContinuationOption, uint32(kmip.BatchErrorContinuationOptionContinue)))
	return m
}

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

// TestPollCancelPutNotify: Poll and Cancel of a value no operation has
// (KMIP 1.4 §4.27-4.28, §11.29; KMIP 2.1 §6.1.5, §6.1.38; the pending ones
// are app/async_test.go's), and Put and Notify go from server to
// client (KMIP 1.4 §5), so a client sending them is refused.
func TestPollCancelPutNotify(t *testing.T) {
	t.Parallel()
	s, _ := newClockedService(t)
	acv := kmip.Bytes(kmip.TagAsynchronousCorrelationValue, []byte{1, 2, 3})
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationPoll, acv)), kmip.ResultReasonItemNotFound)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationPoll, acv)), kmip.ResultReasonInvalidAsynchronousCorrelationValue)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationPoll)), kmip.ResultReasonMissingData)
	for _, v := range []version{v14, v21} {
		p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationCancel, acv)))
		if r, _ := p.Child(kmip.TagCancellationResult).AsEnum(); r != uint32(kmip.CancellationResultUnavailable) {
			t.Fatalf("%s: Cancellation Result %d, want Unavailable", v, r)
		}
		if b, _ := p.Child(kmip.TagAsynchronousCorrelationValue).AsBytes(); string(b) != "\x01\x02\x03" {
			t.Fatalf("%s: correlation value not echoed", v)
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationPut)), kmip.ResultReasonOperationNotSupported)
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationNotify)), kmip.ResultReasonOperationNotSupported)
	}
}

// TestCriticalExtensionRejectsWholeMessage: "the receiver SHALL reject the
// entire message" (KMIP 1.4 §6.16, KMIP 2.1 §9.13), so no earlier item runs;
// a non-critical extension is ignored.
func TestCriticalExtensionRejectsWholeMessage(t *testing.T) {
	t.Parallel()
	s, _ := newClockedService(t)
	ext := func(crit bool) *kmip.Item {
		return kmip.Struct(kmip.TagMessageExtension, kmip.Text(kmip.TagVendorIdentification, "acme"),
			kmip.Bool(kmip.TagCriticalityIndicator, crit), kmip.Struct(kmip.TagVendorExtension))
	}
	m := withContinue(msg(v14, aesCreate14(128, "only-if-accepted"), batchItem(kmip.OperationQuery).Add(ext(true))))
	_, rs := send(t, s, alice, m)
	if len(rs) != 1 || rs[0].reason != kmip.ResultReasonFeatureNotSupported {
		t.Fatalf("critical extension: %+v", rs)
	}
	p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLocate, attribute1x("Name", nameItem("only-if-accepted")))))
	if n := len(p.ChildrenOf(kmip.TagUniqueIdentifier)); n != 0 {
		t.Fatalf("the rejected message created %d objects", n)
	}
	_, rs = send(t, s, alice, msg(v14, aesCreate14(128, "").Add(ext(false))))
	mustOK(t, rs[0])
}
