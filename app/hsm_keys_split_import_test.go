package app

import (
	"context"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// flakyStore fails the next Create or Update it is told to, as a store
// that loses its database connection would.
type flakyStore struct {
	*memStore
	failCreate, failUpdate bool
	skipCreates            int // Creates that succeed before failCreate takes effect
}

var errStoreDown = errors.New("store down")

func (f *flakyStore) Create(ctx context.Context, o *domain.Object) error {
	if f.failCreate && f.skipCreates > 0 {
		f.skipCreates--
	} else if f.failCreate {
		f.failCreate = false
		return errStoreDown
	}
	return f.memStore.Create(ctx, o)
}

func (f *flakyStore) Update(ctx context.Context, id string, fn func(*domain.Object) error) error {
	if f.failUpdate {
		f.failUpdate = false
		return errStoreDown
	}
	return f.memStore.Update(ctx, id, fn)
}

// TestKeptKeyStoreFailures: a Create whose object cannot be stored leaves
// no key in the HSM; a Destroy whose store update fails has already
// removed the HSM key, and retrying it completes the Destroy.
func TestKeptKeyStoreFailures(t *testing.T) {
	t.Parallel()
	f := newKeeperFake(false)
	st := &flakyStore{memStore: newMemStore()}
	s := New(Config{Store: st, Crypto: f, Clock: fixedClock{testNow}})

	st.failCreate = true
	mustFail(t, sendOne(t, s, alice, v14, aesCreate14(128, "lost")), kmip.ResultReasonGeneralFailure)
	if n := f.count(); n != 0 {
		t.Fatalf("%d keys left in the HSM after a failed Create", n)
	}
	st.failCreate = true
	mustFail(t, sendOne(t, s, alice, v14, keyPair14(kmip.CryptographicAlgorithmRSA, 2048, "lost")), kmip.ResultReasonGeneralFailure)
	if n := f.count(); n != 0 {
		t.Fatalf("%d keys left in the HSM after a failed Create Key Pair", n)
	}
	st.failCreate, st.skipCreates = true, 1 // the public half's Create fails
	mustFail(t, sendOne(t, s, alice, v14, keyPair14(kmip.CryptographicAlgorithmRSA, 2048, "half")), kmip.ResultReasonGeneralFailure)
	if n := f.count(); n != 0 {
		t.Fatalf("%d keys left in the HSM after the public half could not be stored", n)
	}

	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "doomed")))
	ref := storedObj(t, s, id).KeyRef
	st.failUpdate = true
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDestroy, uidItem(id))), kmip.ResultReasonGeneralFailure)
	if f.held(ref) {
		t.Fatal("the HSM key survived a Destroy whose store update failed")
	}
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDestroy, uidItem(id))))
	if o := storedObj(t, s, id); o.State != domain.Destroyed || o.KeyRef != "" {
		t.Fatalf("after the retried Destroy: state %v, KeyRef %q", o.State, o.KeyRef)
	}
}

// TestKeptKeySplit: splitting hands the key out in shares, so a key that
// may not leave the HSM is not split (and a key the server makes to split
// is not left in the HSM); an extractable HSM key splits and joins back,
// the joined key going into the HSM.
func TestKeptKeySplit(t *testing.T) {
	t.Parallel()
	splitOf := func(id string, extra ...*kmip.Item) *kmip.Item {
		p := []*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey))}
		if id != "" {
			p = append(p, uidItem(id))
		}
		p = append(p, kmip.Int(kmip.TagSplitKeyParts, 2), kmip.Int(kmip.TagSplitKeyThreshold, 2),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)))
		p = append(p, extra...)
		return batchItem(kmip.OperationCreateSplitKey, p...)
	}
	fresh := kmip.Struct(kmip.TagTemplateAttribute,
		attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
		attribute1x("Cryptographic Length", kmip.Int(0, 128)))

	f := newKeeperFake(false)
	s := newKeeperService(f)
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt))
	mustFail(t, sendOne(t, s, alice, v14, splitOf(id, kmip.Struct(kmip.TagTemplateAttribute))), kmip.ResultReasonNotExtractable)
	held := f.count()
	mustFail(t, sendOne(t, s, alice, v14, splitOf("", fresh)), kmip.ResultReasonNotExtractable)
	if f.count() != held {
		t.Fatal("a key made to be split stayed in the HSM")
	}

	f = newKeeperFake(true)
	s = newKeeperService(f)
	id = aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt))
	out := mustOK(t, sendOne(t, s, alice, v14, splitOf(id, kmip.Struct(kmip.TagTemplateAttribute))))
	join := []*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey))}
	join = append(join, out.ChildrenOf(kmip.TagUniqueIdentifier)...)
	joined := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationJoinSplitKey, join...)))
	j, o := storedObj(t, s, joined), storedObj(t, s, id)
	if j.KeyRef == "" || j.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue) != nil {
		t.Fatal("the joined key was stored with its material, not placed in the HSM")
	}
	if string(f.keys[j.KeyRef]) != string(f.keys[o.KeyRef]) {
		t.Fatal("the joined key differs from the split one")
	}
	held = f.count()
	mustOK(t, sendOne(t, s, alice, v14, splitOf("", fresh)))
	if f.count() != held {
		t.Fatal("a key made to be split stayed in the HSM")
	}
}

// TestSplitRefusesSensitiveKey: with any engine, a Sensitive key is not
// split (the shares would be the key in the clear), and before KMIP 1.4
// the refusal is Permission Denied.
func TestSplitRefusesSensitiveKey(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt), kmip.Bool(kmip.TagSensitive, true))
	for _, c := range []struct {
		v    version
		want kmip.ResultReason
	}{{v14, kmip.ResultReasonSensitive}, {version{1, 2}, kmip.ResultReasonPermissionDenied}} {
		mustFail(t, sendOne(t, s, alice, c.v, batchItem(kmip.OperationCreateSplitKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)),
			uidItem(id), kmip.Int(kmip.TagSplitKeyParts, 2), kmip.Int(kmip.TagSplitKeyThreshold, 2),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)), kmip.Struct(kmip.TagTemplateAttribute))), c.want)
	}
}

var _ ports.Store = (*flakyStore)(nil)

// TestKeptKeyImport: Import places the imported key in the HSM, and an
// Import that replaces an HSM object removes the replaced key from the HSM.
func TestKeptKeyImport(t *testing.T) {
	t.Parallel()
	f := newKeeperFake(true)
	s := newKeeperService(f)
	id := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskEncrypt))
	old := storedObj(t, s, id).KeyRef
	material := string(f.keys[old])
	exported := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationExport, uidItem(id))))
	if got := string(symKeyBytes(exported)); got != material {
		t.Fatal("Export did not return the HSM key's material")
	}

	mustOK(t, sendOne(t, s, alice, v21, importFrom(v21, exported, true)))
	o := storedObj(t, s, id)
	if o.KeyRef == "" || o.KeyRef == old || f.held(old) || string(f.keys[o.KeyRef]) != material {
		t.Fatalf("replacing import: old ref %q held %v, new ref %q", old, f.held(old), o.KeyRef)
	}
	if o.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue) != nil {
		t.Fatal("the imported key's material was stored")
	}

	g := newKeeperFake(true)
	other := newKeeperService(g)
	mustOK(t, sendOne(t, other, alice, v21, importFrom(v21, exported, false)))
	if o := storedObj(t, other, id); o.KeyRef == "" || string(g.keys[o.KeyRef]) != material {
		t.Fatal("Import into another HSM server did not place the key in its HSM")
	}
}
