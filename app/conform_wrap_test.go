package app

import (
	"bytes"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// TestWrappedKeyValueAsByteString: KMIP 1.1-1.4 §2.1.4 lets a wrapped Key
// Value be a Byte String, "the wrapped un-encoded value of the Byte String
// Key Material field" with Encoding Option No Encoding. A key registered so
// at 1.1 or 1.2 comes back as registered and can be unwrapped (Key Wrap Type
// Not Wrapped, 1.4).
func TestWrappedKeyValueAsByteString(t *testing.T) {
	t.Parallel()
	for _, v := range []version{{1, 1}, {1, 2}} {
		s := newCryptoService()
		kek := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskWrapKey, kmip.CryptographicUsageMaskUnwrapKey), activeNow())
		clear := []byte("0123456789abcdef")
		wrapped := xorWith(keyMaterial(t, s, kek), clear)
		key := kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
			kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
			kmip.Bytes(kmip.TagKeyValue, wrapped),
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
			kmip.Int(kmip.TagCryptographicLength, 128),
			kmip.Struct(kmip.TagKeyWrappingData, kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt)),
				kmip.Struct(kmip.TagEncryptionKeyInformation, uidItem(kek)),
				kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding)))))
		id := createdID(t, sendOne(t, s, alice, v, register(kmip.ObjectTypeSymmetricKey, key.Clone(),
			attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskEncrypt))))))
		out := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))))
		if !out.Child(kmip.TagSymmetricKey).Equal(key) {
			t.Errorf("%s: the Byte String wrapped key was not returned as registered", v)
		}
		out = mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id), kmip.Enum(kmip.TagKeyWrapType, uint32(kmip.KeyWrapTypeNotWrapped)))))
		kb := out.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock)
		if got, _ := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(got, clear) || kb.Child(kmip.TagKeyWrappingData) != nil {
			t.Errorf("%s: Not Wrapped did not unwrap the Byte String Key Value", v)
		}

	}
}

// TestNoEncodingWrapByVersion: a Get wrapping with Encoding Option No
// Encoding answers, at KMIP 1.1-1.3, a Byte String Key Value that is the
// wrapped Key Material (KMIP 1.1-1.4 §2.1.4; the 1.1-1.3 test cases,
// TC-141-11: "<KeyValue type="ByteString" .../>"); at 1.4 and 2.x the Key
// Value structure holding the wrapped Key Material, as TC-WRAP-1-14 records.
func TestNoEncodingWrapByVersion(t *testing.T) {
	t.Parallel()
	for _, v := range []version{{1, 1}, {1, 2}, {1, 3}, v14, {2, 0}, v21} {
		s := newCryptoService()
		kek := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskWrapKey), activeNow())
		plain := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt))
		got := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(plain),
			wrapSpecItem(kmip.WrappingMethodEncrypt, kek, kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding))))))
		kb := got.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock)
		want := xorWith(keyMaterial(t, s, kek), keyMaterial(t, s, plain))
		kv := kb.Child(kmip.TagKeyValue)
		var wrapped []byte
		if v.major == 1 && v.minor < 4 {
			b, ok := kv.AsBytes()
			if !ok {
				t.Errorf("%s: the No Encoding wrapped Key Value is a %s, want a Byte String", v, kv.Type)
				continue
			}
			wrapped = b
		} else {
			if kv == nil || kv.Type != kmip.TypeStructure {
				t.Errorf("%s: the No Encoding wrapped Key Value is not a structure", v)
				continue
			}
			wrapped, _ = kv.Child(kmip.TagKeyMaterial).AsBytes()
		}
		if !bytes.Equal(wrapped, want) {
			t.Errorf("%s: the wrapped Key Value is not the wrapped Key Material", v)
		}
		if e, _ := kb.Path(kmip.TagKeyWrappingData, kmip.TagEncodingOption).AsEnum(); e != uint32(kmip.EncodingOptionNoEncoding) {
			t.Errorf("%s: Encoding Option not echoed in the Key Wrapping Data", v)
		}
	}
}
