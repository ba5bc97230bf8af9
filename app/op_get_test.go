package app

import (
	"bytes"
	"crypto/elliptic"
	"crypto/x509"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Get converts to the requested Key Format Type, compresses EC public
// points on request, and refuses what has no conversion.
func TestGetKeyFormatConversion(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	s := newService(t)
	priv := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypePrivateKey,
		kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_1, keyBytes(x509.MarshalPKCS1PrivateKey(k.rsa)))))))
	spki, _ := x509.MarshalPKIXPublicKey(&k.ec.PublicKey)
	ecPub := createdID(t, sendOne(t, s, alice, v21, register21(kmip.ObjectTypePublicKey,
		kmip.Struct(kmip.TagPublicKey, keyBlock(kmip.KeyFormatTypeX_509, keyBytes(spki))))))

	get := func(v version, id string, extra ...*kmip.Item) result {
		return sendOne(t, s, alice, v, batchItem(kmip.OperationGet, append([]*kmip.Item{uidItem(id)}, extra...)...))
	}
	format := func(f kmip.KeyFormatType) *kmip.Item { return kmip.Enum(kmip.TagKeyFormatType, uint32(f)) }
	compression := func(c kmip.KeyCompressionType) *kmip.Item { return kmip.Enum(kmip.TagKeyCompressionType, uint32(c)) }

	kb := mustOK(t, get(v14, priv, format(kmip.KeyFormatTypePKCS_8))).Path(kmip.TagPrivateKey, kmip.TagKeyBlock)
	if f, _ := kb.Child(kmip.TagKeyFormatType).AsEnum(); kmip.KeyFormatType(f) != kmip.KeyFormatTypePKCS_8 {
		t.Fatalf("Key Format Type %s, want PKCS_8", kmip.KeyFormatType(f))
	}
	der, _ := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	back, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil || !k.rsa.Equal(back) {
		t.Fatalf("PKCS#8 answer is not the registered key (%v)", err)
	}
	kb = mustOK(t, get(v14, priv, format(kmip.KeyFormatTypeTransparentRSAPrivateKey))).Path(kmip.TagPrivateKey, kmip.TagKeyBlock)
	if n, _ := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial, kmip.TagModulus).AsBig(); n == nil || n.Cmp(k.rsa.N) != 0 {
		t.Errorf("Transparent RSA Private Key has the wrong Modulus")
	}

	kb = mustOK(t, get(v21, ecPub, format(kmip.KeyFormatTypeTransparentECPublicKey),
		compression(kmip.KeyCompressionTypeECPublicKeyTypeX9_62CompressedPrime))).Path(kmip.TagPublicKey, kmip.TagKeyBlock)
	q, _ := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial, kmip.TagQString).AsBytes()
	if len(q) != 33 || (q[0] != 2 && q[0] != 3) {
		t.Errorf("Q String is not a compressed P-256 point (%d bytes)", len(q))
	}
	if c, _ := kb.Child(kmip.TagKeyCompressionType).AsEnum(); kmip.KeyCompressionType(c) != kmip.KeyCompressionTypeECPublicKeyTypeX9_62CompressedPrime {
		t.Errorf("Key Block does not record the compression")
	}

	// A point registered compressed comes back uncompressed on request.
	compressed := createdID(t, sendOne(t, s, alice, v21, register21(kmip.ObjectTypePublicKey, kmip.Struct(kmip.TagPublicKey,
		kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeTransparentECPublicKey)),
			compression(kmip.KeyCompressionTypeECPublicKeyTypeX9_62CompressedPrime),
			kmip.Struct(kmip.TagKeyValue, kmip.Struct(kmip.TagKeyMaterial,
				kmip.Enum(kmip.TagRecommendedCurve, uint32(kmip.RecommendedCurveP_256)),
				kmip.Bytes(kmip.TagQString, elliptic.MarshalCompressed(elliptic.P256(), k.ec.X, k.ec.Y)))))))))
	kb = mustOK(t, get(v21, compressed, compression(kmip.KeyCompressionTypeECPublicKeyTypeUncompressed))).Path(kmip.TagPublicKey, kmip.TagKeyBlock)
	if q, _ := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial, kmip.TagQString).AsBytes(); len(q) != 65 || q[0] != 4 {
		t.Errorf("Q String is not an uncompressed P-256 point (%d bytes)", len(q))
	}
	if c, _ := kb.Child(kmip.TagKeyCompressionType).AsEnum(); kmip.KeyCompressionType(c) != kmip.KeyCompressionTypeECPublicKeyTypeUncompressed {
		t.Errorf("Key Block says compression %s", kmip.KeyCompressionType(c))
	}

	mustFail(t, get(v14, priv, format(kmip.KeyFormatTypeX_509)), kmip.ResultReasonKeyFormatTypeNotSupported)
	mustFail(t, get(v14, priv, format(kmip.KeyFormatTypePKCS_12)), kmip.ResultReasonKeyFormatTypeNotSupported)
	mustFail(t, get(v21, ecPub, compression(kmip.KeyCompressionTypeECPublicKeyTypeX9_62CompressedPrime)), kmip.ResultReasonKeyCompressionTypeNotSupported)
	mustFail(t, get(v21, ecPub, compression(kmip.KeyCompressionTypeECPublicKeyTypeX9_62CompressedChar2)), kmip.ResultReasonKeyCompressionTypeNotSupported)
	mustFail(t, get(v14, priv, compression(kmip.KeyCompressionTypeECPublicKeyTypeUncompressed)), kmip.ResultReasonKeyCompressionTypeNotSupported)
	cert := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeCertificate, k.certificate())))
	mustFail(t, get(v14, cert, format(kmip.KeyFormatTypeRaw)), kmip.ResultReasonKeyFormatTypeNotSupported)
}

// Get refuses what it cannot do with the reasons the reference lists: a
// format it cannot convert to, key compression, and an incomplete Key
// Wrapping Specification.
func TestGetRefusals(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id),
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id),
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypePKCS_8)))), kmip.ResultReasonKeyFormatTypeNotSupported)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id),
		kmip.Enum(kmip.TagKeyCompressionType, uint32(kmip.KeyCompressionTypeECPublicKeyTypeUncompressed)))),
		kmip.ResultReasonKeyCompressionTypeNotSupported)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id),
		kmip.Struct(kmip.TagKeyWrappingSpecification, kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt))))),
		kmip.ResultReasonInvalidField)
	mustFail(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationGet, uidItem(id))), kmip.ResultReasonPermissionDenied)
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
