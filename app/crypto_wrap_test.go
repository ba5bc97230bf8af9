package app

import (
	"bytes"
	"context"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

func keyMaterial(t *testing.T, s *Service, id string) []byte {
	t.Helper()
	b, ok := storedObj(t, s, id).Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	if !ok {
		t.Fatal("no key material")
	}
	return b
}

func wrapSpecItem(method kmip.WrappingMethod, encID string, more ...*kmip.Item) *kmip.Item {
	ws := kmip.Struct(kmip.TagKeyWrappingSpecification, kmip.Enum(kmip.TagWrappingMethod, uint32(method)))
	if encID != "" {
		ws.Add(kmip.Struct(kmip.TagEncryptionKeyInformation, uidItem(encID),
			kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeNISTKeyWrap)))))
	}
	return ws.Add(more...)
}

func TestGetWrapped(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		s := newCryptoService()
		kek := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskWrapKey, kmip.CryptographicUsageMaskUnwrapKey), activeNow())
		target := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt))
		noEnc := kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding))
		out := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(target), wrapSpecItem(kmip.WrappingMethodEncrypt, kek, noEnc))))
		kb := out.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock)
		wd := kb.Child(kmip.TagKeyWrappingData)
		if m, _ := wd.Child(kmip.TagWrappingMethod).AsEnum(); m != uint32(kmip.WrappingMethodEncrypt) {
			t.Fatalf("%s: no Key Wrapping Data: %v", v, kb)
		}
		if id, _ := wd.Path(kmip.TagEncryptionKeyInformation, kmip.TagUniqueIdentifier).AsText(); id != kek {
			t.Fatal("Encryption Key Information does not name the wrapping key")
		}
		wrapped, _ := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		if want := xorWith(keyMaterial(t, s, kek), keyMaterial(t, s, target)); !bytes.Equal(wrapped, want) {
			t.Fatal("the Key Material is not the wrapped key")
		}
		if e, _ := wd.Child(kmip.TagEncodingOption).AsEnum(); e != uint32(kmip.EncodingOptionNoEncoding) {
			t.Fatal("Encoding Option not echoed")
		}
		// TTLV encoding (the default) wraps the whole Key Value, with attributes.
		out = mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(target), wrapSpecItem(kmip.WrappingMethodEncrypt, kek,
			kmip.Text(kmip.TagAttributeName, "Cryptographic Usage Mask")))))
		kv := out.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue)
		wrappedKV, ok := kv.AsBytes()
		if !ok {
			t.Fatal("a TTLV-encoded wrapped Key Value must be a Byte String")
		}
		clear := xorWith(keyMaterial(t, s, kek), wrappedKV)
		if !bytes.Contains(clear, keyMaterial(t, s, target)) || clear[0] != 0x42 || clear[2] != byte(kmip.TagKeyValue&0xff) {
			t.Fatal("the wrapped value is not the TTLV-encoded Key Value")
		}
		// The refusals the seed lists.
		noWrapBit := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt), activeNow())
		want := kmip.ResultReasonPermissionDenied
		if v.major >= 2 {
			want = kmip.ResultReasonIncompatibleCryptographicUsageMask
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(target), wrapSpecItem(kmip.WrappingMethodEncrypt, noWrapBit, noEnc))), want)
		want = kmip.ResultReasonItemNotFound
		if v.major >= 2 {
			want = kmip.ResultReasonWrappingObjectNotFound
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(target), wrapSpecItem(kmip.WrappingMethodEncrypt, "missing", noEnc))), want)
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(target), wrapSpecItem(kmip.WrappingMethodEncrypt, kek, noEnc,
			kmip.Text(kmip.TagAttributeName, "Name")))), kmip.ResultReasonEncodingOptionError)
		mustFail(t, sendOne(t, s, bob, v, batchItem(kmip.OperationGet, uidItem(target), wrapSpecItem(kmip.WrappingMethodEncrypt, kek, noEnc))), kmip.ResultReasonPermissionDenied)
		// Key Wrap Type Not Supported is a KMIP 2.0 reason; KMIP 1.4 §11.12
		// (Table 338) answers an unsupported Key Wrap Type with "Not Supported".
		want = kmip.ResultReasonFeatureNotSupported
		if v.major >= 2 {
			want = kmip.ResultReasonKeyWrapTypeNotSupported
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(target), wrapSpecItem(kmip.WrappingMethodTR_31, kek))), want)
	}
}

func TestGetWrappedWithMAC(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	kek := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskWrapKey), activeNow())
	mk := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskMACGenerate), activeNow())
	target := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt))
	out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(target),
		wrapSpecItem(kmip.WrappingMethodEncryptThenMACSign, kek, kmip.Struct(kmip.TagMACSignatureKeyInformation, uidItem(mk)),
			kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding))))))
	kb := out.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock)
	wrapped, _ := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	tag, _ := kb.Path(kmip.TagKeyWrappingData, kmip.TagMACSignature).AsBytes()
	if !bytes.Equal(tag, toyMAC(keyMaterial(t, s, mk), wrapped)) {
		t.Fatal("MAC/Signature is not the MAC of the wrapped key")
	}
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(target), wrapSpecItem(kmip.WrappingMethodEncryptThenMACSign, kek))), kmip.ResultReasonInvalidField)
}

