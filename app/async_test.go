package app

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// gatedCrypto is fakeCrypto whose key generation waits for release; when
// obeyCtx it gives up when its context ends, otherwise it ignores it (an
// engine call that cannot be interrupted).
type gatedCrypto struct {
	fakeCrypto
	release chan struct{}
	started chan struct{}
	obeyCtx bool
}

func newGated(obeyCtx bool) *gatedCrypto {
	return &gatedCrypto{release: make(chan struct{}), started: make(chan struct{}, 16), obeyCtx: obeyCtx}
}

func (g *gatedCrypto) GenerateSymmetricKey(ctx context.Context, s ports.SymmetricKeySpec) (ports.Key, error) {
	g.started <- struct{}{}
	done := ctx.Done()
	if !g.obeyCtx {
		done = nil
	}
	select {
	case <-g.release:
	case <-done:
		return ports.Key{}, ctx.Err()
	}
	return g.fakeCrypto.GenerateSymmetricKey(ctx, s)
}

func asyncService(t *testing.T, c ports.CryptoEngine, o AsyncOptions, aud ports.Auditor) (*Service, *memStore) {
	t.Helper()
	st := newMemStore()
	s := New(Config{Store: st, Crypto: c, Clock: fixedClock{testNow}, Log: zerolog.Nop(), Async: o, Auditor: aud})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.DrainAsync(ctx); err != nil {
			t.Error(err)
		}
	})
	return s, st
}

// asyncMsg is msg with the Asynchronous Indicator of version v: Boolean
// True in 1.x, the given enumeration in 2.x.
func asyncMsg(v version, ind kmip.AsynchronousIndicator, items ...*kmip.Item) *kmip.Item {
	m := msg(v, items...)
	hdr := m.Child(kmip.TagRequestHeader)
	flag := kmip.Bool(kmip.TagAsynchronousIndicator, true)
	if v.major >= 2 {
		flag = kmip.Enum(kmip.TagAsynchronousIndicator, uint32(ind))
	}
	kids := hdr.Children()
	hdr.Value = append([]*kmip.Item{kids[0], flag}, kids[1:]...)
	return m
}

// sendAsync sends items with the indicator and returns the response batch items.
func sendAsync(t *testing.T, s *Service, who domain.Principal, v version, ind kmip.AsynchronousIndicator, items ...*kmip.Item) []*kmip.Item {
	t.Helper()
	resp := s.HandleMessage(ports.WithPeer(context.Background(), who), asyncMsg(v, ind, items...))
	return resp.ChildrenOf(kmip.TagBatchItem)
}

func status(it *kmip.Item) kmip.ResultStatus {
	st, _ := it.Child(kmip.TagResultStatus).AsEnum()
	return kmip.ResultStatus(st)
}

// pendingACV requires an Operation Pending answer and returns its value.
func pendingACV(t *testing.T, it *kmip.Item) []byte {
	t.Helper()
	acv, _ := it.Child(kmip.TagAsynchronousCorrelationValue).AsBytes()
	if status(it) != kmip.ResultStatusOperationPending || len(acv) != acvLen || it.Child(kmip.TagResultMessage) != nil {
		t.Fatalf("want Operation Pending with a %d-byte correlation value, got %s", acvLen, it)
	}
	return acv
}

func acvItem(acv []byte) *kmip.Item { return kmip.Bytes(kmip.TagAsynchronousCorrelationValue, acv) }

// pollUntilDone polls until the answer is no longer pending.
func pollUntilDone(t *testing.T, s *Service, who domain.Principal, v version, acv []byte) result {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if r := sendOne(t, s, who, v, batchItem(kmip.OperationPoll, acvItem(acv))); r.status != kmip.ResultStatusOperationPending {
			return r
		}
	}
	t.Fatal("still pending after 5s")
	return result{}
}

func cancelResult(t *testing.T, s *Service, who domain.Principal, v version, acv []byte) kmip.CancellationResult {
	t.Helper()
	p := mustOK(t, sendOne(t, s, who, v, batchItem(kmip.OperationCancel, acvItem(acv))))
	r, _ := p.Child(kmip.TagCancellationResult).AsEnum()
	return kmip.CancellationResult(r)
}

