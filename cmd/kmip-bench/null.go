package main

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// nullHandler is the null responder's ports.MessageHandler: behind the same
// kmiptls.Server (TLS, framing, decoding, encoding) as kmipd, it answers every
// request with a success for each batch item and does no other work (no
// storage, no crypto, no access checks), so that it measures the ceiling the
// transport sets.
type nullHandler struct{}

// HandleMessage answers each batch item with Result Status Success, its
// Operation and Unique Batch Item ID echoed and a payload holding the Unique
// Identifier "1".
func (nullHandler) HandleMessage(_ context.Context, req *kmip.Item) *kmip.Item {
	pv := req.Path(kmip.TagRequestHeader, kmip.TagProtocolVersion)
	if pv == nil {
		pv = kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, 1), kmip.Int(kmip.TagProtocolVersionMinor, 4))
	}
	items := req.ChildrenOf(kmip.TagBatchItem)
	resp := kmip.Struct(kmip.TagResponseMessage, kmip.Struct(kmip.TagResponseHeader, pv,
		kmip.DateTime(kmip.TagTimeStamp, time.Now().Truncate(time.Second)),
		kmip.Int(kmip.TagBatchCount, int32(len(items)))))
	for _, bi := range items {
		out := kmip.Struct(kmip.TagBatchItem)
		if op := bi.Child(kmip.TagOperation); op != nil {
			out.Add(op)
		}
		if id := bi.Child(kmip.TagUniqueBatchItemID); id != nil {
			out.Add(id)
		}
		out.Add(kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusSuccess)),
			kmip.Struct(kmip.TagResponsePayload, kmip.Text(kmip.TagUniqueIdentifier, "1")))
		resp.Add(out)
	}
	return resp
}

// HandleUndecodable answers an undecodable message with a failure.
func (nullHandler) HandleUndecodable(context.Context, error) *kmip.Item {
	return kmip.Struct(kmip.TagResponseMessage, kmip.Struct(kmip.TagResponseHeader,
		kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, 1), kmip.Int(kmip.TagProtocolVersionMinor, 4)),
		kmip.DateTime(kmip.TagTimeStamp, time.Now().Truncate(time.Second)),
		kmip.Int(kmip.TagBatchCount, 1)),
		kmip.Struct(kmip.TagBatchItem,
			kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationFailed)),
			kmip.Enum(kmip.TagResultReason, uint32(kmip.ResultReasonInvalidMessage))))
}
