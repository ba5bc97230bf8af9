package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Asynchronous operations (KMIP 1.4 §6.7-6.9, §4.27-4.28; KMIP 2.1 §6.1.5,
// §6.1.38, §9.1-9.2, §11.3). When the request header's Asynchronous
// Indicator allows it (1.x: True; 2.x: Optional or Mandatory), the last
// batch item of a batch without Batch Error Continuation Option Undo, if
// its operation is one the table marks async (opSpec.async), may be
// answered Operation Pending with a fresh 16-byte random Asynchronous
// Correlation Value: when it has not finished within AsyncOptions.After
// (Mandatory: at once). Only the last item, because the batch is processed
// in order and a later item may use its result (ID Placeholder, KMIP 2.1
// Batch Order Option); not with Undo, because the batch's undo could not
// wait for it. Other items, and every item when the store keeps no
// scratch values or the client's quota is full, are answered
// synchronously, which the specification lets the server decide (KMIP 1.4
// §6.8; under 2.x Mandatory it is a documented deviation: kmipd does not
// refuse what it can answer at once).
//
// The work goes on detached from the connection (same identity, groups
// and policy, the same request deadline) and its state lives in the
// store's scratch space (ports.ScratchStore, sealed with the store), so
// that Poll and Cancel on any node sharing the store answer it. The record
// is keyed by its owner's identity: another client's Poll finds nothing,
// as for an unknown value. While the work runs, the node refreshes the
// record's lease; Poll of a record whose lease ran out answers Operation
// Failed (the node stopped), never pending forever. The outcome, the whole
// response batch item, is kept until AsyncOptions.ResultTTL, so that a
// repeated Poll (a lost answer) and a late Cancel get the same answer.

// AsyncOptions configure asynchronous operations; the zero value answers
// eligible items pending at once and takes the defaults below.
type AsyncOptions struct {
	// Off answers every request synchronously; Query then reports no
	// Asynchronous Capability.
	Off bool
	// After is how long an eligible item runs before it is answered
	// Operation Pending (0: at once).
	After time.Duration
	// ResultTTL is how long a record is kept after its last write
	// (default 10m).
	ResultTTL time.Duration
	// Lease is how long a running record stays pending without a
	// heartbeat of its node (default 15s; the node beats every Lease/3).
	Lease time.Duration
	// MaxPerClient bounds one client's records, pending or kept, on every
	// node sharing the store (default 64); a client at the bound is
	// answered synchronously.
	MaxPerClient int
}

func (o AsyncOptions) withDefaults() AsyncOptions {
	if o.ResultTTL <= 0 {
		o.ResultTTL = 10 * time.Minute
	}
	if o.Lease <= 0 {
		o.Lease = 15 * time.Second
	}
	if o.MaxPerClient <= 0 {
		o.MaxPerClient = 64
	}
	return o
}

const (
	// acvLen is the length of an Asynchronous Correlation Value.
	acvLen = 16
	// asyncTick is how often a running operation looks for a Cancel and
	// for shutdown; Cancel checks the record as often.
	asyncTick = 100 * time.Millisecond
	// asyncFinishTime bounds storing an outcome and reversing writes after
	// the operation's own context ended.
	asyncFinishTime = 10 * time.Second
	// asyncDrainGrace is how long shutdown waits for cancelled operations
	// to reverse their writes and store their outcome.
	asyncDrainGrace = 5 * time.Second
)

// asyncMode is what the request header's Asynchronous Indicator allows.
type asyncMode uint8

const (
	asyncProhibited asyncMode = iota
	asyncOptional
	asyncMandatory
)

// asyncModeOf reads the Asynchronous Indicator: a Boolean in KMIP 1.x
// (§6.7), an Enumeration in KMIP 2.x (§9.2, §11.3); absent, or of another
// type, it is Prohibited (1.x: False).
func asyncModeOf(hdr *kmip.Item) asyncMode {
	it := hdr.Child(kmip.TagAsynchronousIndicator)
	if b, ok := it.AsBool(); ok && b {
		return asyncOptional
	}
	switch e, _ := it.AsEnum(); kmip.AsynchronousIndicator(e) {
	case kmip.AsynchronousIndicatorMandatory:
		return asyncMandatory
	case kmip.AsynchronousIndicatorOptional:
		return asyncOptional
	}
	return asyncProhibited
}

// asyncWorkers follows the operations running detached on this node.
type asyncWorkers struct {
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopping chan struct{} // closed when shutdown cancels the running operations
}

func newAsyncWorkers() asyncWorkers { return asyncWorkers{stopping: make(chan struct{})} }

// canAsync reports whether items may go pending: the Asynchronous
// Capability of Query (KMIP 1.4 §2.1.21, KMIP 2.1 §7.5).
func (s *Service) canAsync() bool {
	_, ok := s.cfg.Store.(ports.ScratchStore)
	return ok && !s.cfg.Async.Off
}

type pendingCtxKey struct{}

// itemContext marks the context of batch item i when it may go pending.
func (s *Service) itemContext(ctx context.Context, b batchRequest, i int) context.Context {
	if b.async == asyncProhibited || i != len(b.items)-1 || b.onError == kmip.BatchErrorContinuationOptionUndo || !s.canAsync() {
		return ctx
	}
	return context.WithValue(ctx, pendingCtxKey{}, b.async)
}

// DrainAsync waits for the operations running detached on this node until
// ctx ends, then cancels those left: each reverses its writes and stores
// Operation Failed as its outcome, so that no write is kept that no Poll
// can report. It returns an error when some did not end in time.
func (s *Service) DrainAsync(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.async.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.async.stopOnce.Do(func() { close(s.async.stopping) })
	select {
	case <-done:
		return nil
	case <-time.After(asyncDrainGrace):
		return errors.New("asynchronous operations still running after shutdown cancelled them")
	}
}

// Scratch keys: a client's records under its own prefix, which its quota
// counts; Cancel requests beside them.
const (
	asyncPrefix  = "async/"
	cancelPrefix = "async-cancel/"
)

func ownerAsync(owner string) string { return asyncPrefix + hex.EncodeToString([]byte(owner)) + "/" }

func asyncKey(owner string, acv []byte) string { return ownerAsync(owner) + hex.EncodeToString(acv) }

func cancelKey(owner string, acv []byte) string {
	return cancelPrefix + hex.EncodeToString([]byte(owner)) + "/" + hex.EncodeToString(acv)
}

// auditGate is opened once the result record of an Operation Pending
// answer was written, or refused; the final record waits for it.
type auditGate struct {
	done    chan struct{}
	refused bool // the client got General Failure, never the value
}

// pendingAudited opens the gate of an item answered Operation Pending.
func (m *msgAudit) pendingAudited(refused bool) {
	if m.gate != nil {
		m.gate.refused = refused
		close(m.gate.done)
		m.gate = nil
	}
}

// asyncJob is one batch item that may go pending.
type asyncJob struct {
	s     *Service
	m     *msgAudit
	i     int
	bi    *kmip.Item
	op    kmip.Operation
	acv   []byte
	since time.Time
	gate  *auditGate // when auditing
	// canceled is set when the worker took a Cancel request; stopped when
	// shutdown cancelled it.
	canceled, stopped atomic.Bool

	mu      sync.Mutex
	pending bool          // the client was answered Operation Pending
	done    chan struct{} // closed when the item finished before that
	result  *kmip.Item
	failed  bool
}

// runItemMaybePending runs batch item i, or answers it Operation Pending
// when itemContext allowed it and it takes longer than AsyncOptions.After.
func (s *Service) runItemMaybePending(ctx context.Context, m *msgAudit, i int, bi *kmip.Item, batch *batchIDs, l *undoLog) (*kmip.Item, bool) {
	mode, _ := ctx.Value(pendingCtxKey{}).(asyncMode)
	opv, _ := bi.Child(kmip.TagOperation).AsEnum()
	op := kmip.Operation(opv)
	acv := make([]byte, acvLen)
	if _, ok := s.route(op, m.v); mode == asyncProhibited || !ok || !operations[op].async {
		return s.runItem(ctx, m.v, m.who, bi, batch, l)
	}
	if _, err := rand.Read(acv); err != nil {
		return s.runItem(ctx, m.v, m.who, bi, batch, l)
	}
	if l == nil {
		l = &undoLog{} // so that a Cancel can reverse the item's writes
	}
	j := &asyncJob{s: s, m: m, i: i, bi: bi, op: op, acv: acv, since: s.cfg.Clock.Now(), done: make(chan struct{})}
	if s.cfg.Auditor != nil {
		j.gate = &auditGate{done: make(chan struct{})}
	}
	wctx, stop := detach(ctx)
	// The worker's own copies: the request may reset its own (audit.go).
	wb, wl := &batchIDs{placeholder: batch.placeholder, byOp: maps.Clone(batch.byOp)}, &undoLog{item: l.item}
	after := s.cfg.Async.After
	if mode == asyncMandatory {
		after = 0
	}
	if after <= 0 && j.goPending(ctx) {
		s.async.wg.Add(1)
		go j.work(wctx, stop, batch, l, wb, wl)
		return j.pendingItem(), false
	}
	s.async.wg.Add(1)
	go j.work(wctx, stop, batch, l, wb, wl)
	if after > 0 {
		t := time.NewTimer(after)
		defer t.Stop()
		select {
		case <-j.done:
			return j.result, j.failed
		case <-t.C:
		}
		if j.goPending(ctx) {
			return j.pendingItem(), false
		}
	}
	<-j.done
	return j.result, j.failed
}

// detach returns a context with ctx's values (the client's identity) and
// deadline but not its cancellation: the work outlives the connection.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	base := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(base, dl)
	}
	return context.WithCancel(base)
}

