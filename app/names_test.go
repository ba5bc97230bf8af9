package app

import (
	"context"
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// uriName is a Name whose Name Type is URI: the same Name Value as
// nameItem's under another Name Type.
func uriName(n string) *kmip.Item {
	return kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, n), kmip.Enum(kmip.TagNameType, uint32(kmip.NameTypeURI)))
}

// aesTemplateItem is a Template structure for AES keys of bits bits under
// policy (none when empty).
func aesTemplateItem(bits int32, policy string) *kmip.Item {
	tmpl := kmip.Struct(kmip.TagTemplate,
		attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
		attribute1x("Cryptographic Length", kmip.Int(0, bits)),
		attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskEncrypt))))
	if policy != "" {
		tmpl.Add(attribute1x("Operation Policy Name", kmip.Text(0, policy)))
	}
	return tmpl
}

// createFromTemplate is a KMIP 1.4 Create of a symmetric key from the
// Template named name.
func createFromTemplate(name string) *kmip.Item {
	return batchItem(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		kmip.Struct(kmip.TagTemplateAttribute, nameItem(name)))
}

// A Name identifies one object by its Name Value whatever its Name Type
// (KMIP 1.4 §3.2, KMIP 2.1 §4.32; issue 12.2): Register, Create, Import,
// Add and Modify Attribute all refuse a value another object carries.
func TestNameUniqueByValue(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: newMemStore(), Crypto: fakeCrypto{}, Clock: fixedClock{testNow}, StrictNames: true})
	mustOK(t, sendOne(t, s, bob, v14, register(kmip.ObjectTypeTemplate, aesTemplateItem(256, ""), attribute1x("Name", nameItem("bob-aes256")))))
	taken := func(v version) kmip.ResultReason {
		if v.major >= 2 {
			return kmip.ResultReasonNonUniqueNameAttribute
		}
		return kmip.ResultReasonIllegalOperation
	}
	mustFail(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeTemplate, aesTemplateItem(128, "public"),
		attribute1x("Name", uriName("bob-aes256")), attribute1x("Operation Policy Name", kmip.Text(0, "public")))), taken(v14))
	mustFail(t, sendOne(t, s, alice, v14, aesCreate14With("", attribute1x("Name", uriName("bob-aes256")))), taken(v14))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationImport, kmip.Text(kmip.TagUniqueIdentifier, "chosen"),
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)),
		attribute1x("Name", uriName("bob-aes256")), attribute1x("Operation Policy Name", kmip.Text(0, "public")),
		aesTemplateItem(128, "shared"))), taken(v14))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationImport, kmip.Text(kmip.TagUniqueIdentifier, "chosen"),
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData)),
		kmip.Struct(kmip.TagAttributes, uriName("bob-aes256")),
		kmip.Struct(kmip.TagSecretData, kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)),
			keyBlock(kmip.KeyFormatTypeOpaque, keyBytes([]byte("pw")))))), taken(v21))
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "mine")))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("Name", uriName("bob-aes256")))), taken(v14))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationModifyAttribute, uidItem(id),
		kmip.Struct(kmip.TagNewAttribute, uriName("bob-aes256")))), taken(v21))
	// One object cannot carry one Name Value twice either, but may change
	// the Name Type of its own name.
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("Name", uriName("mine")))), taken(v14))
	mustFail(t, sendOne(t, s, alice, v14, aesCreate14With("twice", attribute1x("Name", uriName("twice")))), taken(v14))
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationModifyAttribute, uidItem(id),
		kmip.Struct(kmip.TagCurrentAttribute, nameItem("mine")), kmip.Struct(kmip.TagNewAttribute, uriName("mine")))))
	if n := len(storedObj(t, s, id).AttrValuesOf(kmip.TagName)); n != 1 {
		t.Fatalf("%d Names after changing the Name Type", n)
	}
}

