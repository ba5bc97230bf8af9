package app

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// keeperFake is an engine that keeps keys, as an HSM does: it holds the
// material itself, hands out references, and releases material only when
// extractable. Operations resolve references and run cryptoFake's toy
// algorithms. The PKCS#11 engine on a real SoftHSM2 token runs the same
// paths in test/interop and adapters/crypto/pkcs11.
type keeperFake struct {
	cryptoFake
	extractable bool

	mu      sync.Mutex
	keys    map[string][]byte
	next    int
	imports int
}

var _ ports.KeyKeeper = (*keeperFake)(nil)

func newKeeperFake(extractable bool) *keeperFake {
	return &keeperFake{extractable: extractable, keys: map[string][]byte{}}
}

func (f *keeperFake) keep(material []byte) ports.Key {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	ref := fmt.Sprintf("ref-%d", f.next)
	f.keys[ref] = bytes.Clone(material)
	return ports.Key{Ref: ref, NonExtractable: !f.extractable}
}

func (f *keeperFake) resolve(h ports.KeyHandle) (ports.KeyHandle, error) {
	if h.Ref == "" {
		return h, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.keys[h.Ref]
	if !ok {
		return h, &ports.KeyMaterialError{ID: h.ID, Ref: h.Ref}
	}
	h.Material = m
	return h, nil
}

func (f *keeperFake) held(ref string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.keys[ref]
	return ok
}

func (f *keeperFake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.keys)
}

func (f *keeperFake) GenerateSymmetricKey(ctx context.Context, s ports.SymmetricKeySpec) (ports.Key, error) {
	k, err := f.cryptoFake.GenerateSymmetricKey(ctx, s)
	if err != nil {
		return k, err
	}
	return f.keep(k.Material), nil
}

func (f *keeperFake) GenerateKeyPair(ctx context.Context, s ports.KeyPairSpec) (ports.KeyPair, error) {
	kp, err := f.cryptoFake.GenerateKeyPair(ctx, s)
	if err != nil {
		return kp, err
	}
	priv := f.keep(kp.Private.Material)
	priv.Format = kp.Private.Format
	pub := f.keep(kp.Public.Material)
	pub.Material, pub.Format = kp.Public.Material, kp.Public.Format
	return ports.KeyPair{Private: priv, Public: pub}, nil
}

func (f *keeperFake) ImportKey(_ context.Context, s ports.ImportSpec) (ports.Key, error) {
	f.mu.Lock()
	f.imports++
	f.mu.Unlock()
	return f.keep(s.Material), nil
}

func (f *keeperFake) ExportKey(_ context.Context, h ports.KeyHandle) (ports.Key, error) {
	r, err := f.resolve(h)
	if err != nil {
		return ports.Key{}, err
	}
	if !f.extractable {
		return ports.Key{}, ports.ErrNotExtractable
	}
	return ports.Key{Material: r.Material, Format: uint32(kmip.KeyFormatTypeRaw)}, nil
}

func (f *keeperFake) DestroyKey(_ context.Context, h ports.KeyHandle) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys, h.Ref)
	return nil
}

func (f *keeperFake) Encrypt(ctx context.Context, h ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput) (ports.CipherOutput, error) {
	h, err := f.resolve(h)
	if err != nil {
		return ports.CipherOutput{}, err
	}
	return f.cryptoFake.Encrypt(ctx, h, p, in)
}

func (f *keeperFake) Decrypt(ctx context.Context, h ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput) (ports.CipherOutput, error) {
	h, err := f.resolve(h)
	if err != nil {
		return ports.CipherOutput{}, err
	}
	return f.cryptoFake.Decrypt(ctx, h, p, in)
}

func (f *keeperFake) Sign(ctx context.Context, h ports.KeyHandle, p ports.CryptoParams, data []byte, digested bool) ([]byte, error) {
	h, err := f.resolve(h)
	if err != nil {
		return nil, err
	}
	return f.cryptoFake.Sign(ctx, h, p, data, digested)
}

