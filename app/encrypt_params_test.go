package app

import (
	"bytes"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

func cpItem(fields ...*kmip.Item) *kmip.Item {
	return kmip.Struct(kmip.TagCryptographicParameters, fields...)
}

func modeItem(m kmip.BlockCipherMode) *kmip.Item {
	return kmip.Enum(kmip.TagBlockCipherMode, uint32(m))
}

// registerSymKey registers a 16-byte symmetric key of algorithm alg for alice
// with the given attributes.
func registerSymKey(t *testing.T, s *Service, v version, alg kmip.CryptographicAlgorithm, attrs ...*kmip.Item) string {
	t.Helper()
	key := kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, []byte("0123456789abcdef"))),
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(alg)), kmip.Int(kmip.TagCryptographicLength, 128)))
	return createdID(t, sendOne(t, s, alice, v, batchItem(kmip.OperationRegister,
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), attrsFor(v, attrs...), key)))
}

// A request may not contradict the key's Cryptographic Parameters; it may
// add what they leave open, and match any one of several instances (KMIP
// 1.4 §2.1.6; issue 12.5).
func TestRequestCannotContradictKeyParams(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		s := newCryptoService()
		gcm := cpItem(modeItem(kmip.BlockCipherModeGCM), kmip.Int(kmip.TagTagLength, 16))
		id := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow(), gcm)
		want := kmip.ResultReasonPermissionDenied
		if v.major >= 2 {
			want = kmip.ResultReasonBadCryptographicParameters
		}
		enc := func(p *kmip.Item) result {
			return sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("sixteen byte msg")), p))
		}
		mustFail(t, enc(cpItem(modeItem(kmip.BlockCipherModeECB))), want)
		mustFail(t, enc(cpItem(modeItem(kmip.BlockCipherModeGCM), kmip.Int(kmip.TagTagLength, 12))), want)
		mustFail(t, enc(cpItem(kmip.Int(kmip.TagTagLength, 4))), want)
		out := mustOK(t, enc(cpItem(modeItem(kmip.BlockCipherModeGCM), kmip.Bool(kmip.TagRandomIV, true))))
		if out.Child(kmip.TagAuthenticatedEncryptionTag) == nil {
			t.Fatalf("%s: the key's GCM did not apply", v)
		}

		// Several instances: the request matches the CBC one.
		two := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
		if v.major < 2 {
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationAddAttribute, uidItem(two), attribute1x("Cryptographic Parameters", gcm.Clone()))))
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationAddAttribute, uidItem(two), attribute1x("Cryptographic Parameters", cbc()))))
			out = mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(two), data([]byte("x")), cbc())))
			if out.Child(kmip.TagAuthenticatedEncryptionTag) != nil || out.Child(kmip.TagIVCounterNonce) == nil {
				t.Fatal("the request's CBC instance did not apply")
			}
			mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(two), data([]byte("x")), cpItem(modeItem(kmip.BlockCipherModeCTR)))), want)
		}
	}
}

func TestMergeParams(t *testing.T) {
	t.Parallel()
	key := cpItem(modeItem(kmip.BlockCipherModeCBC), kmip.Bool(kmip.TagRandomIV, false))
	for _, c := range []struct {
		name string
		req  *kmip.Item
		ok   bool
	}{
		{"empty", cpItem(), true},
		{"same", cpItem(modeItem(kmip.BlockCipherModeCBC)), true},
		{"adds padding", cpItem(kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5))), true},
		{"asks Random IV", cpItem(kmip.Bool(kmip.TagRandomIV, true)), true},
		{"other mode", cpItem(modeItem(kmip.BlockCipherModeECB)), false},
	} {
		merged, ok := mergeParams(c.req, key)
		if ok != c.ok {
			t.Errorf("%s: ok %v, want %v", c.name, ok, c.ok)
			continue
		}
		if ok && (merged.Child(kmip.TagBlockCipherMode) == nil || len(merged.Children()) < len(key.Children())) {
			t.Errorf("%s: merged %v lost the key's fields", c.name, merged)
		}
	}
	merged, _ := mergeParams(cpItem(kmip.Bool(kmip.TagRandomIV, true)), key)
	if b, _ := merged.Child(kmip.TagRandomIV).AsBool(); !b {
		t.Error("Random IV asked for was not applied")
	}
	if b, _ := key.Child(kmip.TagRandomIV).AsBool(); b {
		t.Error("mergeParams changed the key's parameters")
	}
}

// Where the key says Random IV, the server generates the IV and refuses
// one from the client, whatever the request's parameters say (issue 12.5).
func TestRandomIVKeyRefusesClientIV(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		s := newCryptoService()
		id := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow(),
			cpItem(modeItem(kmip.BlockCipherModeCBC), kmip.Bool(kmip.TagRandomIV, true)))
		iv := kmip.Bytes(kmip.TagIVCounterNonce, bytes.Repeat([]byte{1}, 16))
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("x")), iv)), kmip.ResultReasonInvalidField)
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("x")), cbc(), iv.Clone())), kmip.ResultReasonInvalidField)
		out := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("x")), cbc())))
		if out.Child(kmip.TagIVCounterNonce) == nil {
			t.Fatalf("%s: no generated IV returned", v)
		}
		// Decrypt still takes the IV the encryption returned.
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDecrypt, uidItem(id), data(bytesOf(t, out, kmip.TagData)), out.Child(kmip.TagIVCounterNonce).Clone())))
	}
}

