package codec

import "github.com/kmipd/kmipd/domain/kmip"

// DecodeUsageAllocation reads the Usage Limits Count a Get Usage
// Allocation request (KMIP 1.4 §4.18, KMIP 2.1 §6.1.24) asks for: a
// positive Long Integer, without which the message is invalid (1.4
// §11.19).
func DecodeUsageAllocation(payload *kmip.Item) (int64, error) {
	it := payload.Child(kmip.TagUsageLimitsCount)
	if it == nil {
		return 0, fail(Incomplete, specName(kmip.TagUsageLimitsCount), "is required")
	}
	n, ok := it.AsLong()
	if !ok || n <= 0 {
		return 0, fail(Malformed, specName(kmip.TagUsageLimitsCount), "must be a positive Long Integer")
	}
	return n, nil
}

// DecodeRNGRetrieve reads the Data Length an RNG Retrieve request (KMIP
// 1.4 §4.35, KMIP 2.1 §6.1.49) asks for: a positive Integer (app bounds
// it).
func DecodeRNGRetrieve(payload *kmip.Item) (int32, error) {
	it := payload.Child(kmip.TagDataLength)
	if it == nil {
		return 0, fail(Missing, specName(kmip.TagDataLength), "is required")
	}
	n, ok := it.AsInt()
	if !ok || n <= 0 {
		return 0, fail(Malformed, specName(kmip.TagDataLength), "must be a positive Integer")
	}
	return n, nil
}

// InteropRequest is an Interop request (KMIP 2.1 §6.1.26): the Interop
// Function and the Interop Identifier (empty when absent or not a Text
// String).
type InteropRequest struct {
	Function   kmip.InteropFunction
	Identifier string
}

// DecodeInterop reads an Interop request, whose Interop Function is
// required, an Enumeration.
func DecodeInterop(payload *kmip.Item) (InteropRequest, error) {
	f, ok := payload.Child(kmip.TagInteropFunction).AsEnum()
	if !ok {
		return InteropRequest{}, fail(Missing, specName(kmip.TagInteropFunction), "is required, an Enumeration")
	}
	id, _ := payload.Child(kmip.TagInteropIdentifier).AsText()
	return InteropRequest{Function: kmip.InteropFunction(f), Identifier: id}, nil
}

// DecodeLog reads a Log request's Log Message (KMIP 2.1 §6.1.30):
// required, a Text String.
func DecodeLog(payload *kmip.Item) (string, error) {
	m, ok := payload.Child(kmip.TagLogMessage).AsText()
	if !ok {
		return "", fail(Missing, specName(kmip.TagLogMessage), "is required, a Text String")
	}
	return m, nil
}

// DecodeAsyncCorrelation reads the Asynchronous Correlation Value a Poll
// (KMIP 1.4 §4.27) or Cancel (§4.28) request names: required, a Byte
// String.
func DecodeAsyncCorrelation(payload *kmip.Item) ([]byte, error) {
	it := payload.Child(kmip.TagAsynchronousCorrelationValue)
	if it == nil {
		return nil, fail(Missing, specName(kmip.TagAsynchronousCorrelationValue), "is required")
	}
	b, ok := it.AsBytes()
	if !ok {
		return nil, fail(Malformed, specName(kmip.TagAsynchronousCorrelationValue), "must be a Byte String")
	}
	return b, nil
}

// DecodeEndpointRole reads a Set Endpoint Role request's Endpoint Role
// (KMIP 2.1 §6.1.54): required, an Enumeration (app decides which roles it
// takes).
func DecodeEndpointRole(payload *kmip.Item) (kmip.EndpointRole, error) {
	it := payload.Child(kmip.TagEndpointRole)
	if it == nil {
		return 0, fail(Missing, specName(kmip.TagEndpointRole), "is required")
	}
	role, ok := it.AsEnum()
	if !ok {
		return 0, fail(Malformed, specName(kmip.TagEndpointRole), "must be an Enumeration")
	}
	return kmip.EndpointRole(role), nil
}