// A Create with the indicator (1.x True, 2.x Optional and Mandatory) is
// answered Operation Pending; Poll answers pending while it runs, then the
// result it would have had synchronously, again on a second Poll; the key
// exists. Another client's Poll and Cancel get the unknown-value answers.
func TestAsyncPendingThenPoll(t *testing.T) {
	for _, tc := range []struct {
		v   version
		ind kmip.AsynchronousIndicator
	}{{version{1, 0}, 0}, {v14, 0}, {v21, kmip.AsynchronousIndicatorOptional}, {v21, kmip.AsynchronousIndicatorMandatory}} {
		g := newGated(true)
		s, st := asyncService(t, g, AsyncOptions{}, nil)
		create := aesCreate14(128, "")
		if tc.v.major >= 2 {
			create = aesCreate21(128, "")
		}
		acv := pendingACV(t, sendAsync(t, s, alice, tc.v, tc.ind, create)[0])
		<-g.started
		if r := sendOne(t, s, alice, tc.v, batchItem(kmip.OperationPoll, acvItem(acv))); r.status != kmip.ResultStatusOperationPending || r.payload != nil {
			t.Fatalf("%s: Poll while running: %+v, want pending without payload", tc.v, r)
		}
		unknown := kmip.ResultReasonItemNotFound
		if tc.v.major >= 2 {
			unknown = kmip.ResultReasonInvalidAsynchronousCorrelationValue
		}
		mustFail(t, sendOne(t, s, bob, tc.v, batchItem(kmip.OperationPoll, acvItem(acv))), unknown)
		mustFail(t, sendOne(t, s, alice, tc.v, batchItem(kmip.OperationPoll, acvItem(make([]byte, acvLen)))), unknown)
		if r := cancelResult(t, s, bob, tc.v, acv); r != kmip.CancellationResultUnavailable {
			t.Fatalf("%s: bob's Cancel: %s", tc.v, r)
		}
		close(g.release)
		id := createdID(t, pollUntilDone(t, s, alice, tc.v, acv))
		if id2 := createdID(t, sendOne(t, s, alice, tc.v, batchItem(kmip.OperationPoll, acvItem(acv)))); id2 != id {
			t.Fatalf("second Poll answered %s, first %s", id2, id)
		}
		if _, err := st.Get(context.Background(), id); err != nil {
			t.Fatalf("%s: the created key is not stored: %v", tc.v, err)
		}
		if r := cancelResult(t, s, alice, tc.v, acv); r != kmip.CancellationResultCompleted {
			t.Fatalf("%s: Cancel after completion: %s", tc.v, r)
		}
	}
}

// Items that may not go pending are answered synchronously: no indicator,
// 2.x Prohibited, an operation not marked async (Get, Poll), an item that
// is not the batch's last, any item of an Undo batch; and with After > 0 an
// item that finishes in time.
func TestAsyncOnlyWhereAllowed(t *testing.T) {
	s, _ := asyncService(t, fakeCrypto{}, AsyncOptions{}, nil)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	check := func(name string, items []*kmip.Item) {
		t.Helper()
		for _, it := range items {
			if st := status(it); st == kmip.ResultStatusOperationPending {
				t.Fatalf("%s: answered pending", name)
			}
		}
	}
	check("2.x Prohibited", sendAsync(t, s, alice, v21, kmip.AsynchronousIndicatorProhibited, aesCreate21(128, "")))
	check("Get", sendAsync(t, s, alice, v14, 0, batchItem(kmip.OperationGet, uidItem(id))))
	check("first of two", sendAsync(t, s, alice, v14, 0, aesCreate14(128, ""), batchItem(kmip.OperationGet))[:1])
	undo := asyncMsg(v14, 0, aesCreate14(128, ""), aesCreate14(128, ""))
	hdr := undo.Child(kmip.TagRequestHeader)
	kids := hdr.Children()
	hdr.Value = append(append(kids[:len(kids)-1:len(kids)-1],
		kmip.Enum(kmip.TagBatchErrorContinuationOption, uint32(kmip.BatchErrorContinuationOptionUndo))), kids[len(kids)-1])
	check("Undo batch", s.HandleMessage(ports.WithPeer(context.Background(), alice), undo).ChildrenOf(kmip.TagBatchItem))
	if it := sendAsync(t, s, alice, v14, 0, aesCreate14(128, ""), batchItem(kmip.OperationLocate)); status(it[1]) != kmip.ResultStatusOperationPending {
		t.Fatalf("the last item of a batch was not answered pending: %s", it[1])
	}
	slow, _ := asyncService(t, fakeCrypto{}, AsyncOptions{After: time.Minute}, nil)
	if it := sendAsync(t, slow, alice, v14, 0, aesCreate14(128, ""))[0]; status(it) != kmip.ResultStatusSuccess {
		t.Fatalf("a Create finishing within async_after: %s", it)
	}
	off, _ := asyncService(t, fakeCrypto{}, AsyncOptions{Off: true}, nil)
	check("Off", sendAsync(t, off, alice, v14, 0, aesCreate14(128, "")))
	caps := func(s *Service) bool {
		p := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryCapabilities)))))
		b, _ := p.Path(kmip.TagCapabilityInformation, kmip.TagAsynchronousCapability).AsBool()
		return b
	}
	if !caps(s) || caps(off) {
		t.Fatal("Asynchronous Capability does not say whether items may go pending")
	}
}