// encryptOnlyService has alice's key under a policy that lets everyone
// Encrypt but only the owner Decrypt or Get.
func encryptOnlyService(t *testing.T) *Service {
	sk := uint32(kmip.ObjectTypeSymmetricKey)
	p := &domain.Policy{Name: "encrypt-only", Preset: domain.Rules{sk: {
		uint32(kmip.OperationGet): domain.AllowOwner, uint32(kmip.OperationEncrypt): domain.AllowAll,
		uint32(kmip.OperationDecrypt): domain.AllowOwner,
	}}}
	return New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow}, Policies: onePolicy{p}})
}

// Encrypt is not Decrypt: a client that may Encrypt but not Decrypt with a
// key cannot choose the IV/Counter/Nonce (encrypting a keystream
// ciphertext under its own IV would return the plaintext), nor use RC4; the
// server generates the IV. The owner still chooses hers (issue 12.5).
func TestEncryptOnlyClientCannotChooseIV(t *testing.T) {
	t.Parallel()
	// Operation Policy Name is a KMIP 1.x attribute; the rule is the same in 2.x.
	for _, v := range []version{v14, {1, 2}} {
		s := encryptOnlyService(t)
		both := mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt)
		policy := kmip.Text(kmip.TagOperationPolicyName, "encrypt-only")
		id := aesKey(t, s, v, both, activeNow(), policy)
		ctr := cpItem(modeItem(kmip.BlockCipherModeCTR))
		iv := kmip.Bytes(kmip.TagIVCounterNonce, bytes.Repeat([]byte{9}, 16))
		secret := []byte("alice's secret message")
		ct := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), data(secret), ctr, iv)))
		// bob replays alice's IV on her ciphertext: refused.
		mustFail(t, sendOne(t, s, bob, v, batchItem(kmip.OperationEncrypt, uidItem(id), data(bytesOf(t, ct, kmip.TagData)), ctr.Clone(), iv.Clone())),
			kmip.ResultReasonPermissionDenied)
		// Without an IV bob's encryption runs under a generated one.
		out := mustOK(t, sendOne(t, s, bob, v, batchItem(kmip.OperationEncrypt, uidItem(id), data(bytesOf(t, ct, kmip.TagData)), ctr.Clone())))
		if bytes.Equal(bytesOf(t, out, kmip.TagData), secret) || out.Child(kmip.TagIVCounterNonce) == nil {
			t.Fatal("bob's encryption without an IV returned the plaintext or no IV")
		}
		// A key whose usage mask lacks Decrypt: nobody chooses its IV.
		encOnly := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt), activeNow())
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(encOnly), data(secret), ctr.Clone(), iv.Clone())),
			kmip.ResultReasonPermissionDenied)
		// RC4 has no IV: its encryption is its decryption.
		rc4 := registerSymKey(t, s, v, kmip.CryptographicAlgorithmRC4, both.Clone(), activeNow(), policy.Clone())
		mustFail(t, sendOne(t, s, bob, v, batchItem(kmip.OperationEncrypt, uidItem(rc4), data(secret))), kmip.ResultReasonPermissionDenied)
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(rc4), data(secret))))
	}
}

// A MAC under parameters the key's contradict is refused; verifying one
// under them answers Invalid (OASIS CS-AC-M-3 verifies with another hash
// than the key's and expects Invalid).
func TestVerifyUnderForeignParamsIsInvalid(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	id := registerSymKey(t, s, v21, kmip.CryptographicAlgorithmHMAC_SHA256,
		mask(kmip.CryptographicUsageMaskMACGenerate, kmip.CryptographicUsageMaskMACVerify), activeNow(),
		cpItem(kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmHMAC_SHA256))))
	foreign := cpItem(kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmHMAC_SHA512)))
	msg := data([]byte("message"))
	mac := bytesOf(t, mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationMAC, uidItem(id), msg))), kmip.TagMACData)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationMAC, uidItem(id), msg.Clone(), foreign)), kmip.ResultReasonBadCryptographicParameters)
	verify := func(p *kmip.Item) kmip.ValidityIndicator {
		items := []*kmip.Item{uidItem(id), msg.Clone(), kmip.Bytes(kmip.TagMACData, mac)}
		if p != nil {
			items = append(items, p)
		}
		v, _ := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationMACVerify, items...))).Child(kmip.TagValidityIndicator).AsEnum()
		return kmip.ValidityIndicator(v)
	}
	if got := verify(nil); got != kmip.ValidityIndicatorValid {
		t.Fatalf("MAC Verify under the key's parameters: %s", got)
	}
	if got := verify(foreign.Clone()); got != kmip.ValidityIndicatorInvalid {
		t.Fatalf("MAC Verify under parameters the key's contradict: %s, want Invalid", got)
	}
}
