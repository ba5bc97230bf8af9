package attacker

import (
	"bytes"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// aliceSensitive makes alice's Sensitive 256-bit AES key under "shared", so
// bob holds Get rights on it but no right to see it in the clear.
func aliceSensitive(t *testing.T, tg *target) string {
	t.Helper()
	return createAES(t, tg.alice, "shared", kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt,
		kmipclient.Attribute("Sensitive", kmip.Bool(0, true)))
}

// clearKeyMaterial returns the Key Material of a Get response's symmetric key or
// split key, nil when there is none in the clear.
func clearKeyMaterial(out *kmip.Item) []byte {
	for _, tag := range []kmip.Tag{kmip.TagSymmetricKey, kmip.TagSplitKey} {
		if b, ok := out.Path(tag, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); ok {
			return b
		}
	}
	return nil
}

// TestSensitiveNotReleasedByMACOnlyWrapping: a Key Wrapping Specification
// that only MACs the key (with bob's own HMAC key) leaves it in the clear,
// so a Sensitive key is refused; an encrypting wrapping is still served.
func TestSensitiveNotReleasedByMACOnlyWrapping(t *testing.T) {
	tg := start(t, harness.Options{})
	victim := aliceSensitive(t, tg)
	macKey := createAES(t, tg.bob, "", kmip.CryptographicUsageMaskMACGenerate)
	harness.Call(t, tg.bob, kmip.OperationActivate, uid(macKey))
	payload := []*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		kmip.Struct(kmip.TagTemplateAttribute,
			kmipclient.Attribute("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmHMAC_SHA256))),
			kmipclient.Attribute("Cryptographic Length", kmip.Int(0, 256)),
			kmipclient.Attribute("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskMACGenerate))))}
	hmacKey, _ := harness.Call(t, tg.bob, kmip.OperationCreate, payload...).Child(kmip.TagUniqueIdentifier).AsText()
	harness.Call(t, tg.bob, kmip.OperationActivate, uid(hmacKey))

	for _, mk := range []string{hmacKey, macKey} {
		spec := kmip.Struct(kmip.TagKeyWrappingSpecification,
			kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodMACSign)),
			kmip.Struct(kmip.TagMACSignatureKeyInformation, uid(mk)),
			kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding)))
		out, err := tg.bob.Call(kmip.OperationGet, uid(victim), spec)
		if err == nil {
			t.Fatalf("bob got alice's Sensitive key with a MAC-only wrapping (clear material: %v)", clearKeyMaterial(out) != nil)
		}
		if reason(err) != kmip.ResultReasonSensitive {
			t.Errorf("MAC-only wrapping of a Sensitive key: %v, want Sensitive", err)
		}
	}

	// Wrapping by encryption under bob's own key is what Sensitive allows.
	kek := createAES(t, tg.bob, "", kmip.CryptographicUsageMaskWrapKey)
	harness.Call(t, tg.bob, kmip.OperationActivate, uid(kek))
	spec := kmip.Struct(kmip.TagKeyWrappingSpecification,
		kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt)),
		kmip.Struct(kmip.TagEncryptionKeyInformation, uid(kek),
			kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeNISTKeyWrap)))),
		kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding)))
	out := harness.Call(t, tg.bob, kmip.OperationGet, uid(victim), spec)
	if out.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyWrappingData) == nil {
		t.Fatal("an encrypting wrapping of a Sensitive key returned no Key Wrapping Data")
	}
}

// TestSensitiveNotReleasedBySplitting: splitting hands out the key in
// shares (a 1-of-1 XOR share is the key itself); a Sensitive key is never
// split, and a Key Wrapping Specification, which splitting does not apply,
// is refused rather than taken as a licence.
func TestSensitiveNotReleasedBySplitting(t *testing.T) {
	tg := start(t, harness.Options{})
	victim := aliceSensitive(t, tg)
	kek := createAES(t, tg.bob, "", kmip.CryptographicUsageMaskWrapKey)
	spec := kmip.Struct(kmip.TagKeyWrappingSpecification,
		kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt)),
		kmip.Struct(kmip.TagEncryptionKeyInformation, uid(kek)))
	split := func(extra ...*kmip.Item) (*kmip.Item, error) {
		payload := append([]*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)), uid(victim),
			kmip.Int(kmip.TagSplitKeyParts, 1), kmip.Int(kmip.TagSplitKeyThreshold, 1),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)), kmip.Struct(kmip.TagTemplateAttribute)}, extra...)
		return tg.bob.Call(kmip.OperationCreateSplitKey, payload...)
	}
	for name, extra := range map[string][]*kmip.Item{"with a wrapping specification": {spec}, "without": nil} {
		out, err := split(extra...)
		if err == nil {
			share, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
			got := clearKeyMaterial(harness.Call(t, tg.bob, kmip.OperationGet, uid(share)))
			t.Fatalf("split %s: bob split alice's Sensitive key (share readable: %v)", name, got != nil)
		}
		if r := reason(err); r != kmip.ResultReasonSensitive && r != kmip.ResultReasonInvalidField {
			t.Errorf("split %s: %v, want Sensitive or Invalid Field", name, err)
		}
	}

	// A key bob may read in the clear still splits, and its 1-of-1 share is the key.
	plain := createAES(t, tg.alice, "shared", kmip.CryptographicUsageMaskEncrypt)
	out, err := tg.bob.Call(kmip.OperationCreateSplitKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)), uid(plain),
		kmip.Int(kmip.TagSplitKeyParts, 1), kmip.Int(kmip.TagSplitKeyThreshold, 1),
		kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)), kmip.Struct(kmip.TagTemplateAttribute))
	if err != nil {
		t.Fatalf("split of a readable key: %v", err)
	}
	share, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	if !bytes.Equal(clearKeyMaterial(harness.Call(t, tg.bob, kmip.OperationGet, uid(share))), clearKeyMaterial(harness.Call(t, tg.bob, kmip.OperationGet, uid(plain)))) {
		t.Error("the 1-of-1 XOR share of a readable key is not the key")
	}
}
