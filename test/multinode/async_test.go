package multinode

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// asyncNodes are two nodes on one database that answer every eligible item
// Operation Pending at once, with a 2s lease.
func asyncNodes(t *testing.T) (a, b *harness.Server) {
	t.Helper()
	return twoNodesWith(t, harness.Options{Storage: "sqlite",
		ExtraServerTOML: "async_after = \"0s\"\nasync_lease = \"2s\"\n"})
}

// sendAsync sends one operation with the Asynchronous Indicator (1.x True,
// 2.x Optional) and returns the response batch item.
func sendAsync(t *testing.T, c *kmipclient.Client, op kmip.Operation, payload ...*kmip.Item) *kmip.Item {
	t.Helper()
	req := c.Request(kmipclient.BatchItem(op, payload...))
	hdr := req.Child(kmip.TagRequestHeader)
	flag := kmip.Bool(kmip.TagAsynchronousIndicator, true)
	if c.Major >= 2 {
		flag = kmip.Enum(kmip.TagAsynchronousIndicator, uint32(kmip.AsynchronousIndicatorOptional))
	}
	kids := hdr.Children() // Protocol Version first; the indicator follows it
	hdr.Value = append([]*kmip.Item{kids[0], flag}, kids[1:]...)
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Child(kmip.TagBatchItem)
}

func resultStatus(it *kmip.Item) kmip.ResultStatus {
	st, _ := it.Child(kmip.TagResultStatus).AsEnum()
	return kmip.ResultStatus(st)
}

// pendingValue requires an Operation Pending answer and returns its value.
func pendingValue(t *testing.T, it *kmip.Item) *kmip.Item {
	t.Helper()
	acv := it.Child(kmip.TagAsynchronousCorrelationValue)
	if resultStatus(it) != kmip.ResultStatusOperationPending || acv == nil {
		t.Fatalf("want Operation Pending with an Asynchronous Correlation Value, got %s", it)
	}
	return acv
}

// pollDone polls acv on c until the answer is no longer pending.
func pollDone(t *testing.T, c *kmipclient.Client, acv *kmip.Item, within time.Duration) (*kmip.Item, error) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := c.RoundTrip(c.Request(kmipclient.BatchItem(kmip.OperationPoll, acv)))
		if err != nil {
			t.Fatal(err)
		}
		if it := resp.Child(kmip.TagBatchItem); resultStatus(it) != kmip.ResultStatusOperationPending {
			rs, _ := kmipclient.Results(resp)
			return rs[0].Payload, rs[0].Err
		}
	}
	t.Fatalf("still pending after %s", within)
	return nil, nil
}