// TestTemplateCannotBeHijacked: bob's Create from his Template gets his
// Template's attributes; alice cannot slip in a Template of the same Name
// Value under another Name Type (issue 12.2).
func TestTemplateCannotBeHijacked(t *testing.T) {
	t.Parallel()
	s := newService(t)
	mustOK(t, sendOne(t, s, bob, v14, register(kmip.ObjectTypeTemplate, aesTemplateItem(256, ""), attribute1x("Name", nameItem("bob-aes256")))))
	// An identifier alice chooses sorts before bob's.
	sendOne(t, s, alice, v14, batchItem(kmip.OperationImport, kmip.Text(kmip.TagUniqueIdentifier, "0-hijack"),
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)),
		attribute1x("Name", uriName("bob-aes256")), attribute1x("Operation Policy Name", kmip.Text(0, "public")),
		aesTemplateItem(128, "public")))
	sendOne(t, s, alice, v14, register(kmip.ObjectTypeTemplate, aesTemplateItem(128, "public"),
		attribute1x("Name", kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, "bob-aes256"), kmip.Enum(kmip.TagNameType, 0x80000001))),
		attribute1x("Operation Policy Name", kmip.Text(0, "public"))))
	id := createdID(t, sendOne(t, s, bob, v14, createFromTemplate("bob-aes256")))
	obj := storedObj(t, s, id)
	if n, _ := obj.AttrOf(kmip.TagCryptographicLength).AsInt(); n != 256 || obj.Policy != domain.PolicyDefault {
		t.Fatalf("bob's key: length %d, policy %q, want his Template's 256 and default", n, obj.Policy)
	}
}

// A Template name that names two Templates (stored before names were
// unique, or by two nodes at once) is refused, never resolved to the first
// one the caller can read; one the caller cannot read is not found.
func TestTemplateNameAmbiguousOrUnreadable(t *testing.T) {
	t.Parallel()
	s := newService(t)
	put := func(id, owner, policy string, name *kmip.Item, bits int32) {
		o := &domain.Object{ID: id, Type: uint32(kmip.ObjectTypeTemplate), State: domain.PreActive, Owner: owner,
			Policy: policy, Payload: aesTemplateItem(bits, "")}
		o.AddAttrOf(kmip.TagName, name)
		if err := s.cfg.Store.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	put("a-public", "alice", domain.PolicyPublic, uriName("dup"), 128)
	put("b-private", "bob", domain.PolicyDefault, nameItem("dup"), 256)
	for _, who := range []domain.Principal{alice, bob} {
		mustFail(t, sendOne(t, s, who, v14, createFromTemplate("dup")), kmip.ResultReasonIllegalOperation)
	}
	put("c-private", "carol", domain.PolicyDefault, nameItem("carols"), 256)
	mustFail(t, sendOne(t, s, bob, v14, createFromTemplate("carols")), kmip.ResultReasonItemNotFound)
	put("a-shared", "alice", domain.PolicyPublic, nameItem("alices"), 128)
	id := createdID(t, sendOne(t, s, bob, v14, createFromTemplate("alices")))
	if n, _ := storedObj(t, s, id).AttrOf(kmip.TagCryptographicLength).AsInt(); n != 128 {
		t.Fatalf("length %d from the one readable Template, want 128", n)
	}
}

// A Name in a Create Key Pair's Common attributes or in a Create Split Key
// of several parts would name two objects: refused, and nothing is stored.
func TestNamesOfManyObjectsRefused(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: fixedClock{testNow}, StrictNames: true})
	before := len(mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationLocate))).ChildrenOf(kmip.TagUniqueIdentifier))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationCreateKeyPair,
		kmip.Struct(kmip.TagCommonAttributes,
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmEd25519)),
			kmip.Int(kmip.TagCryptographicLength, 255), nameItem("pair")),
		kmip.Struct(kmip.TagPrivateKeyAttributes, mask(kmip.CryptographicUsageMaskSign)),
		kmip.Struct(kmip.TagPublicKeyAttributes, mask(kmip.CryptographicUsageMaskVerify)))), kmip.ResultReasonNonUniqueNameAttribute)
	key := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCreateSplitKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)),
		uidItem(key), kmip.Int(kmip.TagSplitKeyParts, 2), kmip.Int(kmip.TagSplitKeyThreshold, 2),
		kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)),
		kmip.Struct(kmip.TagTemplateAttribute, attribute1x("Name", nameItem("parts"))))), kmip.ResultReasonIllegalOperation)
	after := len(mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationLocate))).ChildrenOf(kmip.TagUniqueIdentifier))
	if after != before+1 {
		t.Fatalf("%d objects stored besides the key to split", after-before-1)
	}
}

