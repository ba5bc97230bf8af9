package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// exportedAttrs returns the attribute items of an Export response payload
// (an Attributes structure in KMIP 2.x, repeated Attribute items in 1.x).
func exportedAttrs(v version, p *kmip.Item) []*kmip.Item {
	if v.major >= 2 {
		return p.Child(kmip.TagAttributes).Children()
	}
	return p.ChildrenOf(kmip.TagAttribute)
}

// importFrom turns an Export response payload into an Import request.
func importFrom(v version, p *kmip.Item, replace bool) *kmip.Item {
	payload := []*kmip.Item{p.Child(kmip.TagUniqueIdentifier).Clone(), p.Child(kmip.TagObjectType).Clone()}
	if replace {
		payload = append(payload, kmip.Bool(kmip.TagReplaceExisting, true))
	}
	if v.major >= 2 {
		payload = append(payload, p.Child(kmip.TagAttributes).Clone())
	} else {
		for _, a := range p.ChildrenOf(kmip.TagAttribute) {
			payload = append(payload, a.Clone())
		}
	}
	payload = append(payload, p.Child(kmip.TagSymmetricKey).Clone())
	return batchItem(kmip.OperationImport, payload...)
}

func symKeyBytes(p *kmip.Item) []byte {
	b, _ := p.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	return b
}

func sameItems(a, b []*kmip.Item) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// Export returns the key and all its attributes; importing that into
// another server, or over the destroyed original with Replace Existing,
// restores the same key with the same attributes, Unique Identifier
// included.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		t.Run(v.String(), func(t *testing.T) {
			s := newService(t)
			create := aesCreate14(256, "rt")
			if v.major >= 2 {
				create = aesCreate21(256, "rt")
			}
			id := createdID(t, sendOne(t, s, alice, v, create))
			exp := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationExport, uidItem(id))))
			if got, _ := exp.Child(kmip.TagUniqueIdentifier).AsText(); got != id {
				t.Fatalf("Export returned identifier %q, want %q", got, id)
			}
			if ot, _ := exp.Child(kmip.TagObjectType).AsEnum(); kmip.ObjectType(ot) != kmip.ObjectTypeSymmetricKey {
				t.Fatalf("Export object type %d", ot)
			}
			material := symKeyBytes(exp)
			if len(material) != 32 {
				t.Fatalf("Export returned no 32-byte key: %v", exp)
			}
			attrs := exportedAttrs(v, exp)
			if len(attrs) < 8 {
				t.Fatalf("Export returned only %d attributes", len(attrs))
			}

			// Migration: the same object on another server.
			s2 := newService(t)
			if got := createdID(t, sendOne(t, s2, bob, v, importFrom(v, exp, false))); got != id {
				t.Fatalf("Import answered %q, want %q", got, id)
			}
			got := mustOK(t, sendOne(t, s2, bob, v, batchItem(kmip.OperationGet, uidItem(id))))
			if !bytes.Equal(symKeyBytes(got), material) {
				t.Error("imported key material differs")
			}
			exp2 := mustOK(t, sendOne(t, s2, bob, v, batchItem(kmip.OperationExport, uidItem(id))))
			if !sameItems(exportedAttrs(v, exp2), attrs) {
				t.Errorf("attributes changed by the import:\n got %v\nwant %v", exportedAttrs(v, exp2), attrs)
			}

			// Destroy, then restore over the destroyed object.
			mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDestroy, uidItem(id))))
			gone := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationExport, uidItem(id))))
			if gone.Child(kmip.TagSymmetricKey) != nil {
				t.Error("Export of a destroyed object returned its key")
			}
			mustFail(t, sendOne(t, s, alice, v, importFrom(v, exp, false)), kmip.ResultReasonObjectAlreadyExists)
			mustOK(t, sendOne(t, s, alice, v, importFrom(v, exp, true)))
			got = mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))))
			if !bytes.Equal(symKeyBytes(got), material) {
				t.Error("restored key material differs")
			}
			exp3 := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationExport, uidItem(id))))
			if !sameItems(exportedAttrs(v, exp3), attrs) {
				t.Errorf("attributes changed by the restore:\n got %v\nwant %v", exportedAttrs(v, exp3), attrs)
			}
		})
	}
}

