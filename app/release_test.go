package app

import (
	"testing"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// A Sensitive key leaves the server only encrypted under a wrapping key
// (issue 12.4): a MAC/Signature-only Key Wrapping Specification leaves it
// readable and is refused; Encrypt and Encrypt then MAC are served.
func TestSensitiveNeedsEncryptingWrap(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		s := newCryptoService()
		kek := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskWrapKey), activeNow())
		mk := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskMACGenerate), activeNow())
		sens := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt), kmip.Bool(kmip.TagSensitive, true))
		macInfo := kmip.Struct(kmip.TagMACSignatureKeyInformation, uidItem(mk))
		noEnc := kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding))
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(sens), wrapSpecItem(kmip.WrappingMethodMACSign, "", macInfo, noEnc))),
			kmip.ResultReasonSensitive)
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationExport, uidItem(sens), wrapSpecItem(kmip.WrappingMethodMACSign, "", macInfo, noEnc))),
			kmip.ResultReasonSensitive)
		out := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(sens),
			wrapSpecItem(kmip.WrappingMethodEncryptThenMACSign, kek, macInfo.Clone(), noEnc))))
		if out.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyWrappingData) == nil {
			t.Fatalf("%s: Encrypt then MAC of a Sensitive key returned no Key Wrapping Data", v)
		}
		// The same MAC-only wrapping of a key that is not Sensitive is served.
		plain := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt))
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(plain), wrapSpecItem(kmip.WrappingMethodMACSign, "", macInfo.Clone(), noEnc))))
	}
}

func TestEncryptsOnRelease(t *testing.T) {
	t.Parallel()
	macInfo := kmip.Struct(kmip.TagMACSignatureKeyInformation, uidItem("m"))
	for _, c := range []struct {
		name string
		spec *kmip.Item
		want bool
	}{
		{"none", nil, false},
		{"encrypt", wrapSpecItem(kmip.WrappingMethodEncrypt, "k"), true},
		{"encrypt then MAC", wrapSpecItem(kmip.WrappingMethodEncryptThenMACSign, "k", macInfo), true},
		{"MAC only", wrapSpecItem(kmip.WrappingMethodMACSign, "", macInfo), false},
		{"MAC only naming an encryption key", wrapSpecItem(kmip.WrappingMethodMACSign, "k", macInfo), false},
		{"encrypt without a key", wrapSpecItem(kmip.WrappingMethodEncrypt, ""), false},
		{"TR-31", wrapSpecItem(kmip.WrappingMethodTR_31, "k"), false},
	} {
		payload := kmip.Struct(kmip.TagRequestPayload, uidItem("x"))
		if c.spec != nil {
			payload.Add(c.spec)
		}
		req, err := codec.DecodeGet(payload)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := encryptsOnRelease(req); got != c.want {
			t.Errorf("%s: encryptsOnRelease %v, want %v", c.name, got, c.want)
		}
	}
}

// Splitting hands out the key in shares and wraps nothing: a Sensitive key
// is refused whatever the request carries, and a Key Wrapping
// Specification, which Create Split Key would not apply, is refused.
func TestSplitRefusesWrappingSpecification(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	kek := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskWrapKey), activeNow())
	split := func(id string, extra ...*kmip.Item) result {
		return sendOne(t, s, alice, v14, batchItem(kmip.OperationCreateSplitKey, append([]*kmip.Item{
			kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)), uidItem(id),
			kmip.Int(kmip.TagSplitKeyParts, 1), kmip.Int(kmip.TagSplitKeyThreshold, 1),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)), kmip.Struct(kmip.TagTemplateAttribute)}, extra...)...))
	}
	plain := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt))
	mustOK(t, split(plain))
	mustFail(t, split(plain, wrapSpecItem(kmip.WrappingMethodEncrypt, kek)), kmip.ResultReasonInvalidField)
	sens := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt), kmip.Bool(kmip.TagSensitive, true))
	mustFail(t, split(sens), kmip.ResultReasonSensitive)
	obj := storedObj(t, s, sens)
	if err := checkRelease(obj, false); err == nil {
		t.Fatal("checkRelease let a Sensitive key out unencrypted")
	}
}
