package app

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Poll and Cancel of asynchronous operations (app/async.go), answered from
// the record in the store's scratch space, so on any node sharing it.

// asyncState is where an asynchronous operation stands.
type asyncState byte

const (
	asyncRunning  asyncState = 1 // a node works on it and beats its lease
	asyncDone     asyncState = 2 // item holds its answer
	asyncCanceled asyncState = 3 // cancelled (Cancel, shutdown); item holds the failure, its writes reversed
)

const asyncRecordVersion = 1

// asyncRecord is the scratch record of one asynchronous operation.
type asyncRecord struct {
	owner string
	op    kmip.Operation
	state asyncState
	since time.Time // when it was submitted
	lease time.Time // while running: pending until then, by the Service's clock
	item  []byte    // done or cancelled: the TTLV of its response batch item
}

func (r asyncRecord) encode() []byte {
	b := []byte{asyncRecordVersion}
	b = binary.AppendUvarint(b, uint64(len(r.owner)))
	b = append(b, r.owner...)
	b = binary.AppendUvarint(b, uint64(r.op))
	b = append(b, byte(r.state))
	b = binary.BigEndian.AppendUint64(b, uint64(r.since.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(r.lease.UnixNano()))
	return append(b, r.item...)
}

// decodeAsync parses a record made by encode; ok is false for anything else.
func decodeAsync(b []byte) (r asyncRecord, ok bool) {
	if len(b) < 1 || b[0] != asyncRecordVersion {
		return r, false
	}
	rest := b[1:]
	l, n := binary.Uvarint(rest)
	if n <= 0 || l > uint64(len(rest)-n) {
		return r, false
	}
	r.owner, rest = string(rest[n:n+int(l)]), rest[n+int(l):]
	o, n := binary.Uvarint(rest)
	if n <= 0 || o > 0xFFFFFFFF || len(rest)-n < 17 {
		return r, false
	}
	r.op, rest = kmip.Operation(o), rest[n:]
	r.state = asyncState(rest[0])
	r.since = time.Unix(0, int64(binary.BigEndian.Uint64(rest[1:9])))
	r.lease = time.Unix(0, int64(binary.BigEndian.Uint64(rest[9:17])))
	r.item = bytes.Clone(rest[17:])
	switch r.state {
	case asyncRunning:
		return r, len(r.item) == 0
	case asyncDone, asyncCanceled:
		return r, len(r.item) > 0
	}
	return r, false
}

// correlation reads the request's Asynchronous Correlation Value.
func correlation(c *call) (*kmip.Item, error) {
	it := c.payload.Child(kmip.TagAsynchronousCorrelationValue)
	if it == nil {
		return nil, missingData("Asynchronous Correlation Value is required")
	}
	if _, ok := it.AsBytes(); !ok {
		return nil, invalidField("Asynchronous Correlation Value must be a Byte String")
	}
	return it, nil
}

// loadAsync returns owner's record with value acv; found is false when
// there is none (unknown, expired, another client's), when the store keeps
// no scratch values, or when it cannot be read back.
func (s *Service) loadAsync(ctx context.Context, owner string, acv []byte) (rec asyncRecord, found bool, err error) {
	ss, ok := s.cfg.Store.(ports.ScratchStore)
	if !ok || len(acv) != acvLen {
		return rec, false, nil
	}
	b, err := ss.GetScratch(ctx, asyncKey(owner, acv))
	if errors.Is(err, ports.ErrNotFound) {
		return rec, false, nil
	} else if err != nil {
		return rec, false, err
	}
	rec, ok = decodeAsync(b)
	if !ok || rec.owner != owner {
		s.cfg.Log.Error().Err(errAsyncStore).Str("client", owner).Msg("asynchronous operation record ignored")
		return rec, false, nil
	}
	return rec, true, nil
}

// leaseLost reports whether a running record's node stopped beating it.
func (s *Service) leaseLost(rec asyncRecord) bool {
	return rec.state == asyncRunning && s.cfg.Clock.Now().After(rec.lease)
}

// asyncAnswer is Poll's answer: the batch item of the polled operation
// (Result Status, Reason, Message, Asynchronous Correlation Value and
// payload), which runItem puts under the Poll item's Unique Batch Item ID.
// op is the polled operation once it has finished, whose answer then names
// it, "identical to the response that would have been sent if the operation
// had completed synchronously" (KMIP 1.4 §4.28; the OASIS cases TC-101-11
// and TC-ASYNC-1-21 answer a finished Poll under Archive, Create, ...);
// zero while it is pending, which is answered under Poll.
type asyncAnswer struct {
	item *kmip.Item
	op   kmip.Operation
}

func (a *asyncAnswer) Error() string { return "asynchronous answer" }

// fill completes resp with the answer; failed reports an Operation Failed.
func (a *asyncAnswer) fill(resp *kmip.Item) (*kmip.Item, bool) {
	if op := resp.Child(kmip.TagOperation); op != nil && a.op != 0 {
		op.Value = uint32(a.op)
	}
	for _, c := range a.item.Children() {
		if c.Tag != kmip.TagOperation && c.Tag != kmip.TagUniqueBatchItemID {
			resp.Add(c.Clone())
		}
	}
	st, _ := resp.Child(kmip.TagResultStatus).AsEnum()
	return resp, kmip.ResultStatus(st) == kmip.ResultStatusOperationFailed
}

// poll implements Poll (KMIP 1.4 §4.28, KMIP 2.1 §6.1.38): Operation
// Pending with no payload while the operation runs; once it has finished
// "the response SHALL be identical to the response that would have been
// sent if the operation had completed synchronously", as often as it is
// polled until the record expires. A running record whose lease ran out
// is Operation Failed, General Failure. "No outstanding operation with the
// specified Asynchronous Correlation Value exists" is Item Not Found in
// KMIP 1.x (1.4 §11.29), Invalid Asynchronous Correlation Value in KMIP 2.x
// (2.1 §6.1.38.1); another client's value gets that answer too.
func (s *Service) poll(ctx context.Context, c *call) (*kmip.Item, error) {
	acvItem, err := correlation(c)
	if err != nil {
		return nil, err
	}
	acv, _ := acvItem.AsBytes()
	rec, found, err := s.loadAsync(ctx, c.who.Name, acv)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, kindErr(errKindUnknownAsyncCorrelation, "no outstanding operation has this Asynchronous Correlation Value")
	case s.leaseLost(rec):
		return nil, errorf(kmip.ResultReasonGeneralFailure, "the node running the operation stopped before it finished; its writes may or may not stand")
	case rec.state == asyncRunning:
		return nil, &asyncAnswer{item: kmip.Struct(kmip.TagBatchItem,
			kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationPending)), acvItem.Clone())}
	}
	item, err := kmip.ParseTTLV(rec.item)
	if err != nil {
		return nil, errors.Join(errAsyncStore, err)
	}
	return nil, &asyncAnswer{item: item, op: rec.op}
}