// goPending stores the running record unless the item has finished, and
// reports whether the client is to be answered Operation Pending. A full
// quota or a store error leaves the item synchronous.
func (j *asyncJob) goPending(ctx context.Context) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.result != nil {
		return false
	}
	err := j.s.putAsync(ctx, j.m.who.Name, j.acv, j.record(asyncRunning, nil))
	if err != nil {
		ev := j.s.cfg.Log.Warn()
		if errors.Is(err, ports.ErrQuotaExceeded) {
			ev = j.s.cfg.Log.Info()
		}
		ev.Err(err).Str("client", j.m.who.Name).Str("op", j.op.String()).Msg("answering synchronously: the asynchronous record could not be stored")
		return false
	}
	j.pending = true
	j.m.gate = j.gate
	return true
}

// record is the job's scratch record in state st.
func (j *asyncJob) record(st asyncState, item []byte) asyncRecord {
	return asyncRecord{owner: j.m.who.Name, op: j.op, state: st, since: j.since,
		lease: j.s.cfg.Clock.Now().Add(j.s.cfg.Async.Lease), item: item}
}

// putAsync stores rec under owner's prefix, within owner's quota.
func (s *Service) putAsync(ctx context.Context, owner string, acv []byte, rec asyncRecord) error {
	ss, err := s.scratch()
	if err != nil {
		return err
	}
	q := ports.ScratchQuota{Prefix: ownerAsync(owner), MaxValues: s.cfg.Async.MaxPerClient}
	// The store purges by its own clock; give it the same span.
	return ss.PutScratch(ctx, asyncKey(owner, acv), rec.encode(), time.Now().Add(s.cfg.Async.ResultTTL), q)
}

// pendingItem is the Operation Pending answer (KMIP 1.4 §7.3 Table 285: the
// Asynchronous Correlation Value is required, a Result Message is not
// allowed; like the pending answer of Poll, it has no payload).
func (j *asyncJob) pendingItem() *kmip.Item {
	return itemHead(j.bi).Add(
		kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationPending)),
		kmip.Bytes(kmip.TagAsynchronousCorrelationValue, append([]byte{}, j.acv...)))
}

// itemHead starts a response batch item with the Operation and Unique
// Batch Item ID of request item bi.
func itemHead(bi *kmip.Item) *kmip.Item {
	resp := kmip.Struct(kmip.TagBatchItem)
	for _, tag := range []kmip.Tag{kmip.TagOperation, kmip.TagUniqueBatchItemID} {
		if it := bi.Child(tag); it != nil {
			resp.Add(it.Clone())
		}
	}
	return resp
}