// Import takes server-set attributes as given (KMIP 2.1 §6.1.25: "Initially
// set by" is not enforced), which Register refuses; the caller owns the
// result.
func TestImportKeepsServerAttributes(t *testing.T) {
	t.Parallel()
	s := newService(t)
	initial := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	key := kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, bytes.Repeat([]byte{7}, 16))),
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
		kmip.Int(kmip.TagCryptographicLength, 128)))
	attrs := kmip.Struct(kmip.TagAttributes,
		kmip.Enum(kmip.TagState, uint32(domain.Active)),
		kmip.DateTime(kmip.TagInitialDate, initial),
		kmip.DateTime(kmip.TagActivationDate, initial),
		kmip.Bool(kmip.TagFresh, false),
		kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt)))
	typ := kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationRegister, typ, attrs, key)), kmip.ResultReasonAttributeReadOnly)
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationImport, uidItem("legacy-1"), typ, attrs, key)))

	obj, err := s.cfg.Store.Get(context.Background(), "legacy-1")
	if err != nil {
		t.Fatal(err)
	}
	if obj.State != domain.Active || !obj.InitialDate.Equal(initial) || obj.Owner != "alice" {
		t.Errorf("state %s, initial date %v, owner %q", obj.State, obj.InitialDate, obj.Owner)
	}
	if fresh, ok := obj.AttrOf(kmip.TagFresh).AsBool(); !ok || fresh {
		t.Error("Fresh not kept false")
	}
	if obj.AttrOf(kmip.TagDigest) == nil || obj.AttrOf(kmip.TagCryptographicLength) == nil {
		t.Error("derived attributes missing")
	}
	// The imported key is usable at once: it is Active.
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGet, uidItem("legacy-1"))))
	mustFail(t, sendOne(t, s, bob, v21, batchItem(kmip.OperationGet, uidItem("legacy-1"))), kmip.ResultReasonPermissionDenied)

	// Destroyed objects carry no value to import; identifiers must agree.
	bad := kmip.Struct(kmip.TagAttributes, kmip.Enum(kmip.TagState, uint32(domain.Destroyed)))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationImport, uidItem("legacy-2"), typ, bad, key)), kmip.ResultReasonInvalidField)
	bad = kmip.Struct(kmip.TagAttributes, uidItem("other"))
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationImport, uidItem("legacy-2"), typ, bad, key)), kmip.ResultReasonInvalidField)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationImport, typ, attrs, key)), kmip.ResultReasonMissingData)
}

// Replace Existing may only discard an object its Destroy rule lets the
// caller destroy; Export needs what Get needs.
func TestImportExportAccess(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v21, aesCreate21(128, "acl")))
	mustFail(t, sendOne(t, s, bob, v21, batchItem(kmip.OperationExport, uidItem(id))), kmip.ResultReasonPermissionDenied)
	exp := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationExport, uidItem(id))))
	mustFail(t, sendOne(t, s, bob, v21, importFrom(v21, exp, true)), kmip.ResultReasonPermissionDenied)
	mustFail(t, sendOne(t, s, bob, v21, importFrom(v21, exp, false)), kmip.ResultReasonObjectAlreadyExists)
	mustOK(t, sendOne(t, s, alice, v21, importFrom(v21, exp, true)))
}

// fixedPolicies is a policy source with the reserved policies plus others.
type fixedPolicies map[string]*domain.Policy

func (f fixedPolicies) Policy(_ context.Context, name string) (*domain.Policy, bool) {
	if p := domain.ReservedPolicy(name); p != nil {
		return p, true
	}
	p, ok := f[name]
	return p, ok
}

// A policy's own Export and Import rules govern those operations.
func TestImportExportPolicyRules(t *testing.T) {
	t.Parallel()
	sk := uint32(kmip.ObjectTypeSymmetricKey)
	s := newService(t)
	s.cfg.Policies = fixedPolicies{
		"no-export": {Name: "no-export", Preset: domain.Rules{sk: {
			uint32(kmip.OperationGet): domain.AllowOwner, uint32(kmip.OperationExport): domain.DisallowAll}}},
		"no-import": {Name: "no-import", Preset: domain.Rules{sk: {
			uint32(kmip.OperationGet): domain.AllowOwner, uint32(kmip.OperationImport): domain.DisallowAll}}},
	}
	create := aesCreate14(128, "")
	create.Child(kmip.TagRequestPayload).Child(kmip.TagTemplateAttribute).Add(
		attribute1x("Operation Policy Name", kmip.Text(0, "no-export")))
	id := createdID(t, sendOne(t, s, alice, v14, create))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationExport, uidItem(id))), kmip.ResultReasonPermissionDenied)

	other := newService(t)
	oid := createdID(t, sendOne(t, other, alice, v14, aesCreate14(128, "")))
	exp := mustOK(t, sendOne(t, other, alice, v14, batchItem(kmip.OperationExport, uidItem(oid))))
	for _, a := range exp.ChildrenOf(kmip.TagAttribute) {
		if n, _ := a.Child(kmip.TagAttributeName).AsText(); n == "Operation Policy Name" {
			a.Child(kmip.TagAttributeValue).Value = "no-import"
		}
	}
	mustFail(t, sendOne(t, s, alice, v14, importFrom(v14, exp, false)), kmip.ResultReasonPermissionDenied)
}

