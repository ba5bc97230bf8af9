package app

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Issue 14.7: one intent and one result record per batch item, refused
// ones included; a record that cannot be written fails the item and leaves
// nothing of it in the store.

// fakeAuditor keeps records in memory; fail, when set, refuses the records
// it returns true for.
type fakeAuditor struct {
	mu   sync.Mutex
	recs []ports.AuditRecord
	fail func(ports.AuditRecord) bool
}

func (f *fakeAuditor) Record(_ context.Context, rec ports.AuditRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil && f.fail(rec) {
		return errors.New("disk full")
	}
	f.recs = append(f.recs, rec)
	return nil
}

func (f *fakeAuditor) take() []ports.AuditRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.recs
	f.recs = nil
	return r
}

// newAuditService is the team-policy service of the undo tests with aud
// as its audit trail.
func newAuditService(t *testing.T, aud *fakeAuditor) (*Service, *memStore) {
	t.Helper()
	st := newMemStore()
	s := New(Config{Store: st, Crypto: cryptoFake{}, Clock: fixedClock{testNow},
		Policies: mapPolicies{"team": teamPolicy()}, Log: zerolog.Nop(), Auditor: aud})
	return s, st
}

func TestAuditOneIntentAndResultPerItem(t *testing.T) {
	t.Parallel()
	aud := &fakeAuditor{}
	s, _ := newAuditService(t, aud)
	id := teamKey(t, s)
	aud.take()
	bobG := domain.Principal{Name: "bob", Groups: []string{"ops"}, HasGroupInfo: true}
	m := msg(v14,
		batchItem(kmip.OperationGet, uidItem(id)),
		batchItem(kmip.OperationDestroy, uidItem(id)), // bob is not the owner: refused
		batchItem(kmip.OperationLocate),
		batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("attack at dawn"))),
		batchItem(kmip.Operation(0x7777)))
	m.Child(kmip.TagRequestHeader).Add(kmip.Enum(kmip.TagBatchErrorContinuationOption, uint32(kmip.BatchErrorContinuationOptionContinue)))
	ctx := ports.WithRemoteAddr(ports.WithPeer(context.Background(), bobG), "192.0.2.7:4242")
	s.HandleMessage(ctx, m)
	recs := aud.take()
	type want struct {
		op, status, reason string
		keys               bool
	}
	wants := []want{
		{"Get", "Success", "", true},
		{"Destroy", "OperationFailed", "PermissionDenied", false},
		{"Locate", "Success", "", false},
		{"Encrypt", "Success", "", true},
		{"", "OperationFailed", "OperationNotSupported", false},
	}
	if len(recs) != 2*len(wants) {
		t.Fatalf("%d records, want an intent and a result for each of %d items: %+v", len(recs), len(wants), recs)
	}
	for i, w := range wants {
		in, res := recs[2*i], recs[2*i+1]
		if in.Event != ports.AuditIntent || res.Event != ports.AuditResult || in.Item != i || res.Item != i ||
			in.Request != res.Request || in.Request != recs[0].Request {
			t.Fatalf("item %d: records %+v, %+v", i, in, res)
		}
		if res.Client != "bob" || !reflect.DeepEqual(res.Groups, []string{"ops"}) || res.Address != "192.0.2.7:4242" || res.Version != "1.4" {
			t.Errorf("item %d: who %q %v %q version %q", i, res.Client, res.Groups, res.Address, res.Version)
		}
		if w.op != "" && res.Operation != kmip.OperationGet.String() && res.Operation == "" {
			t.Errorf("item %d: no operation", i)
		}
		if res.Status != w.status || res.Reason != w.reason {
			t.Errorf("item %d (%s): status %q reason %q, want %q %q", i, res.Operation, res.Status, res.Reason, w.status, w.reason)
		}
		if got := len(res.Keys) == 1 && res.Keys[0] == id; got != w.keys {
			t.Errorf("item %d (%s): keys %v", i, res.Operation, res.Keys)
		}
	}
	if recs[1].Operation != kmip.OperationGet.String() || recs[5].UIDs == nil || recs[5].UIDs[0] != id {
		t.Errorf("Get record %+v, Locate record %+v: want the operation and the located key", recs[1], recs[5])
	}
	if in := recs[0]; in.Status != "" || len(in.UIDs) != 1 || in.UIDs[0] != id {
		t.Errorf("intent %+v: want the object named and no status", in)
	}

	// In a batch, an item that acts on the ID Placeholder names it; a
	// Locate does not.
	s.HandleMessage(ctx, msg(v14, aesCreate14(128, ""), batchItem(kmip.OperationGetAttributes), batchItem(kmip.OperationLocate)))
	recs = aud.take()
	if len(recs) != 6 || len(recs[1].UIDs) != 1 || len(recs[2].UIDs) != 1 || recs[2].UIDs[0] != recs[1].UIDs[0] ||
		recs[3].Status != "Success" || len(recs[4].UIDs) != 0 {
		t.Errorf("placeholder records: %+v", recs)
	}

	// An undecodable message gets one result record.
	s.HandleUndecodable(ctx, errors.New("truncated"))
	if recs = aud.take(); len(recs) != 1 || recs[0].Reason != "InvalidMessage" || recs[0].Address != "192.0.2.7:4242" {
		t.Errorf("undecodable message: records %+v", recs)
	}

	// A message refused whole gets one result record.
	bad := msg(v14, batchItem(kmip.OperationGet, uidItem(id)))
	bad.Child(kmip.TagRequestHeader).Child(kmip.TagBatchCount).Value = int32(2)
	s.HandleMessage(ctx, bad)
	recs = aud.take()
	if len(recs) != 1 || recs[0].Event != ports.AuditResult || recs[0].Reason != "InvalidMessage" || recs[0].Client != "bob" {
		t.Errorf("refused message: records %+v", recs)
	}
}