// rsaPair is a Create Key Pair payload of version major for a 4096-bit
// RSA pair (slow enough to be pending), its private key named name (1.x).
func rsaPair(major int32, name string) []*kmip.Item {
	if major >= 2 {
		return []*kmip.Item{kmip.Struct(kmip.TagCommonAttributes,
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)), kmip.Int(kmip.TagCryptographicLength, 4096)),
			kmip.Struct(kmip.TagPrivateKeyAttributes, kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskSign))),
			kmip.Struct(kmip.TagPublicKeyAttributes, kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskVerify)))}
	}
	priv := kmip.Struct(kmip.TagPrivateKeyTemplateAttribute,
		kmipclient.Attribute("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskSign))))
	if name != "" {
		priv.Add(kmipclient.NameAttribute(name))
	}
	return []*kmip.Item{kmip.Struct(kmip.TagCommonTemplateAttribute,
		kmipclient.Attribute("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmRSA))),
		kmipclient.Attribute("Cryptographic Length", kmip.Int(0, 4096))),
		priv,
		kmip.Struct(kmip.TagPublicKeyTemplateAttribute,
			kmipclient.Attribute("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskVerify))))}
}

// Create Key Pair and Locate answered pending on node A are polled to their
// result on node B; bob cannot poll or cancel alice's value.
func TestAsyncAcrossNodes(t *testing.T) {
	a, b := asyncNodes(t)
	for _, v := range [][2]int32{{1, 4}, {2, 1}} {
		ca, cb := dial(t, a, "alice", v[0], v[1]), dial(t, b, "alice", v[0], v[1])
		acv := pendingValue(t, sendAsync(t, ca, kmip.OperationCreateKeyPair, rsaPair(v[0], "")...))
		bad := kmip.ResultReasonItemNotFound
		if v[0] >= 2 {
			bad = kmip.ResultReasonInvalidAsynchronousCorrelationValue
		}
		bobB := dial(t, b, "bob", v[0], v[1])
		_, err := bobB.Call(kmip.OperationPoll, acv)
		wantReason(t, err, bad)
		if r, _ := call(t, bobB, kmip.OperationCancel, acv).Child(kmip.TagCancellationResult).AsEnum(); kmip.CancellationResult(r) != kmip.CancellationResultUnavailable {
			t.Fatalf("bob's Cancel of alice's value: %s", kmip.CancellationResult(r))
		}
		p, err := pollDone(t, cb, acv, 60*time.Second)
		if err != nil {
			t.Fatalf("%d.%d: Poll on B: %v", v[0], v[1], err)
		}
		priv, _ := p.Child(kmip.TagPrivateKeyUniqueIdentifier).AsText()
		call(t, cb, kmip.OperationGetAttributes, kmip.Text(kmip.TagUniqueIdentifier, priv))

		acv = pendingValue(t, sendAsync(t, ca, kmip.OperationLocate))
		p, err = pollDone(t, cb, acv, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, it := range p.ChildrenOf(kmip.TagUniqueIdentifier) {
			found = found || it.Value == priv
		}
		if !found {
			t.Fatalf("%d.%d: the Locate polled on B does not find %s", v[0], v[1], priv)
		}
	}
}

// Cancel on node B of a key pair generation running on node A: the answer
// agrees with what stands (Canceled: no key kept, Poll says Operation
// Canceled By Requester; Completed: the keys exist).
func TestAsyncCancelAcrossNodes(t *testing.T) {
	a, b := asyncNodes(t)
	ca, cb := dial(t, a, "alice", 1, 4), dial(t, b, "alice", 1, 4)
	acv := pendingValue(t, sendAsync(t, ca, kmip.OperationCreateKeyPair, rsaPair(1, "cancel-me")...))
	rv, _ := call(t, cb, kmip.OperationCancel, acv).Child(kmip.TagCancellationResult).AsEnum()
	r := kmip.CancellationResult(rv)
	_, err := pollDone(t, cb, acv, 60*time.Second)
	named := func(name string) int {
		return len(call(t, cb, kmip.OperationLocate, kmipclient.NameAttribute(name)).ChildrenOf(kmip.TagUniqueIdentifier))
	}
	call(t, ca, kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "probe")...)
	if named("probe") != 1 {
		t.Fatal("Locate by Name does not find a named key")
	}
	n := named("cancel-me")
	t.Logf("Cancel answered %s; %d objects named cancel-me", r, n)
	switch r {
	case kmip.CancellationResultCanceled:
		wantReason(t, err, kmip.ResultReasonOperationCanceledByRequester)
		if n != 0 {
			t.Fatalf("Canceled, yet %d keys were kept", n)
		}
	case kmip.CancellationResultCompleted:
		if err != nil || n == 0 {
			t.Fatalf("Completed, yet Poll says %v and %d keys exist", err, n)
		}
	default:
		t.Fatalf("Cancel answered %s", r)
	}
}

// kill -9 of the node running a pending operation: Poll on the other node
// answers Operation Failed once the lease (2s) has run out, not pending.
func TestAsyncNodeDies(t *testing.T) {
	a, b := asyncNodes(t)
	ca, cb := dial(t, a, "alice", 2, 1), dial(t, b, "alice", 2, 1)
	acv := pendingValue(t, sendAsync(t, ca, kmip.OperationCreateKeyPair, rsaPair(2, "")...))
	a.Kill(t)
	start := time.Now()
	_, err := pollDone(t, cb, acv, 20*time.Second)
	if err == nil {
		t.Skip("the key pair was made before the node was killed; nothing to observe")
	}
	wantReason(t, err, kmip.ResultReasonGeneralFailure)
	if time.Since(start) > 10*time.Second {
		t.Fatalf("Poll answered the failure only after %s", time.Since(start))
	}
}

// SIGTERM of the node running a pending operation: within shutdown_timeout
// it finishes and Poll on the other node answers its result (the keys
// exist); when the period is too short it is cancelled, and Poll answers
// Operation Failed with no key kept.
func TestAsyncShutdown(t *testing.T) {
	for _, tc := range []struct {
		timeout string
		finish  bool
	}{{"30s", true}, {"100ms", false}} {
		a, b := twoNodesWith(t, harness.Options{Storage: "sqlite",
			ExtraServerTOML: "async_after = \"0s\"\nasync_lease = \"2s\"\nshutdown_timeout = \"" + tc.timeout + "\"\n"})
		ca, cb := dial(t, a, "alice", 1, 4), dial(t, b, "alice", 1, 4)
		acv := pendingValue(t, sendAsync(t, ca, kmip.OperationCreateKeyPair, rsaPair(1, "drained")...))
		if err := a.Terminate(t); err != nil {
			t.Logf("shutdown_timeout %s: exit %v", tc.timeout, err)
		}
		_, err := pollDone(t, cb, acv, 20*time.Second)
		n := len(call(t, cb, kmip.OperationLocate, kmipclient.NameAttribute("drained")).ChildrenOf(kmip.TagUniqueIdentifier))
		t.Logf("shutdown_timeout %s: Poll %v, %d keys", tc.timeout, err, n)
		switch {
		case err == nil && n == 1:
		case err != nil && n == 0 && !tc.finish:
			wantReason(t, err, kmip.ResultReasonGeneralFailure)
		default:
			t.Fatalf("shutdown_timeout %s: Poll answered %v with %d keys kept", tc.timeout, err, n)
		}
		if tc.finish && err != nil {
			t.Fatal("the operation was not let finish within shutdown_timeout")
		}
	}
}
