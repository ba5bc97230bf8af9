package app

import (
	"context"
	"errors"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

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
	acv, err := codec.DecodeAsyncCorrelation(c.payload)
	if err != nil {
		return nil, err
	}
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
			kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationPending)),
			kmip.Bytes(kmip.TagAsynchronousCorrelationValue, acv))}
	}
	item, err := kmip.ParseTTLV(rec.item)
	if err != nil {
		return nil, errors.Join(errAsyncStore, err)
	}
	return nil, &asyncAnswer{item: item, op: rec.op}
}