// With After > 0, an item still running then is answered pending and its
// result is Poll's.
func TestAsyncAfter(t *testing.T) {
	g := newGated(true)
	s, _ := asyncService(t, g, AsyncOptions{After: 50 * time.Millisecond}, nil)
	start := time.Now()
	acv := pendingACV(t, sendAsync(t, s, alice, v14, 0, aesCreate14(128, ""))[0])
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("answered pending before async_after")
	}
	close(g.release)
	createdID(t, pollUntilDone(t, s, alice, v14, acv))
}

// Cancel of a running Create: Canceled, Poll answers Operation Canceled By
// Requester, and no key is kept, also when the engine call ignores the
// cancellation and completes (its write is reversed).
func TestAsyncCancel(t *testing.T) {
	for _, obey := range []bool{true, false} {
		g := newGated(obey)
		s, st := asyncService(t, g, AsyncOptions{}, nil)
		acv := pendingACV(t, sendAsync(t, s, alice, v14, 0, aesCreate14(128, "gone"))[0])
		<-g.started
		if !obey {
			time.AfterFunc(3*asyncTick, func() { close(g.release) })
		}
		if r := cancelResult(t, s, alice, v14, acv); r != kmip.CancellationResultCanceled {
			t.Fatalf("obey=%v: Cancel answered %s", obey, r)
		}
		mustFail(t, pollUntilDone(t, s, alice, v14, acv), kmip.ResultReasonOperationCanceledByRequester)
		if n := len(st.objs); n != 0 {
			t.Fatalf("obey=%v: %d objects kept after Cancel", obey, n)
		}
		if r := cancelResult(t, s, alice, v14, acv); r != kmip.CancellationResultCanceled {
			t.Fatalf("second Cancel answered %s", r)
		}
	}
}

// An operation that failed is polled as the same failure and cancelled as
// Failed.
func TestAsyncFailureAndCancelFailed(t *testing.T) {
	s, _ := asyncService(t, fakeCrypto{}, AsyncOptions{}, nil)
	sync := sendOne(t, s, alice, v14, aesCreate14(100, ""))
	acv := pendingACV(t, sendAsync(t, s, alice, v14, 0, aesCreate14(100, ""))[0])
	mustFail(t, pollUntilDone(t, s, alice, v14, acv), sync.reason)
	if r := cancelResult(t, s, alice, v14, acv); r != kmip.CancellationResultFailed {
		t.Fatalf("Cancel of a failed operation: %s", r)
	}
}

// A running record whose node stopped beating its lease is Operation
// Failed for Poll and Unable to Cancel for Cancel, never pending forever.
func TestAsyncLeaseLost(t *testing.T) {
	s, st := asyncService(t, fakeCrypto{}, AsyncOptions{Lease: 300 * time.Millisecond}, nil)
	acv := make([]byte, acvLen)
	acv[0] = 7
	rec := asyncRecord{owner: alice.Name, op: kmip.OperationCreate, state: asyncRunning, since: testNow.Add(-time.Hour), lease: testNow.Add(-time.Second)}
	if err := st.PutScratch(context.Background(), asyncKey(alice.Name, acv), rec.encode(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationPoll, acvItem(acv))), kmip.ResultReasonGeneralFailure)
	if r := cancelResult(t, s, alice, v21, acv); r != kmip.CancellationResultUnableToCancel {
		t.Fatalf("Cancel after the lease: %s", r)
	}
	rec.lease = testNow.Add(time.Second)
	st.PutScratch(context.Background(), asyncKey(alice.Name, acv), rec.encode(), time.Now().Add(time.Hour))
	if r := sendOne(t, s, alice, v21, batchItem(kmip.OperationPoll, acvItem(acv))); r.status != kmip.ResultStatusOperationPending {
		t.Fatalf("a live lease polled as %s", r.status)
	}
	// No node takes the Cancel request within a lease: Unable to Cancel,
	// and the request is taken back.
	if r := cancelResult(t, s, alice, v21, acv); r != kmip.CancellationResultUnableToCancel {
		t.Fatalf("Cancel nobody picked up: %s", r)
	}
	if _, err := st.GetScratch(context.Background(), cancelKey(alice.Name, acv)); err == nil {
		t.Fatal("the Cancel request was left behind")
	}
}