// legacyIndex is a store whose index lacks the kmipd:name-value terms, as a
// database written before they existed does.
type legacyIndex struct{ *memStore }

func (l legacyIndex) Locate(ctx context.Context, q ports.LocateQuery) ([]string, error) {
	keep := func(ts []domain.IndexTerm) []domain.IndexTerm {
		var out []domain.IndexTerm
		for _, t := range ts {
			if t.Name != domain.IndexNameValue {
				out = append(out, t)
			}
		}
		return out
	}
	q.Terms = keep(q.Terms)
	for i, g := range q.Any {
		q.Any[i] = keep(g)
	}
	return l.memStore.Locate(ctx, q)
}

// Objects indexed before Name Values were are still found by their whole
// Name under the standard Name Types.
func TestNameUniqueOnLegacyIndex(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: legacyIndex{newMemStore()}, Crypto: fakeCrypto{}, Clock: fixedClock{testNow}, StrictNames: true})
	createdID(t, sendOne(t, s, alice, v14, aesCreate14With("", attribute1x("Name", uriName("old")))))
	mustFail(t, sendOne(t, s, bob, v14, aesCreate14(128, "old")), kmip.ResultReasonIllegalOperation)
}

// TestNamesRepeatUnlessStrict: by default (StrictNames false) new objects
// may repeat a Name Value, as the reference server allows and PyKMIP's
// client needs (it names every registered key "Symmetric Key" unless told
// otherwise), while a Template's name, Add/Modify Attribute and Import stay
// unique; a Template name shared with a key still resolves to the Template.
func TestNamesRepeatUnlessStrict(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	a := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "Symmetric Key")))
	b := createdID(t, sendOne(t, s, bob, v14, aesCreate14(128, "Symmetric Key")))
	if a == b {
		t.Fatal("one identifier for two objects")
	}
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationCreateKeyPair,
		kmip.Struct(kmip.TagCommonAttributes,
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmEd25519)),
			kmip.Int(kmip.TagCryptographicLength, 255), nameItem("pair")),
		kmip.Struct(kmip.TagPrivateKeyAttributes, mask(kmip.CryptographicUsageMaskSign)),
		kmip.Struct(kmip.TagPublicKeyAttributes, mask(kmip.CryptographicUsageMaskVerify)))))
	mustOK(t, sendOne(t, s, bob, v14, register(kmip.ObjectTypeTemplate, aesTemplateItem(256, ""), attribute1x("Name", nameItem("Symmetric Key")))))
	mustFail(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeTemplate, aesTemplateItem(128, "public"),
		attribute1x("Name", uriName("Symmetric Key")), attribute1x("Operation Policy Name", kmip.Text(0, "public")))), kmip.ResultReasonIllegalOperation)
	id := createdID(t, sendOne(t, s, bob, v14, createFromTemplate("Symmetric Key")))
	if n, _ := storedObj(t, s, id).AttrOf(kmip.TagCryptographicLength).AsInt(); n != 256 {
		t.Fatalf("Create from the Template named like two keys: length %d, want the Template's 256", n)
	}
	c := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(c), attribute1x("Name", nameItem("pair")))), kmip.ResultReasonIllegalOperation)
}