// Import and Export exist from KMIP 1.4, Set Endpoint Role from 2.0; kmipd
// stays the server of its connections.
func TestImportExportVersionsAndEndpointRole(t *testing.T) {
	t.Parallel()
	s := newService(t)
	v13 := version{1, 3}
	mustFail(t, sendOne(t, s, alice, v13, batchItem(kmip.OperationExport, uidItem("x"))), kmip.ResultReasonOperationNotSupported)
	mustFail(t, sendOne(t, s, alice, v13, batchItem(kmip.OperationImport, uidItem("x"))), kmip.ResultReasonOperationNotSupported)
	role := func(r kmip.EndpointRole) *kmip.Item {
		return batchItem(kmip.OperationSetEndpointRole, kmip.Enum(kmip.TagEndpointRole, uint32(r)))
	}
	mustFail(t, sendOne(t, s, alice, v14, role(kmip.EndpointRoleServer)), kmip.ResultReasonOperationNotSupported)
	p := mustOK(t, sendOne(t, s, alice, v21, role(kmip.EndpointRoleServer)))
	if r, _ := p.Child(kmip.TagEndpointRole).AsEnum(); kmip.EndpointRole(r) != kmip.EndpointRoleServer {
		t.Errorf("Set Endpoint Role answered role %d", r)
	}
	mustFail(t, sendOne(t, s, alice, v21, role(kmip.EndpointRoleClient)), kmip.ResultReasonFeatureNotSupported)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationSetEndpointRole)), kmip.ResultReasonMissingData)

	for _, c := range []struct {
		v    version
		want map[kmip.Operation]bool
	}{
		{v13, map[kmip.Operation]bool{}},
		{v14, map[kmip.Operation]bool{kmip.OperationImport: true, kmip.OperationExport: true}},
		{v21, map[kmip.Operation]bool{kmip.OperationImport: true, kmip.OperationExport: true, kmip.OperationSetEndpointRole: true}},
	} {
		got := map[kmip.Operation]bool{}
		for _, op := range s.operations(c.v) {
			if op == kmip.OperationImport || op == kmip.OperationExport || op == kmip.OperationSetEndpointRole {
				got[op] = true
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("KMIP %s lists %v, want %v", c.v, got, c.want)
		}
	}
}

// Export wraps as Get does; Import with Key Wrap Type Not Wrapped unwraps
// with the server's wrapping key before storing, As Registered stores the
// wrapped key as given.
func TestExportWrappedImportUnwrapped(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	kek := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskWrapKey, kmip.CryptographicUsageMaskUnwrapKey), activeNow())
	target := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskEncrypt))
	clear := keyMaterial(t, s, target)
	noEnc := kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding))
	exp := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationExport, uidItem(target), wrapSpecItem(kmip.WrappingMethodEncrypt, kek, noEnc))))
	if exp.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyWrappingData) == nil {
		t.Fatal("Export did not wrap the key")
	}
	if bytes.Equal(symKeyBytes(exp), clear) {
		t.Fatal("Export returned the key in the clear")
	}

	notWrapped := importFrom(v21, exp, true)
	notWrapped.Child(kmip.TagRequestPayload).Add(kmip.Enum(kmip.TagKeyWrapType, uint32(kmip.KeyWrapTypeNotWrapped)))
	mustOK(t, sendOne(t, s, alice, v21, notWrapped))
	if got := storedObj(t, s, target).Payload; got.Path(kmip.TagKeyBlock, kmip.TagKeyWrappingData) != nil || !bytes.Equal(keyMaterial(t, s, target), clear) {
		t.Error("Key Wrap Type Not Wrapped did not store the unwrapped key")
	}

	asRegistered := importFrom(v21, exp, false)
	asRegistered.Child(kmip.TagRequestPayload).Child(kmip.TagUniqueIdentifier).Value = "copy"
	asRegistered.Child(kmip.TagRequestPayload).Child(kmip.TagAttributes).Child(kmip.TagUniqueIdentifier).Value = "copy"
	asRegistered.Child(kmip.TagRequestPayload).Add(kmip.Enum(kmip.TagKeyWrapType, uint32(kmip.KeyWrapTypeAsRegistered)))
	mustOK(t, sendOne(t, s, alice, v21, asRegistered))
	if storedObj(t, s, "copy").Payload.Path(kmip.TagKeyBlock, kmip.TagKeyWrappingData) == nil {
		t.Error("Key Wrap Type As Registered did not keep the key wrapped")
	}
}

// A client-chosen identifier is bounded and printable.
func TestImportIdentifierChecked(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		id string
		ok bool
	}{{"key-1", true}, {"01a2-é", true}, {"", false}, {"a\nforged log line", false}, {"nul\x00", false}, {strings.Repeat("k", 257), false}} {
		if got := c.id != "" && importableID(c.id); got != c.ok {
			t.Errorf("%q: importable %v, want %v", c.id, got, c.ok)
		}
	}
}

func TestImportRefusesForgedIdentifier(t *testing.T) {
	t.Parallel()
	s := newService(t)
	r := sendOne(t, s, alice, v21, batchItem(kmip.OperationImport, uidItem("a\nforged"),
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData))))
	mustFail(t, r, kmip.ResultReasonInvalidField)
}
