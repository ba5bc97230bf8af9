package app

import (
	"context"

	"github.com/kmipd/kmipd/domain/kmip"
)

// kmipd answers every request synchronously (KMIP 1.4 §6.7 lets a server
// ignore the Asynchronous Indicator), so no operation is ever pending and
// no Asynchronous Correlation Value it is asked about can be known.

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

// poll implements Poll (KMIP 1.4 §4.28, KMIP 2.1 §6.1.37): "No outstanding
// operation with the specified Asynchronous Correlation Value exists" is
// Item Not Found in KMIP 1.x (1.4 §11.29), Invalid Asynchronous Correlation
// Value in KMIP 2.x (2.1 §6.1.38.1).
func (s *Service) poll(ctx context.Context, c *call) (*kmip.Item, error) {
	if _, err := correlation(c); err != nil {
		return nil, err
	}
	return nil, kindErr(errKindUnknownAsyncCorrelation, "no outstanding operation has this Asynchronous Correlation Value")
}

// cancel implements Cancel (KMIP 1.4 §4.27, KMIP 2.1 §6.1.4): the value
// matches no pending or completed asynchronous operation, so the
// Cancellation Result is Unavailable.
func (s *Service) cancel(ctx context.Context, c *call) (*kmip.Item, error) {
	acv, err := correlation(c)
	if err != nil {
		return nil, err
	}
	return kmip.Struct(kmip.TagResponsePayload,
		acv.Clone(),
		kmip.Enum(kmip.TagCancellationResult, uint32(kmip.CancellationResultUnavailable))), nil
}
