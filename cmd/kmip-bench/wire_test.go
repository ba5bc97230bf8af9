package main

import (
	"bytes"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
)

// encodedResponse is a response message whose batch items have statuses st.
func encodedResponse(t *testing.T, st ...kmip.ResultStatus) []byte {
	t.Helper()
	resp := kmip.Struct(kmip.TagResponseMessage, kmip.Struct(kmip.TagResponseHeader,
		kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, 1), kmip.Int(kmip.TagProtocolVersionMinor, 2)),
		kmip.Int(kmip.TagBatchCount, int32(len(st)))))
	for _, s := range st {
		bi := kmip.Struct(kmip.TagBatchItem, kmip.Enum(kmip.TagOperation, uint32(kmip.OperationGet)),
			kmip.Bytes(kmip.TagUniqueBatchItemID, []byte{1}), kmip.Enum(kmip.TagResultStatus, uint32(s)))
		if s != kmip.ResultStatusSuccess {
			bi.Add(kmip.Enum(kmip.TagResultReason, uint32(kmip.ResultReasonItemNotFound)), kmip.Text(kmip.TagResultMessage, "gone"))
		} else {
			bi.Add(kmip.Struct(kmip.TagResponsePayload, kmip.Text(kmip.TagUniqueIdentifier, "1")))
		}
		resp.Add(bi)
	}
	b, err := ttlv.Encode(resp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fast scan reads the same statuses as a full decode, and refuses
// what is not a well-formed response message.
func TestScanStatuses(t *testing.T) {
	want := []kmip.ResultStatus{kmip.ResultStatusSuccess, kmip.ResultStatusOperationFailed, kmip.ResultStatusSuccess}
	msg := encodedResponse(t, want...)
	got, err := scanStatuses(nil, msg)
	if err != nil || len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("scanStatuses = %v, %v; want %v", got, err, want)
	}
	res, err := decodeResults(msg)
	if err != nil || len(res) != 3 || res[1].Err == nil || res[0].Err != nil {
		t.Fatalf("decodeResults = %v, %v", res, err)
	}
	for _, bad := range [][]byte{nil, msg[:7], msg[:len(msg)-8], append([]byte{0x42, 0, 0x78}, msg[3:]...)} {
		if _, err := scanStatuses(nil, bad); err == nil {
			t.Errorf("scanStatuses accepted % x...", bad[:min(len(bad), 8)])
		}
	}
}

// A measured round trip allocates nothing on the generator's side: the
// request is encoded once and the response is scanned in place.
func TestHotPathAllocatesNothing(t *testing.T) {
	w := &worker{spec: &loadSpec{Op: "encrypt", Batch: 1, Proto: protocol{1, 2}}, keyID: "k"}
	w.prepare()
	resp := encodedResponse(t, kmip.ResultStatusSuccess)
	allocs := testing.AllocsPerRun(100, func() { w.check(resp, 1); _ = w.next() })
	if allocs != 0 || w.ops != 101 || w.failed != 0 {
		t.Errorf("%.0f allocations per operation, %d ops, %d failed", allocs, w.ops, w.failed)
	}
}

// Each encrypt message carries a fresh IV in the request the server decodes.
func TestEncryptIVPerMessage(t *testing.T) {
	w := &worker{id: 3, spec: &loadSpec{Op: "encrypt", Batch: 1, Proto: protocol{1, 2}}, keyID: "k"}
	w.prepare()
	var ivs [][]byte
	for range 2 {
		req, err := ttlv.Decode(w.next(), ttlv.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		iv, _ := req.Path(kmip.TagBatchItem, kmip.TagRequestPayload, kmip.TagIVCounterNonce).AsBytes()
		if len(iv) != 16 || bytes.Equal(iv, ivMarker) {
			t.Fatalf("IV % x", iv)
		}
		ivs = append(ivs, bytes.Clone(iv))
	}
	if bytes.Equal(ivs[0], ivs[1]) {
		t.Error("two messages carried the same IV")
	}
}