// A key registered wrapped is stored and returned as given, can be
// unwrapped on request, and cannot be used by the server as it is.
func TestRegisterWrappedKey(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	kek := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskWrapKey, kmip.CryptographicUsageMaskUnwrapKey), activeNow())
	clear := []byte("0123456789abcdef")
	wrapped := xorWith(keyMaterial(t, s, kek), clear)
	wd := kmip.Struct(kmip.TagKeyWrappingData, kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt)),
		kmip.Struct(kmip.TagEncryptionKeyInformation, uidItem(kek)),
		kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding)))
	key := kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, wrapped)),
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
		kmip.Int(kmip.TagCryptographicLength, 128), wd))
	id := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		attrsFor(v14, mask(kmip.CryptographicUsageMaskEncrypt), activeNow()), key)))
	out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id), kmip.Enum(kmip.TagKeyWrapType, uint32(kmip.KeyWrapTypeAsRegistered)))))
	if !out.Child(kmip.TagSymmetricKey).Equal(key) {
		t.Fatal("the wrapped key was not returned as registered")
	}
	out = mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id), kmip.Enum(kmip.TagKeyWrapType, uint32(kmip.KeyWrapTypeNotWrapped)))))
	kb := out.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock)
	if got, _ := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(got, clear) || kb.Child(kmip.TagKeyWrappingData) != nil {
		t.Fatal("Not Wrapped did not unwrap the key")
	}
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("x")))), kmip.ResultReasonKeyValueNotPresent)
	bad := key.Clone()
	bad.Child(kmip.TagKeyBlock).Child(kmip.TagKeyWrappingData).Value = []*kmip.Item{kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt))}
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), bad)), kmip.ResultReasonInvalidField)
}

func TestWrapSensitiveAndNonExtractable(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	kek := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskWrapKey), activeNow())
	sens := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskEncrypt), kmip.Bool(kmip.TagSensitive, true))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGet, uidItem(sens))), kmip.ResultReasonSensitive)
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGet, uidItem(sens), wrapSpecItem(kmip.WrappingMethodEncrypt, kek))))
	noExt := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskEncrypt), kmip.Bool(kmip.TagExtractable, false))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGet, uidItem(noExt), wrapSpecItem(kmip.WrappingMethodEncrypt, kek))), kmip.ResultReasonNotExtractable)
}

func TestDeriveKey(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		s := newCryptoService()
		base := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskDeriveKey), activeNow())
		params := kmip.Struct(kmip.TagDerivationParameters,
			kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))),
			kmip.Bytes(kmip.TagDerivationData, []byte("context")))
		derive := func(who domain.Principal, id string, length int32) result {
			return sendOne(t, s, who, v, batchItem(kmip.OperationDeriveKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
				uidItem(id), kmip.Enum(kmip.TagDerivationMethod, uint32(kmip.DerivationMethodHMAC)), params.Clone(),
				attrsFor(v, kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
					kmip.Int(kmip.TagCryptographicLength, length), mask(kmip.CryptographicUsageMaskEncrypt))))
		}
		id := createdID(t, derive(alice, base, 128))
		d, b := storedObj(t, s, id), storedObj(t, s, base)
		if linkTo(d, kmip.LinkTypeDerivationBaseObjectLink) != base || linkTo(b, kmip.LinkTypeDerivedKeyLink) != id {
			t.Fatal("derivation links wrong")
		}
		if !bytes.Equal(keyMaterial(t, s, id), toyMAC(keyMaterial(t, s, base), []byte("context"))[:16]) {
			t.Fatal("derived material wrong")
		}
		if l, _ := d.AttrOf(kmip.TagCryptographicLength).AsInt(); l != 128 {
			t.Fatal("derived key length attribute")
		}
		// The seed's errors.
		mustFail(t, derive(bob, base, 128), kmip.ResultReasonPermissionDenied)
		mustFail(t, derive(alice, base, 512), kmip.ResultReasonCryptographicFailure)
		noBit := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt), activeNow())
		want := kmip.ResultReasonInvalidField
		if v.major >= 2 {
			want = kmip.ResultReasonIncompatibleCryptographicUsageMask
		}
		mustFail(t, derive(alice, noBit, 128), want)
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDeriveKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			uidItem(base), kmip.Enum(kmip.TagDerivationMethod, uint32(kmip.DerivationMethodHMAC)), params.Clone(),
			attrsFor(v, kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES))))), kmip.ResultReasonInvalidField)
	}
}

// A policy with rules for a cryptographic operation governs it by that rule;
// otherwise the Get rule does.
type onePolicy struct{ p *domain.Policy }

func (o onePolicy) Policy(_ context.Context, name string) (*domain.Policy, bool) {
	if name == o.p.Name {
		return o.p, true
	}
	p := domain.ReservedPolicy(name)
	return p, p != nil
}

func TestCryptoAccessRule(t *testing.T) {
	t.Parallel()
	sk := uint32(kmip.ObjectTypeSymmetricKey)
	shared := &domain.Policy{Name: "shared-encrypt", Preset: domain.Rules{sk: {
		uint32(kmip.OperationGet): domain.AllowOwner, uint32(kmip.OperationEncrypt): domain.AllowAll,
	}}}
	s := New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow}, Policies: onePolicy{shared}})
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow(),
		kmip.Text(kmip.TagOperationPolicyName, "shared-encrypt"))
	mustOK(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("x")))))
	// Decrypt has no rule in the policy: the Get rule (owner only) applies.
	mustFail(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationDecrypt, uidItem(id), data([]byte("x")))), kmip.ResultReasonPermissionDenied)
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDecrypt, uidItem(id), data([]byte("x")))))
	mustFail(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationGet, uidItem(id))), kmip.ResultReasonPermissionDenied)
}