func (f *keeperFake) Verify(ctx context.Context, h ports.KeyHandle, p ports.CryptoParams, data []byte, digested bool, sig []byte) (bool, error) {
	h, err := f.resolve(h)
	if err != nil {
		return false, err
	}
	return f.cryptoFake.Verify(ctx, h, p, data, digested, sig)
}

func newKeeperService(f *keeperFake) *Service {
	return New(Config{Store: newMemStore(), Crypto: f, Clock: fixedClock{testNow}})
}

func boolAttr(t *testing.T, o *domain.Object, name string) bool {
	t.Helper()
	v, ok := o.Attr(name).AsBool()
	if !ok {
		t.Fatalf("%s has no %s", o.ID, name)
	}
	return v
}

// TestKeptKeyCreateUseGetDestroy: a key an HSM generates is stored as a
// reference without a Key Value, is used through the engine, is refused by
// Get when it may not leave, and Destroy removes it from the HSM.
func TestKeptKeyCreateUseGetDestroy(t *testing.T) {
	t.Parallel()
	for _, v := range []version{{1, 2}, v14, v21} {
		f := newKeeperFake(false)
		s := newKeeperService(f)
		id := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
		o := storedObj(t, s, id)
		if o.KeyRef == "" || !f.held(o.KeyRef) {
			t.Fatalf("%s: stored KeyRef %q is not a key the engine holds", v, o.KeyRef)
		}
		if o.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue) != nil {
			t.Fatalf("%s: the store holds key material of an HSM key: %v", v, o.Payload)
		}
		if boolAttr(t, o, "Extractable") || !boolAttr(t, o, "Never Extractable") || !boolAttr(t, o, "Sensitive") {
			t.Fatalf("%s: attributes do not say the key cannot leave the HSM", v)
		}
		if m, _ := o.AttrOf(kmip.TagProtectionStorageMask).AsInt(); m != int32(kmip.ProtectionStorageMaskHardware) {
			t.Fatalf("%s: Protection Storage Mask %d, want Hardware", v, m)
		}
		if o.AttrOf(kmip.TagKeyValuePresent) != nil || o.AttrOf(kmip.TagDigest) != nil {
			t.Fatalf("%s: Key Value Present or Digest set on an HSM key", v)
		}
		msgText := []byte("kept in the token")
		ct := bytesOf(t, mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), data(msgText),
			kmip.Bytes(kmip.TagIVCounterNonce, fakeIV)))), kmip.TagData)
		back := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDecrypt, uidItem(id), cbc(), data(ct),
			kmip.Bytes(kmip.TagIVCounterNonce, fakeIV))))
		if !bytes.Equal(bytesOf(t, back, kmip.TagData), msgText) {
			t.Fatalf("%s: decrypt through the engine failed", v)
		}
		want := kmip.ResultReasonNotExtractable
		if !v.atLeast(1, 4) {
			want = kmip.ResultReasonPermissionDenied // no Not Extractable before KMIP 1.4
		}
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))), want)

		// Destroy: deactivate first, then the HSM copy goes with the object.
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationRevoke, uidItem(id), kmip.Struct(kmip.TagRevocationReason,
			kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeCessationOfOperation))))))
		ref := o.KeyRef
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDestroy, uidItem(id))))
		if f.held(ref) {
			t.Fatalf("%s: Destroy left the key in the HSM", v)
		}
		if d := storedObj(t, s, id); d.KeyRef != "" || d.Payload != nil || d.State != domain.Destroyed {
			t.Fatalf("%s: destroyed object: KeyRef %q payload %v state %v", v, d.KeyRef, d.Payload, d.State)
		}
	}
}

// TestKeptKeyDestroyRefusedLeavesHSMKey: a Destroy the lifecycle refuses
// (an Active key) or the policy refuses (another owner) leaves the HSM key.
func TestKeptKeyDestroyRefusedLeavesHSMKey(t *testing.T) {
	t.Parallel()
	f := newKeeperFake(false)
	s := newKeeperService(f)
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt), activeNow())
	ref := storedObj(t, s, id).KeyRef
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDestroy, uidItem(id))), kmip.ResultReasonPermissionDenied)
	mustFail(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationDestroy, uidItem(id))), kmip.ResultReasonPermissionDenied)
	if !f.held(ref) {
		t.Fatal("a refused Destroy removed the HSM key")
	}
}