// cancel implements Cancel (KMIP 1.4 §4.27, KMIP 2.1 §6.1.5). A finished
// operation answers Completed or Failed (Canceled if it was cancelled); an
// unknown value, or another client's, Unavailable. For a running one the
// Cancel request is left in the scratch space for the node running it,
// which takes it within asyncTick, cancels the work and reverses its
// writes; Cancel waits for the outcome. If the node did not take it within
// a lease, Cancel takes it back and answers Unable to Cancel, as for a
// node that stopped.
func (s *Service) cancel(ctx context.Context, c *call) (*kmip.Item, error) {
	acvItem, err := correlation(c)
	if err != nil {
		return nil, err
	}
	acv, _ := acvItem.AsBytes()
	res, err := s.cancelAsync(ctx, c.who.Name, acv)
	if err != nil {
		return nil, err
	}
	return codec.CancelResponse(acv, res), nil
}

// cancelAsync asks for owner's operation acv to be cancelled and returns
// the Cancellation Result.
func (s *Service) cancelAsync(ctx context.Context, owner string, acv []byte) (kmip.CancellationResult, error) {
	rec, found, err := s.loadAsync(ctx, owner, acv)
	if err != nil || !found {
		return kmip.CancellationResultUnavailable, err
	}
	if rec.state != asyncRunning {
		return s.settled(rec), nil
	}
	if s.leaseLost(rec) {
		return kmip.CancellationResultUnableToCancel, nil
	}
	ss, _ := s.scratch() // loadAsync found a record: the store keeps scratch values
	key := cancelKey(owner, acv)
	if err := ss.PutScratch(ctx, key, []byte{1}, time.Now().Add(s.cfg.Async.ResultTTL)); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(s.cfg.Async.Lease)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(asyncTick)
		rec, found, err = s.loadAsync(ctx, owner, acv)
		if err != nil || !found || rec.state != asyncRunning || s.leaseLost(rec) {
			break
		}
	}
	// Exactly one of this Cancel and the worker takes the request.
	_, takeErr := ss.TakeScratch(context.WithoutCancel(ctx), key)
	switch {
	case found && rec.state != asyncRunning:
		return s.settled(rec), nil
	case takeErr == nil || !found || s.leaseLost(rec):
		return kmip.CancellationResultUnableToCancel, nil // the node never took it, or stopped
	}
	return kmip.CancellationResultCanceled, nil // the node took it and is reversing the writes
}

// settled is the Cancellation Result for a finished operation: Canceled
// when a Cancel stopped it.
func (s *Service) settled(rec asyncRecord) kmip.CancellationResult {
	item, err := kmip.ParseTTLV(rec.item)
	if err != nil {
		return kmip.CancellationResultFailed
	}
	st, _ := item.Child(kmip.TagResultStatus).AsEnum()
	reason, _ := item.Child(kmip.TagResultReason).AsEnum()
	switch {
	case kmip.ResultStatus(st) == kmip.ResultStatusSuccess:
		return kmip.CancellationResultCompleted
	case rec.state == asyncCanceled && kmip.ResultReason(reason) == kmip.ResultReasonOperationCanceledByRequester:
		return kmip.CancellationResultCanceled
	}
	return kmip.CancellationResultFailed
}
