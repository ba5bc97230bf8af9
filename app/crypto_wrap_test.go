package app

import (
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