// A client at max_async_per_client is answered synchronously.
func TestAsyncQuota(t *testing.T) {
	g := newGated(true)
	s, _ := asyncService(t, g, AsyncOptions{MaxPerClient: 1}, nil)
	acv := pendingACV(t, sendAsync(t, s, alice, v14, 0, aesCreate14(128, ""))[0])
	if it := sendAsync(t, s, alice, v14, 0, batchItem(kmip.OperationLocate))[0]; status(it) != kmip.ResultStatusSuccess {
		t.Fatalf("over the quota: %s, want a synchronous Success", it)
	}
	if it := sendAsync(t, s, bob, v14, 0, batchItem(kmip.OperationLocate))[0]; status(it) != kmip.ResultStatusOperationPending {
		t.Fatalf("another client's quota is its own: %s", it)
	}
	close(g.release)
	pollUntilDone(t, s, alice, v14, acv)
}

// Shutdown cancels what is still running when the drain period ends: its
// writes are reversed and Poll answers Operation Failed.
func TestAsyncDrain(t *testing.T) {
	g := newGated(false)
	s, st := asyncService(t, g, AsyncOptions{}, nil)
	acv := pendingACV(t, sendAsync(t, s, alice, v14, 0, aesCreate14(128, ""))[0])
	<-g.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	time.AfterFunc(200*time.Millisecond, func() { close(g.release) })
	if err := s.DrainAsync(ctx); err != nil {
		t.Fatal(err)
	}
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationPoll, acvItem(acv))), kmip.ResultReasonGeneralFailure)
	if n := len(st.objs); n != 0 {
		t.Fatalf("%d objects kept by an operation shutdown cancelled", n)
	}
}

// The audit trail has the pending answer and then the final result.
func TestAsyncAudit(t *testing.T) {
	aud := &fakeAuditor{}
	s, _ := asyncService(t, fakeCrypto{}, AsyncOptions{}, aud)
	acv := pendingACV(t, sendAsync(t, s, alice, v14, 0, aesCreate14(128, ""))[0])
	id := createdID(t, pollUntilDone(t, s, alice, v14, acv))
	var results []ports.AuditRecord
	for _, r := range aud.take() {
		if r.Event == ports.AuditResult && r.Operation == "Create" {
			results = append(results, r)
		}
	}
	if len(results) != 2 || results[0].Status != kmip.ResultStatusOperationPending.String() ||
		results[1].Status != kmip.ResultStatusSuccess.String() || results[0].Request != results[1].Request ||
		len(results[1].UIDs) != 1 || results[1].UIDs[0] != id {
		t.Fatalf("audit results %+v, want the pending answer then the success naming %s", results, id)
	}
}

// A pending answer whose result record the trail refuses is answered
// General Failure, as a synchronous one; the work it started keeps nothing.
func TestAsyncAuditRefused(t *testing.T) {
	aud := &fakeAuditor{fail: func(r ports.AuditRecord) bool { return r.Status == kmip.ResultStatusOperationPending.String() }}
	s, st := asyncService(t, fakeCrypto{}, AsyncOptions{}, aud)
	if it := sendAsync(t, s, alice, v14, 0, aesCreate14(128, ""))[0]; status(it) != kmip.ResultStatusOperationFailed {
		t.Fatalf("refused pending answer: %s", it)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.DrainAsync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(st.objs); n != 0 {
		t.Fatalf("%d objects kept by an operation whose pending answer was refused", n)
	}
}
