package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestPollCancelPutNotify: Poll and Cancel of a value no operation has
// (KMIP 1.4 §4.27-4.28, §11.29; KMIP 2.1 §6.1.5, §6.1.38; the pending ones
// are app/async_test.go's), and Put and Notify go from server to
// client (KMIP 1.4 §5), so a client sending them is refused.
func TestPollCancelPutNotify(t *testing.T) {
	t.Parallel()
	s, _ := newClockedService(t)
	acv := kmip.Bytes(kmip.TagAsynchronousCorrelationValue, []byte{1, 2, 3})
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationPoll, acv)), kmip.ResultReasonItemNotFound)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationPoll, acv)), kmip.ResultReasonInvalidAsynchronousCorrelationValue)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationPoll)), kmip.ResultReasonMissingData)
	for _, v := range []version{v14, v21} {
		p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationCancel, acv)))
		if r, _ := p.Child(kmip.TagCancellationResult).AsEnum(); r != uint32(kmip.CancellationResultUnavailable) {
			t.Fatalf("%s: Cancellation Result %d, want Unavailable", v, r)
		}
		if b, _ := p.Child(kmip.TagAsynchronousCorrelationValue).AsBytes(); string(b) != "\x01\x02\x03" {
			t.Fatalf("%s: correlation value not echoed", v)
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationPut)), kmip.ResultReasonOperationNotSupported)
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationNotify)), kmip.ResultReasonOperationNotSupported)
	}
}
