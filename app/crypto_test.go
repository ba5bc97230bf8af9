package app

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

func mask(bits ...kmip.CryptographicUsageMask) *kmip.Item {
	var m int32
	for _, b := range bits {
		m |= int32(b)
	}
	return kmip.Int(kmip.TagCryptographicUsageMask, m)
}

func activeNow() *kmip.Item { return kmip.DateTime(kmip.TagActivationDate, testNow.Add(-3600e9)) }

func cbc() *kmip.Item {
	return kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC)))
}

// aesKey creates an AES-128 key with the given extra attributes.
func aesKey(t *testing.T, s *Service, v version, extra ...*kmip.Item) string {
	t.Helper()
	vals := append([]*kmip.Item{
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
		kmip.Int(kmip.TagCryptographicLength, 128)}, extra...)
	return createdID(t, sendOne(t, s, alice, v, batchItem(kmip.OperationCreate,
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), attrsFor(v, vals...))))
}

func data(b []byte) *kmip.Item { return kmip.Bytes(kmip.TagData, b) }

func bytesOf(t *testing.T, payload *kmip.Item, tag kmip.Tag) []byte {
	t.Helper()
	b, ok := payload.Child(tag).AsBytes()
	if !ok {
		t.Fatalf("response has no %s: %v", tag.SpecName(), payload)
	}
	return b
}

// Usage checks: state, usage mask, object type, owner, by protocol version.
func TestCryptoUsageChecks(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		s := newCryptoService()
		pre := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt))
		decOnly := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskDecrypt), activeNow())
		state, usage := kmip.ResultReasonPermissionDenied, kmip.ResultReasonPermissionDenied
		if v.major >= 2 {
			state, usage = kmip.ResultReasonWrongKeyLifecycleState, kmip.ResultReasonIncompatibleCryptographicUsageMask
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(pre), data([]byte("x")))), state)
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(decOnly), data([]byte("x")))), usage)
		mustFail(t, sendOne(t, s, bob, v, batchItem(kmip.OperationDecrypt, uidItem(decOnly), data([]byte("x")))), kmip.ResultReasonPermissionDenied)
		notFound := kmip.ResultReasonItemNotFound
		if v.major >= 2 {
			notFound = kmip.ResultReasonObjectNotFound
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem("nope"), data([]byte("x")))), notFound)
		// A symmetric key cannot sign.
		typ := kmip.ResultReasonPermissionDenied
		if v.major >= 2 {
			typ = kmip.ResultReasonInvalidObjectType
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationSign, uidItem(decOnly), data([]byte("x")))), typ)
	}
	// A deactivated key processes protected data only with special
	// permission (KMIP 1.4 §3.22): a policy rule of its own for Decrypt.
	sk := uint32(kmip.ObjectTypeSymmetricKey)
	special := &domain.Policy{Name: "decrypt-after-deactivation", Preset: domain.Rules{sk: {
		uint32(kmip.OperationGet): domain.AllowOwner, uint32(kmip.OperationDecrypt): domain.AllowOwner,
		uint32(kmip.OperationRevoke): domain.AllowOwner,
	}}}
	s := New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow}, Policies: onePolicy{special}})
	both := mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt)
	plain := aesKey(t, s, v21, both, activeNow())
	granted := aesKey(t, s, v14, both, activeNow(), kmip.Text(kmip.TagOperationPolicyName, "decrypt-after-deactivation"))
	for _, id := range []string{plain, granted} {
		mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationRevoke, uidItem(id), kmip.Struct(kmip.TagRevocationReason,
			kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeCessationOfOperation))))))
		mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("new")))), kmip.ResultReasonWrongKeyLifecycleState)
	}
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationDecrypt, uidItem(plain), data([]byte("old")))), kmip.ResultReasonWrongKeyLifecycleState)
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationDecrypt, uidItem(granted), data([]byte("old")))))
	// Usage dates: no protection after the Protect Stop Date, no processing
	// before the Process Start Date (OASIS CS-BC-M-14).
	dated := aesKey(t, s, v14, both, activeNow(), kmip.DateTime(kmip.TagProtectStopDate, testNow.Add(-time.Hour)),
		kmip.DateTime(kmip.TagProcessStartDate, testNow.Add(time.Hour)))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(dated), data([]byte("x")))), kmip.ResultReasonPermissionDenied)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDecrypt, uidItem(dated), data([]byte("x")))), kmip.ResultReasonPermissionDenied)
}

