package app

import (
	"context"
	"errors"
	"runtime/debug"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// work runs the item on the detached context ctx and hands its answer to
// the waiting request, or, once the client was answered Operation Pending,
// stores it for Poll. While it runs, watch beats the record's lease and
// cancels ctx on a Cancel request or at shutdown. It works on its own
// copies of the batch's identifiers and undo log (batch, l), which the
// request (reqBatch, reqUndo) gets back when it is answered synchronously.
func (j *asyncJob) work(ctx context.Context, cancel context.CancelFunc, reqBatch *batchIDs, reqUndo *undoLog, batch *batchIDs, l *undoLog) {
	defer j.s.async.wg.Done()
	defer j.recoverPanic()
	defer cancel()
	item, failed := j.runWatched(ctx, cancel, batch, l)
	j.mu.Lock()
	if !j.pending {
		j.result, j.failed = item, failed
		*reqBatch = *batch
		reqUndo.absorb(l)
		close(j.done)
		j.mu.Unlock()
		return
	}
	j.mu.Unlock()
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), asyncFinishTime)
	defer fcancel()
	j.finish(fctx, item, batch, l)
}

// runWatched runs the item while watch runs beside it; watch has ended
// when it returns, even on a panic, so that no heartbeat overwrites the
// outcome or keeps a dead operation pending.
func (j *asyncJob) runWatched(ctx context.Context, cancel context.CancelFunc, batch *batchIDs, l *undoLog) (*kmip.Item, bool) {
	stopWatch, watchEnded := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watchEnded)
		j.watch(ctx, cancel, stopWatch)
	}()
	defer func() {
		close(stopWatch)
		<-watchEnded
	}()
	return j.s.runItem(ctx, j.m.v, j.m.who, j.bi, batch, l)
}

// recoverPanic logs a panic of the worker; a request still waiting is
// answered General Failure, a pending one is left to its lease, after
// which Poll answers Operation Failed.
func (j *asyncJob) recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	j.s.cfg.Log.Error().Interface("panic", r).Str("stack", string(debug.Stack())).Msg("panic in an asynchronous operation")
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.pending && j.result == nil {
		j.result, j.failed = j.failedItem(kmip.ResultReasonGeneralFailure, "internal error"), true
		close(j.done)
	}
}

// watch, every asyncTick until stop is closed, and while the item is
// pending: takes a Cancel request for it (so that exactly one of the
// worker and the Cancel decides), notices shutdown, and refreshes the
// record's lease every Lease/3.
func (j *asyncJob) watch(ctx context.Context, cancel context.CancelFunc, stop <-chan struct{}) {
	t := time.NewTicker(asyncTick)
	defer t.Stop()
	var beat time.Time
	for {
		select {
		case <-stop:
			return
		case <-j.s.async.stopping:
			j.stopped.Store(true)
			cancel()
			return
		case <-t.C:
		}
		j.mu.Lock()
		pending := j.pending
		j.mu.Unlock()
		if !pending || j.canceled.Load() {
			continue
		}
		if j.takeCancel(ctx) {
			j.canceled.Store(true)
			cancel()
			continue
		}
		if now := time.Now(); now.Sub(beat) >= j.s.cfg.Async.Lease/3 {
			beat = now
			if err := j.s.putAsync(ctx, j.m.who.Name, j.acv, j.record(asyncRunning, nil)); err != nil && ctx.Err() == nil {
				j.s.cfg.Log.Warn().Err(err).Str("client", j.m.who.Name).Str("op", j.op.String()).Msg("asynchronous operation: lease not refreshed")
			}
		}
	}
}

// takeCancel claims a Cancel request for the job, if one is waiting.
func (j *asyncJob) takeCancel(ctx context.Context) bool {
	ss, err := j.s.scratch()
	if err != nil {
		return false
	}
	_, err = ss.TakeScratch(ctx, cancelKey(j.m.who.Name, j.acv))
	return err == nil
}

// finish settles a pending item's outcome: cancelled (by a Cancel taken
// now or earlier, or by shutdown) its writes are reversed; otherwise its
// result is recorded in the audit trail (reversed, and answered General
// Failure, when the trail refuses it, as for a synchronous item). The
// outcome is then stored for Poll; when that fails the writes are reversed
// too, since no Poll could report them, and the record's lease runs out.
func (j *asyncJob) finish(ctx context.Context, item *kmip.Item, batch *batchIDs, l *undoLog) {
	s, who := j.s, j.m.who
	st := asyncDone
	if j.gate != nil {
		<-j.gate.done
	}
	switch {
	case j.gate != nil && j.gate.refused:
		s.revertItem(ctx, who, l, 0)
		item, st = auditRefused(j.bi), asyncCanceled
	case j.stopped.Load():
		s.revertItem(ctx, who, l, 0)
		item, st = j.failedItem(kmip.ResultReasonGeneralFailure, "the server shut down before the operation finished; its writes were reversed"), asyncCanceled
	case j.canceled.Load() || j.takeCancel(ctx):
		s.revertItem(ctx, who, l, 0)
		item, st = j.failedItem(kmip.ResultReasonOperationCanceledByRequester, "canceled by a Cancel request; its writes were reversed"), asyncCanceled
	}
	if s.cfg.Auditor != nil {
		rec := j.m.record(s, ports.AuditResult, j.i)
		describeRequest(&rec, j.m.v, j.bi, batch)
		describeResult(&rec, item)
		if s.audit(ctx, rec) != nil && st == asyncDone {
			s.revertItem(ctx, who, l, 0)
			item = auditRefused(j.bi)
		}
	}
	enc, err := kmip.AppendTTLV(nil, item)
	if err == nil {
		err = s.putAsync(ctx, who.Name, j.acv, j.record(st, enc))
	}
	if err != nil {
		if st == asyncDone {
			s.revertItem(ctx, who, l, 0)
		}
		s.cfg.Log.Error().Err(err).Str("client", who.Name).Str("op", j.op.String()).
			Msg("asynchronous operation: outcome not stored; its writes were reversed and Poll will report it failed")
		return
	}
	s.cfg.Log.Debug().Str("client", who.Name).Str("op", j.op.String()).Msg("asynchronous operation finished")
}

// failedItem is an Operation Failed answer to the job's request item.
func (j *asyncJob) failedItem(reason kmip.ResultReason, msg string) *kmip.Item {
	return itemHead(j.bi).Add(
		kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationFailed)),
		kmip.Enum(kmip.TagResultReason, uint32(reason)),
		kmip.Text(kmip.TagResultMessage, msg))
}

// errAsyncStore is a scratch record that cannot be read back.
var errAsyncStore = errors.New("asynchronous operation record is corrupt")

// absorb takes over the writes o logged, so that reversing l reverses
// them as o would, exactly when l is exact (the steps' closures read o).
func (l *undoLog) absorb(o *undoLog) {
	for _, st := range o.steps {
		run := st.run
		st.run = func(ctx context.Context, rev uint64) error {
			o.exact = l.exact
			defer func() { o.exact = false }()
			return run(ctx, rev)
		}
		l.steps = append(l.steps, st)
	}
	for id, r := range o.revs { // shared: o's closures update them
		if l.revs == nil {
			l.revs = map[string]*batchRevs{}
		}
		l.revs[id] = r
	}
}