// auditOp is one write operation whose effect must not outlive a failed
// audit record.
type auditOp struct {
	name string
	item func(id string) *kmip.Item
}

func auditWriteOps() []auditOp {
	revoke := func(id string) *kmip.Item {
		return batchItem(kmip.OperationRevoke, uidItem(id), kmip.Struct(kmip.TagRevocationReason,
			kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeKeyCompromise))))
	}
	return []auditOp{
		{"Create", func(string) *kmip.Item { return aesCreate14(128, "audited") }},
		{"Revoke", revoke},
		{"Destroy", func(id string) *kmip.Item { return batchItem(kmip.OperationDestroy, uidItem(id)) }},
		{"Add Attribute", func(id string) *kmip.Item {
			return batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("Contact Information", kmip.Text(kmip.TagContactInformation, "x")))
		}},
		{"Re-key", func(id string) *kmip.Item { return batchItem(kmip.OperationReKey, uidItem(id)) }},
		{"Get", func(id string) *kmip.Item { return batchItem(kmip.OperationGet, uidItem(id)) }},
	}
}

func TestAuditFailClosedLeavesNothing(t *testing.T) {
	t.Parallel()
	for _, buffered := range []bool{false, true} { // Record only, or Append and Sync too (audit_sync_test.go)
		testAuditFailClosedLeavesNothing(t, buffered)
	}
}

func testAuditFailClosedLeavesNothing(t *testing.T, buffered bool) {
	for _, event := range []string{ports.AuditIntent, ports.AuditResult} {
		for _, op := range auditWriteOps() {
			t.Run(fmt.Sprintf("buffered=%v/%s/%s", buffered, event, op.name), func(t *testing.T) {
				setup := func() (*Service, *memStore, *fakeAuditor, string) {
					aud := &fakeAuditor{}
					s, st := newAuditService(t, aud)
					if buffered {
						var b *bufferedFake
						s, st, b = newBufferedAuditService(t)
						aud = &b.fakeAuditor
					}
					id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
					if op.name == "Destroy" { // only a revoked key may be destroyed
						mustOK(t, sendOne(t, s, alice, v14, auditWriteOps()[1].item(id)))
					}
					return s, st, aud, id
				}
				s, _, _, id := setup() // the operation succeeds when audited
				mustOK(t, sendOne(t, s, alice, v14, op.item(id)))
				s, st, aud, id := setup()
				before, _ := st.Get(context.Background(), id)
				count := len(st.objs)
				aud.fail = func(r ports.AuditRecord) bool { return r.Event == event }
				r := sendOne(t, s, alice, v14, op.item(id))
				mustFail(t, r, kmip.ResultReasonGeneralFailure)
				if r.payload != nil {
					t.Errorf("refused item answered with a payload: %v", r.payload)
				}
				after, _ := st.Get(context.Background(), id)
				after.Revision = before.Revision
				if !reflect.DeepEqual(before, after) {
					t.Errorf("object changed:\nbefore %+v\nafter  %+v", before, after)
				}
				if len(st.objs) != count {
					t.Errorf("%d objects, want %d: the refused item created one", len(st.objs), count)
				}
			})
		}
	}
}

func TestAuditFailClosedInUndoBatch(t *testing.T) {
	t.Parallel()
	aud := &fakeAuditor{}
	s, st := newAuditService(t, aud)
	id := teamKey(t, s)
	aud.fail = func(r ports.AuditRecord) bool { return r.Event == ports.AuditResult && r.Item == 1 }
	rs := undoBatch(t, s, alice, aesCreate14(128, "first"),
		batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("Contact Information", kmip.Text(kmip.TagContactInformation, "x"))))
	if len(rs) != 2 || rs[0].status != kmip.ResultStatusOperationUndone {
		t.Fatalf("results %+v: want the first item undone", rs)
	}
	mustFail(t, rs[1], kmip.ResultReasonGeneralFailure)
	if len(st.objs) != 1 {
		t.Errorf("%d objects: the undone Create stayed", len(st.objs))
	}
	if obj, _ := st.Get(context.Background(), id); obj.AttrOf(kmip.TagContactInformation) != nil {
		t.Error("the refused Add Attribute stayed")
	}
}

func TestAuditFailOpenRuns(t *testing.T) {
	t.Parallel()
	aud := &fakeAuditor{fail: func(ports.AuditRecord) bool { return true }}
	st := newMemStore()
	s := New(Config{Store: st, Crypto: cryptoFake{}, Clock: fixedClock{testNow}, Auditor: aud, AuditFailOpen: true})
	createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	if len(st.objs) != 1 {
		t.Errorf("%d objects: fail_closed = false must not refuse", len(st.objs))
	}
}

func TestAuditConcurrentRequests(t *testing.T) {
	t.Parallel()
	aud := &fakeAuditor{}
	s, _ := newAuditService(t, aud)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				s.HandleMessage(ports.WithPeer(context.Background(), alice), msg(v14, aesCreate14(128, "")))
			}
		}()
	}
	wg.Wait()
	recs := aud.take()
	byReq := map[string][]string{}
	for _, r := range recs {
		byReq[r.Request] = append(byReq[r.Request], r.Event)
	}
	if len(recs) != 160 || len(byReq) != 80 {
		t.Fatalf("%d records in %d requests, want 160 in 80", len(recs), len(byReq))
	}
	for req, evs := range byReq {
		if len(evs) != 2 || evs[0] != ports.AuditIntent || evs[1] != ports.AuditResult {
			t.Errorf("request %s: %v, want an intent then a result", req, evs)
		}
	}
}
