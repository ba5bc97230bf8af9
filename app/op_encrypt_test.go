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

func TestAuthenticatedEncryption(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	id := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
	gcm := kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeGCM)))
	aad := kmip.Bytes(kmip.TagAuthenticatedEncryptionAdditionalData, []byte("header"))
	nonce := kmip.Bytes(kmip.TagIVCounterNonce, []byte("123456789012"))
	out := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationEncrypt, uidItem(id), gcm, data([]byte("secret")), nonce, aad)))
	if out.Child(kmip.TagIVCounterNonce) != nil {
		t.Fatal("a client-given nonce must not be returned")
	}
	ct, tag := bytesOf(t, out, kmip.TagData), bytesOf(t, out, kmip.TagAuthenticatedEncryptionTag)
	back := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationDecrypt, uidItem(id), gcm, data(ct), nonce, aad,
		kmip.Bytes(kmip.TagAuthenticatedEncryptionTag, tag))))
	if string(bytesOf(t, back, kmip.TagData)) != "secret" {
		t.Fatal("GCM round trip failed")
	}
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("x")), nonce,
		kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeGCM)),
			kmip.Int(kmip.TagTagLength, 32)))), kmip.ResultReasonGeneralFailure)
	bad := append([]byte(nil), tag...)
	bad[0] ^= 1
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationDecrypt, uidItem(id), gcm, data(ct), nonce, aad,
		kmip.Bytes(kmip.TagAuthenticatedEncryptionTag, bad))), kmip.ResultReasonCryptographicFailure)
}

// Streaming keeps its state on the server under a stable Correlation Value,
// and the parts together equal the one-shot result.
func TestStreamedEncryption(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		s := newCryptoService()
		id := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
		other := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt), activeNow())
		whole := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP")
		iv := kmip.Bytes(kmip.TagIVCounterNonce, bytes.Repeat([]byte{7}, 16))
		oneShot := bytesOf(t, mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), iv, data(whole)))), kmip.TagData)

		first := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), iv, data(whole[:10]),
			kmip.Bool(kmip.TagInitIndicator, true))))
		cv := bytesOf(t, first, kmip.TagCorrelationValue)
		if bytes.Contains(cv, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}) {
			t.Fatal("the Correlation Value must not contain key material")
		}
		got := append([]byte(nil), bytesOf(t, first, kmip.TagData)...)
		// The middle part omits the Unique Identifier: the Correlation Value names the key.
		mid := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, cbc(), data(whole[10:30]), kmip.Bytes(kmip.TagCorrelationValue, cv))))
		got = append(got, bytesOf(t, mid, kmip.TagData)...)
		cv2 := bytesOf(t, mid, kmip.TagCorrelationValue)
		if !bytes.Equal(cv, cv2) {
			t.Fatal("the Correlation Value changed between parts")
		}
		last := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), data(whole[30:]),
			kmip.Bytes(kmip.TagCorrelationValue, cv2), kmip.Bool(kmip.TagFinalIndicator, true))))
		if last.Child(kmip.TagCorrelationValue) != nil {
			t.Fatal("the final part must not return a Correlation Value")
		}
		got = append(got, bytesOf(t, last, kmip.TagData)...)
		if !bytes.Equal(got, oneShot) {
			t.Fatalf("%s: streamed ciphertext differs from one-shot", v)
		}
		bad := kmip.ResultReasonItemNotFound
		if v.major >= 2 {
			bad = kmip.ResultReasonInvalidCorrelationValue
		}
		// The final part ended the stream.
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), data(whole), kmip.Bytes(kmip.TagCorrelationValue, cv))), bad)
		// A live stream is bound to the key, the operation and the client.
		first = mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), iv, data(whole[:10]),
			kmip.Bool(kmip.TagInitIndicator, true))))
		cv = bytesOf(t, first, kmip.TagCorrelationValue)
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(other), data(whole), kmip.Bytes(kmip.TagCorrelationValue, cv))), bad)
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDecrypt, uidItem(id), data(whole), kmip.Bytes(kmip.TagCorrelationValue, cv))), bad)
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), data(whole), kmip.Bytes(kmip.TagCorrelationValue, []byte("forged")))), bad)
		mustFail(t, sendOne(t, s, bob, v, batchItem(kmip.OperationEncrypt, data(whole), kmip.Bytes(kmip.TagCorrelationValue, cv))), bad)
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, cbc(), data(whole[10:]), kmip.Bytes(kmip.TagCorrelationValue, cv),
			kmip.Bool(kmip.TagFinalIndicator, true))))
	}
}

// TestAuthenticatedEncryptionNeeds14: before KMIP 1.4 no answer can carry the
// Authenticated Encryption Tag, so GCM Encrypt and Decrypt are refused
// (Feature Not Supported) instead of returning a cipher text without its
// tag; at 1.4 the tag is returned.
func TestAuthenticatedEncryptionNeeds14(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
	gcm := kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeGCM)))
	nonce := kmip.Bytes(kmip.TagIVCounterNonce, []byte("123456789012"))
	for _, v := range []version{{1, 2}, {1, 3}} {
		resp, rs := send(t, s, alice, msg(v, batchItem(kmip.OperationEncrypt, uidItem(id), gcm.Clone(), data([]byte("secret")), nonce)))
		mustFail(t, rs[0], kmip.ResultReasonFeatureNotSupported)
		if n := newerTags(resp, v); len(n) > 0 {
			t.Errorf("%s: Encrypt answer carries %v", v, n)
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDecrypt, uidItem(id), gcm.Clone(), data([]byte("secret")), nonce)),
			kmip.ResultReasonFeatureNotSupported)
		// CBC, which needs no tag, works.
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), data(make([]byte, 16)), kmip.Bytes(kmip.TagIVCounterNonce, make([]byte, 16)))))
	}
	out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), gcm.Clone(), data([]byte("secret")), nonce)))
	if out.Child(kmip.TagAuthenticatedEncryptionTag) == nil {
		t.Error("1.4: GCM Encrypt answered no tag")
	}
}
