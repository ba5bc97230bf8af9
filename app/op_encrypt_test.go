package app

import (
	"bytes"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

func TestEncryptDecryptRoundTrip(t *testing.T) {
	t.Parallel()
	msgText := []byte("attack at dawn, or at least before lunch")
	for _, v := range []version{v14, v21} {
		s := newCryptoService()
		id := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
		// Parameters in the request; the engine generates the IV and the response returns it.
		out := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), data(msgText))))
		ct, iv := bytesOf(t, out, kmip.TagData), bytesOf(t, out, kmip.TagIVCounterNonce)
		if bytes.Equal(ct, msgText) || !bytes.Equal(iv, fakeIV) {
			t.Fatalf("%s: ciphertext or IV wrong", v)
		}
		back := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDecrypt, uidItem(id), cbc(), data(ct),
			kmip.Bytes(kmip.TagIVCounterNonce, iv))))
		if !bytes.Equal(bytesOf(t, back, kmip.TagData), msgText) {
			t.Fatalf("%s: decrypt did not return the plaintext", v)
		}
		// Decrypting in CBC without the IV (OASIS CS-BC-M-11: Invalid Message).
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDecrypt, uidItem(id), cbc(), data(ct))), kmip.ResultReasonInvalidMessage)
		want := kmip.ResultReasonInvalidField
		// Missing Data, unsupported mode.
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), cbc())), kmip.ResultReasonMissingData)
		if v.major >= 2 {
			want = kmip.ResultReasonUnsupportedCryptographicParameters
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), data(msgText),
			kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeXTS))))), want)
	}
}

// Without Cryptographic Parameters in the request, the key's Cryptographic
// Parameters attribute applies (KMIP 1.4 §4.29).
func TestEncryptUsesKeyParameters(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt), activeNow(), cbc())
	out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("x")))))
	if !bytes.Equal(bytesOf(t, out, kmip.TagIVCounterNonce), fakeIV) {
		t.Fatal("the key's CBC parameters were not used: no IV generated")
	}
	// A request may not contradict the key's parameters (issue 12.5): ECB
	// on a CBC key is refused.
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("x")),
		kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeECB))))),
		kmip.ResultReasonPermissionDenied)
}