// TestKeptKeyExtractable: with an engine that lets keys leave, Get returns
// the material the HSM holds.
func TestKeptKeyExtractable(t *testing.T) {
	t.Parallel()
	f := newKeeperFake(true)
	s := newKeeperService(f)
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt))
	o := storedObj(t, s, id)
	if !boolAttr(t, o, "Extractable") {
		t.Fatal("an extractable HSM key is marked not Extractable")
	}
	got := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))))
	m, _ := got.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	if want := f.keys[o.KeyRef]; len(m) != 16 || !bytes.Equal(m, want) {
		t.Fatalf("Get returned %x, the HSM holds %x", m, want)
	}
	if storedObj(t, s, id).Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue) != nil {
		t.Fatal("Get wrote the exported material to the store")
	}
}

// TestKeptKeyRegister: a registered key goes into the HSM; the store keeps
// no material, and an extractable key reads back as registered.
func TestKeptKeyRegister(t *testing.T) {
	t.Parallel()
	f := newKeeperFake(true)
	s := newKeeperService(f)
	material := bytes.Repeat([]byte{0x42}, 32)
	reg := batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		attrsFor(v14, mask(kmip.CryptographicUsageMaskEncrypt)),
		kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
			kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
			kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, material)),
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
			kmip.Int(kmip.TagCryptographicLength, 256))))
	id := createdID(t, sendOne(t, s, alice, v14, reg))
	o := storedObj(t, s, id)
	if f.imports != 1 || o.KeyRef == "" || !bytes.Equal(f.keys[o.KeyRef], material) {
		t.Fatalf("Register did not import the key: imports %d ref %q", f.imports, o.KeyRef)
	}
	if o.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue) != nil {
		t.Fatal("the store holds the registered key's material")
	}
	if o.AttrOf(kmip.TagDigest) == nil {
		t.Fatal("a registered key has no Digest")
	}
	got := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))))
	m, _ := got.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	if !bytes.Equal(m, material) {
		t.Fatalf("Get returned %x, registered %x", m, material)
	}
	// Secret Data is not a key the HSM keeps.
	sd := batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData)),
		attrsFor(v14, mask(kmip.CryptographicUsageMaskDeriveKey)),
		kmip.Struct(kmip.TagSecretData, kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)),
			kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeOpaque)),
				kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, []byte("pw"))))))
	if sid := createdID(t, sendOne(t, s, alice, v14, sd)); storedObj(t, s, sid).KeyRef != "" || f.imports != 1 {
		t.Fatal("Secret Data went to the HSM")
	}
}

// TestKeptKeyPair: both halves live in the HSM; the public half keeps its
// material too; signing and verifying go through the engine.
func TestKeptKeyPair(t *testing.T) {
	t.Parallel()
	f := newKeeperFake(false)
	s := newKeeperService(f)
	priv, pub := pairIDs(t, mustOK(t, sendOne(t, s, alice, v14, keyPair14(kmip.CryptographicAlgorithmRSA, 2048, "p"))))
	po, uo := storedObj(t, s, priv), storedObj(t, s, pub)
	if po.KeyRef == "" || uo.KeyRef == "" || po.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue) != nil {
		t.Fatalf("private key: ref %q value %v; public ref %q", po.KeyRef, po.Payload, uo.KeyRef)
	}
	if uo.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial) == nil || boolAttr(t, uo, "Sensitive") {
		t.Fatal("the public key lost its material or became Sensitive")
	}
	sig := bytesOf(t, mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationSign, uidItem(priv), data([]byte("doc"))))), kmip.TagSignatureData)
	out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationSignatureVerify, uidItem(pub), data([]byte("doc")), kmip.Bytes(kmip.TagSignatureData, sig))))
	if vi, _ := out.Child(kmip.TagValidityIndicator).AsEnum(); vi != uint32(kmip.ValidityIndicatorValid) {
		t.Fatal("signature made in the HSM does not verify")
	}
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(pub))))
}

