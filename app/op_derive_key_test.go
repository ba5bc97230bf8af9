package app

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

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

// TestDeriveFromPreActiveRefused: a Pre-Active key "SHALL NOT be used for
// any cryptographic purpose" (KMIP 1.4 §3.22, KMIP 2.1 §3.31), so Derive
// Key from one is refused at every version, with a message that says to
// Activate it first; once Activated the same derivation succeeds.
func TestDeriveFromPreActiveRefused(t *testing.T) {
	t.Parallel()
	for _, v := range allVersions {
		s := newCryptoService()
		base := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskDeriveKey))
		derive := func() *kmip.Item {
			resp, _ := send(t, s, alice, msg(v, batchItem(kmip.OperationDeriveKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
				uidItem(base), kmip.Enum(kmip.TagDerivationMethod, uint32(kmip.DerivationMethodHMAC)),
				kmip.Struct(kmip.TagDerivationParameters,
					kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))),
					kmip.Bytes(kmip.TagDerivationData, []byte("context"))),
				attrsFor(v, kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
					kmip.Int(kmip.TagCryptographicLength, 128), mask(kmip.CryptographicUsageMaskEncrypt)))))
			return resp.Child(kmip.TagBatchItem)
		}
		item := derive()
		want := kmip.ResultReasonInvalidField // KMIP 1.4 §11.7
		if v.major >= 2 {
			want = kmip.ResultReasonWrongKeyLifecycleState
		}
		if r, _ := item.Child(kmip.TagResultReason).AsEnum(); kmip.ResultReason(r) != want {
			t.Fatalf("%s: derive from a Pre-Active key: reason %s, want %s", v, kmip.ResultReason(r), want)
		}
		if m, _ := item.Child(kmip.TagResultMessage).AsText(); !strings.Contains(m, "Pre-Active") || !strings.Contains(m, "Activate it first") {
			t.Errorf("%s: message %q does not say to Activate the key first", v, m)
		}
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationActivate, uidItem(base))))
		if st, _ := derive().Child(kmip.TagResultStatus).AsEnum(); kmip.ResultStatus(st) != kmip.ResultStatusSuccess {
			t.Errorf("%s: derive after Activate failed", v)
		}
	}
}
