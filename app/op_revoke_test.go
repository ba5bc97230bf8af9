package app

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// KMIP 1.4 §4.20: without a Compromise Occurrence Date the Initial Date
// stands in for it; the Compromise Date is the time of the Revoke.
func TestRevokeCompromiseDates(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	st := newMemStore()
	s := New(Config{Store: st, Crypto: fakeCrypto{}, Clock: fixedClock{created}})
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	later := created.Add(time.Hour)
	s = New(Config{Store: st, Crypto: fakeCrypto{}, Clock: fixedClock{later}})
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRevoke, uidItem(id), kmip.Struct(kmip.TagRevocationReason,
		kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeKeyCompromise))))))
	a := attrs14(t, s, id)
	if d, _ := a["Compromise Occurrence Date"][0].AsTime(); !d.Equal(created) {
		t.Errorf("Compromise Occurrence Date %v, want the Initial Date %v", d, created)
	}
	if d, _ := a["Compromise Date"][0].AsTime(); !d.Equal(later) {
		t.Errorf("Compromise Date %v, want %v", d, later)
	}
}

// TestRevokeReasonsAndDates: compromise reasons set Compromise Date and
// Compromise Occurrence Date; other reasons must not carry the latter
// (KMIP 1.4 §4.20 Table 212); revoking follows the effective state.
func TestRevokeReasonsAndDates(t *testing.T) {
	t.Parallel()
	s, clk := newClockedService(t)
	now := clk.Now()
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14With("", dateAttr14("Activation Date", now.Add(-time.Hour)))))
	revoke := func(code kmip.RevocationReasonCode, extra ...*kmip.Item) *kmip.Item {
		return batchItem(kmip.OperationRevoke, append([]*kmip.Item{uidItem(id), kmip.Struct(kmip.TagRevocationReason,
			kmip.Enum(kmip.TagRevocationReasonCode, uint32(code)))}, extra...)...)
	}
	occurred := kmip.DateTime(kmip.TagCompromiseOccurrenceDate, now.Add(-30*time.Minute))
	mustFail(t, sendOne(t, s, alice, v14, revoke(kmip.RevocationReasonCodeSuperseded, occurred)), kmip.ResultReasonInvalidField)
	mustFail(t, sendOne(t, s, alice, v14, revoke(kmip.RevocationReasonCode(0x7fff))), kmip.ResultReasonInvalidField)
	// Active through its Activation Date only: a non-compromise Revoke deactivates it.
	mustOK(t, sendOne(t, s, alice, v14, revoke(kmip.RevocationReasonCodeSuperseded)))
	a := attrs14(t, s, id)
	if d, _ := a["Deactivation Date"][0].AsTime(); !d.Equal(now) {
		t.Fatalf("Deactivation Date %v, want %v", d, now)
	}
	clk.advance(time.Minute)
	mustOK(t, sendOne(t, s, alice, v14, revoke(kmip.RevocationReasonCodeKeyCompromise, occurred)))
	a = attrs14(t, s, id)
	if st, _ := a["State"][0].AsEnum(); domain.State(st) != domain.Compromised {
		t.Fatalf("state %s", domain.State(st))
	}
	if d, _ := a["Compromise Date"][0].AsTime(); !d.Equal(now.Add(time.Minute)) {
		t.Fatalf("Compromise Date %v", d)
	}
	if d, _ := a["Compromise Occurrence Date"][0].AsTime(); !d.Equal(now.Add(-30 * time.Minute)) {
		t.Fatalf("Compromise Occurrence Date %v", d)
	}
	if c, _ := a["Revocation Reason"][0].Child(kmip.TagRevocationReasonCode).AsEnum(); c != uint32(kmip.RevocationReasonCodeKeyCompromise) {
		t.Fatalf("Revocation Reason %d", c)
	}
}
