package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

func TestMACAndVerify(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	id := aesKey(t, s, v14, activeNow(), mask(kmip.CryptographicUsageMaskMACGenerate, kmip.CryptographicUsageMaskMACVerify))
	m := bytesOf(t, mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationMAC, uidItem(id), data([]byte("msg"))))), kmip.TagMACData)
	check := func(d []byte) kmip.ValidityIndicator {
		out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationMACVerify, uidItem(id), data(d), kmip.Bytes(kmip.TagMACData, m))))
		vi, _ := out.Child(kmip.TagValidityIndicator).AsEnum()
		return kmip.ValidityIndicator(vi)
	}
	if check([]byte("msg")) != kmip.ValidityIndicatorValid || check([]byte("msh")) != kmip.ValidityIndicatorInvalid {
		t.Fatal("MAC verification wrong")
	}
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationMACVerify, uidItem(id), data([]byte("msg")))), kmip.ResultReasonMissingData)
	// The seed: "the requested algorithm is not supported for HMAC/CMAC generation".
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationMAC, uidItem(id), data([]byte("msg")),
		kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmMD5))))), kmip.ResultReasonInvalidField)
	// The seed: "the managed object does not have the Generate bit set".
	enc := aesKey(t, s, v14, activeNow(), mask(kmip.CryptographicUsageMaskEncrypt))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationMAC, uidItem(enc), data([]byte("msg")))), kmip.ResultReasonPermissionDenied)
}