// TestKeptKeyUndo: a batch undone after a Create leaves no key in the HSM.
func TestKeptKeyUndo(t *testing.T) {
	t.Parallel()
	f := newKeeperFake(false)
	s := newKeeperService(f)
	m := msg(v14, aesCreate14(128, "undone"), batchItem(kmip.OperationGet, uidItem("missing")))
	m.Child(kmip.TagRequestHeader).Add(kmip.Enum(kmip.TagBatchErrorContinuationOption, uint32(kmip.BatchErrorContinuationOptionUndo)))
	_, rs := send(t, s, alice, m)
	if rs[0].status != kmip.ResultStatusOperationUndone {
		t.Fatalf("create: %s", rs[0].status)
	}
	if n := f.count(); n != 0 {
		t.Fatalf("%d keys left in the HSM after Undo", n)
	}
}

// TestKeptKeyWithoutKeeper: a key kept by an HSM, read by a server whose
// engine is no longer that HSM, is refused clearly rather than used empty.
func TestKeptKeyWithoutKeeper(t *testing.T) {
	t.Parallel()
	f := newKeeperFake(true)
	s := newKeeperService(f)
	id := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskEncrypt), activeNow())
	sw := New(Config{Store: s.cfg.Store, Crypto: cryptoFake{}, Clock: fixedClock{testNow}})
	mustFail(t, sendOne(t, sw, alice, v21, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), data([]byte("x")))), kmip.ResultReasonKeyValueNotPresent)
	mustFail(t, sendOne(t, sw, alice, v21, batchItem(kmip.OperationGet, uidItem(id))), kmip.ResultReasonKeyValueNotPresent)
}

// TestKeptKeyReKey: Re-key and Re-key Key Pair of HSM keys make new HSM
// keys with their own references; the old ones stay until destroyed.
func TestKeptKeyReKey(t *testing.T) {
	t.Parallel()
	f := newKeeperFake(false)
	s := newKeeperService(f)
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt), activeNow())
	repl := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKey, uidItem(id))))
	o, r := storedObj(t, s, id), storedObj(t, s, repl)
	if r.KeyRef == "" || r.KeyRef == o.KeyRef || !f.held(r.KeyRef) || !f.held(o.KeyRef) {
		t.Fatalf("re-key: old ref %q, new ref %q", o.KeyRef, r.KeyRef)
	}
	if r.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue) != nil || boolAttr(t, r, "Extractable") {
		t.Fatal("the replacement holds material or is extractable")
	}
	priv, _ := pairIDs(t, mustOK(t, sendOne(t, s, alice, v14, keyPair14(kmip.CryptographicAlgorithmRSA, 2048, "rk"))))
	npriv, npub := pairIDs(t, mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKeyKeyPair,
		kmip.Text(kmip.TagPrivateKeyUniqueIdentifier, priv), kmip.Interval(kmip.TagOffset, 0)))))
	np, nu, op := storedObj(t, s, npriv), storedObj(t, s, npub), storedObj(t, s, priv)
	if np.KeyRef == "" || nu.KeyRef == "" || np.KeyRef == op.KeyRef || np.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue) != nil {
		t.Fatalf("re-keyed pair: private %q (old %q), public %q", np.KeyRef, op.KeyRef, nu.KeyRef)
	}
	sig := bytesOf(t, mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationSign, uidItem(npriv), data([]byte("doc"))))), kmip.TagSignatureData)
	out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationSignatureVerify, uidItem(npub), data([]byte("doc")), kmip.Bytes(kmip.TagSignatureData, sig))))
	if vi, _ := out.Child(kmip.TagValidityIndicator).AsEnum(); vi != uint32(kmip.ValidityIndicatorValid) {
		t.Fatal("the re-keyed pair does not sign and verify")
	}
}