// Protecting operations spend the key's Usage Limits (KMIP 1.4 §3.21; OASIS CS-BC-M-7).
func TestUsageLimits(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	limits := kmip.Struct(kmip.TagUsageLimits, kmip.Long(kmip.TagUsageLimitsTotal, 16),
		kmip.Enum(kmip.TagUsageLimitsUnit, uint32(kmip.UsageLimitsUnitByte)))
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow(), limits)
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), data(make([]byte, 10)))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), data(make([]byte, 10)))), kmip.ResultReasonPermissionDenied)
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), data(make([]byte, 6)))))
	// Processing does not spend the limits.
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDecrypt, uidItem(id), data(make([]byte, 32)))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), data(make([]byte, 1)))), kmip.ResultReasonPermissionDenied)
}

// The engine without optional capabilities answers Operation Not Supported.
func TestCryptoWithoutCapability(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt), activeNow())
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("x")))), kmip.ResultReasonOperationNotSupported)
}

// keyPair14 is a KMIP 1.4 Create Key Pair request.
func keyPair14(alg kmip.CryptographicAlgorithm, length int32, name string) *kmip.Item {
	return batchItem(kmip.OperationCreateKeyPair,
		kmip.Struct(kmip.TagCommonTemplateAttribute,
			attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(alg))),
			attribute1x("Cryptographic Length", kmip.Int(0, length)),
			attribute1x("Activation Date", activeNow())),
		kmip.Struct(kmip.TagPrivateKeyTemplateAttribute,
			attribute1x("Name", nameItem(name+"-private")),
			attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskSign)))),
		kmip.Struct(kmip.TagPublicKeyTemplateAttribute,
			attribute1x("Name", nameItem(name+"-public")),
			attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskVerify)))))
}

func pairIDs(t *testing.T, p *kmip.Item) (priv, pub string) {
	t.Helper()
	priv, ok1 := p.Child(kmip.TagPrivateKeyUniqueIdentifier).AsText()
	pub, ok2 := p.Child(kmip.TagPublicKeyUniqueIdentifier).AsText()
	if !ok1 || !ok2 {
		t.Fatalf("no key pair identifiers in %v", p)
	}
	return priv, pub
}

func linkTo(o *domain.Object, lt kmip.LinkType) string {
	for _, l := range o.AttrValuesOf(kmip.TagLink) {
		if t, _ := l.Child(kmip.TagLinkType).AsEnum(); t == uint32(lt) {
			id, _ := l.Child(kmip.TagLinkedObjectIdentifier).AsText()
			return id
		}
	}
	return ""
}

func nameOf(o *domain.Object) string {
	n, _ := o.AttrOf(kmip.TagName).Child(kmip.TagNameValue).AsText()
	return n
}

func TestRNGAndHash(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRNGRetrieve, kmip.Int(kmip.TagDataLength, 32))))
	if len(bytesOf(t, out, kmip.TagData)) != 32 {
		t.Fatal("RNG Retrieve returned the wrong length")
	}
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRNGRetrieve)), kmip.ResultReasonMissingData)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRNGRetrieve, kmip.Int(kmip.TagDataLength, -1))), kmip.ResultReasonInvalidField)
	out = mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRNGSeed, data([]byte("seedseed")))))
	if n, _ := out.Child(kmip.TagDataLength).AsInt(); n != 8 {
		t.Fatalf("RNG Seed used %d bytes", n)
	}
	sha := kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256)))
	want := sha256.Sum256([]byte("abcdef"))
	out = mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationHash, sha, data([]byte("abcdef")))))
	if !bytes.Equal(bytesOf(t, out, kmip.TagData), want[:]) {
		t.Fatal("Hash wrong")
	}
	p1 := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationHash, sha, data([]byte("abc")), kmip.Bool(kmip.TagInitIndicator, true))))
	p2 := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationHash, sha, data([]byte("def")),
		kmip.Bytes(kmip.TagCorrelationValue, bytesOf(t, p1, kmip.TagCorrelationValue)), kmip.Bool(kmip.TagFinalIndicator, true))))
	if !bytes.Equal(bytesOf(t, p2, kmip.TagData), want[:]) {
		t.Fatal("streamed Hash wrong")
	}
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationHash, data([]byte("x")))), kmip.ResultReasonMissingData)
}
