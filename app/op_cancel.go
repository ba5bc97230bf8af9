package app

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// cancel implements Cancel (KMIP 1.4 §4.27, KMIP 2.1 §6.1.5). A finished
// operation answers Completed or Failed (Canceled if it was cancelled); an
// unknown value, or another client's, Unavailable. For a running one the
// Cancel request is left in the scratch space for the node running it,
// which takes it within asyncTick, cancels the work and reverses its
// writes; Cancel waits for the outcome. If the node did not take it within
// a lease, Cancel takes it back and answers Unable to Cancel, as for a
// node that stopped.
func (s *Service) cancel(ctx context.Context, c *call) (*kmip.Item, error) {
	acv, err := codec.DecodeAsyncCorrelation(c.payload)
	if err != nil {
		return nil, err
	}
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
