package attacker

import (
	"bytes"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// asyncItem sends one operation with the Asynchronous Indicator set and
// returns the response batch item.
func asyncItem(t *testing.T, c *kmipclient.Client, op kmip.Operation, payload ...*kmip.Item) *kmip.Item {
	t.Helper()
	req := c.Request(kmipclient.BatchItem(op, payload...))
	hdr := req.Child(kmip.TagRequestHeader)
	kids := hdr.Children()
	hdr.Value = append([]*kmip.Item{kids[0], kmip.Bool(kmip.TagAsynchronousIndicator, true)}, kids[1:]...)
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Child(kmip.TagBatchItem)
}

func itemStatus(it *kmip.Item) kmip.ResultStatus {
	st, _ := it.Child(kmip.TagResultStatus).AsEnum()
	return kmip.ResultStatus(st)
}

// pollUntil polls acv until it is no longer pending and returns the error
// of the answer (nil: success).
func pollUntil(t *testing.T, c *kmipclient.Client, acv *kmip.Item) error {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, err := c.Call(kmip.OperationPoll, acv)
		if oe, ok := err.(*kmipclient.OperationError); !ok || oe.Status != kmip.ResultStatusOperationPending {
			return err
		}
	}
	t.Fatal("still pending after 30s")
	return nil
}

// Bob cannot learn whether alice's Asynchronous Correlation Value exists:
// his Poll gets the very answer a made-up value gets, his Cancel
// Unavailable and no effect. An operation answered pending still runs as
// its requester, under his access rights: bob's Archive of alice's key is
// Permission Denied when polled, as it is synchronously. And one client's
// flood of pending operations stops at his own quota without taking
// alice's.
func TestAsyncIsolation(t *testing.T) {
	tg := start(t, harness.Options{ExtraServerTOML: "async_after = \"0s\"\nmax_async_per_client = 3"})
	id := createAES(t, tg.alice, "shared", kmip.CryptographicUsageMaskEncrypt)
	pending := asyncItem(t, tg.alice, kmip.OperationLocate)
	acv := pending.Child(kmip.TagAsynchronousCorrelationValue)
	if itemStatus(pending) != kmip.ResultStatusOperationPending || acv == nil {
		t.Fatalf("alice's Locate: %s", pending)
	}
	_, real := tg.bob.Call(kmip.OperationPoll, acv)
	made := acv.Clone()
	made.Value = bytes.Repeat([]byte{0x5a}, len(made.Value.([]byte)))
	_, fake := tg.bob.Call(kmip.OperationPoll, made)
	if real == nil || fake == nil || real.Error() != fake.Error() {
		t.Fatalf("bob's Poll of alice's value: %v; of a made-up one: %v", real, fake)
	}
	out := harness.Call(t, tg.bob, kmip.OperationCancel, acv)
	if r, _ := out.Child(kmip.TagCancellationResult).AsEnum(); kmip.CancellationResult(r) != kmip.CancellationResultUnavailable {
		t.Fatalf("bob's Cancel of alice's value: %s", kmip.CancellationResult(r))
	}
	if err := pollUntil(t, tg.alice, acv); err != nil {
		t.Fatalf("alice's Locate after bob's Cancel: %v", err)
	}

	_, syncErr := tg.bob.Call(kmip.OperationArchive, uid(id))
	arch := asyncItem(t, tg.bob, kmip.OperationArchive, uid(id))
	asyncErr := pollUntil(t, tg.bob, arch.Child(kmip.TagAsynchronousCorrelationValue))
	if reason(syncErr) != kmip.ResultReasonPermissionDenied || reason(asyncErr) != reason(syncErr) {
		t.Fatalf("bob's Archive of alice's key: synchronous %v, asynchronous %v", syncErr, asyncErr)
	}

	pendingCount := 0
	for range 6 {
		if itemStatus(asyncItem(t, tg.bob, kmip.OperationLocate)) == kmip.ResultStatusOperationPending {
			pendingCount++
		}
	}
	if pendingCount != 2 { // his Archive record counts too
		t.Fatalf("%d of bob's Locates went pending, want 2 with max_async_per_client = 3 and his Archive kept", pendingCount)
	}
	if itemStatus(asyncItem(t, tg.alice, kmip.OperationLocate)) != kmip.ResultStatusOperationPending {
		t.Fatal("bob's flood took alice's quota")
	}
}
