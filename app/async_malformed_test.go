package app

import (
	"context"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// A 2.x Asynchronous Indicator that is not the Enumeration 2.x defines
// (2.1 §9.2: an Integer, a Text String) allows nothing: the item is
// answered synchronously, as with Prohibited.
func TestAsyncIndicatorOfWrongTypeIsProhibited(t *testing.T) {
	s, _ := asyncService(t, fakeCrypto{}, AsyncOptions{}, nil)
	for _, flag := range []*kmip.Item{
		kmip.Int(kmip.TagAsynchronousIndicator, int32(kmip.AsynchronousIndicatorMandatory)),
		kmip.Text(kmip.TagAsynchronousIndicator, "Mandatory"),
	} {
		m := asyncMsg(v21, kmip.AsynchronousIndicatorMandatory, aesCreate21(128, ""))
		hdr := m.Child(kmip.TagRequestHeader)
		kids := hdr.Children()
		kids[1] = flag
		hdr.Value = kids
		it := s.HandleMessage(ports.WithPeer(context.Background(), alice), m).ChildrenOf(kmip.TagBatchItem)[0]
		if status(it) != kmip.ResultStatusSuccess {
			t.Fatalf("indicator %s: %s, want a synchronous Success", flag, it)
		}
	}
}

// Poll and Cancel read their Asynchronous Correlation Value as a Byte
// String: missing or of another type, the item is refused with the
// version's reason and no operation is looked up.
func TestPollCancelCorrelationValueMalformed(t *testing.T) {
	t.Parallel()
	s, _ := newClockedService(t)
	text := kmip.Text(kmip.TagAsynchronousCorrelationValue, "x")
	for _, op := range []kmip.Operation{kmip.OperationPoll, kmip.OperationCancel} {
		for _, v := range []version{v14, v21} {
			mustFail(t, sendOne(t, s, alice, v, batchItem(op)), kmip.ResultReasonMissingData)
			mustFail(t, sendOne(t, s, alice, v, batchItem(op, text)), kmip.ResultReasonInvalidField)
		}
	}
}

// Once an operation has finished, another client's Poll and Cancel of its
// value still get the unknown-value answers: its result is its owner's.
func TestAsyncFinishedIsOwnersOnly(t *testing.T) {
	s, _ := asyncService(t, fakeCrypto{}, AsyncOptions{}, nil)
	for _, v := range []version{v14, v21} {
		create, unknown := aesCreate14(128, ""), kmip.ResultReasonItemNotFound
		if v.major >= 2 {
			create, unknown = aesCreate21(128, ""), kmip.ResultReasonInvalidAsynchronousCorrelationValue
		}
		acv := pendingACV(t, sendAsync(t, s, alice, v, kmip.AsynchronousIndicatorMandatory, create)[0])
		createdID(t, pollUntilDone(t, s, alice, v, acv))
		r := sendOne(t, s, bob, v, batchItem(kmip.OperationPoll, acvItem(acv)))
		mustFail(t, r, unknown)
		if r.payload != nil {
			t.Fatalf("%s: bob's Poll carried a payload", v)
		}
		if c := cancelResult(t, s, bob, v, acv); c != kmip.CancellationResultUnavailable {
			t.Fatalf("%s: bob's Cancel of a finished operation: %s", v, c)
		}
	}
}

// A client at max_async_per_client is answered synchronously also when it
// asks 2.x Mandatory and when the item outlasts async_after: the item
// runs to its end and its own result is the answer.
func TestAsyncQuotaMandatoryAndAfter(t *testing.T) {
	for _, after := range []time.Duration{0, 50 * time.Millisecond} {
		g := newGated(true)
		s, _ := asyncService(t, g, AsyncOptions{MaxPerClient: 1, After: after}, nil)
		acv := pendingACV(t, sendAsync(t, s, alice, v21, kmip.AsynchronousIndicatorMandatory, aesCreate21(128, ""))[0])
		time.AfterFunc(after+200*time.Millisecond, func() { close(g.release) })
		it := sendAsync(t, s, alice, v21, kmip.AsynchronousIndicatorMandatory, aesCreate21(128, ""))[0]
		if status(it) != kmip.ResultStatusSuccess || it.Path(kmip.TagResponsePayload, kmip.TagUniqueIdentifier) == nil {
			t.Fatalf("after=%s: over the quota: %s, want the synchronous Create answer", after, it)
		}
		createdID(t, pollUntilDone(t, s, alice, v21, acv))
	}
}
