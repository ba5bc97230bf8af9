package app

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// allVersions are the protocol versions kmipd answers in, oldest first.
var allVersions = []version{{1, 0}, {1, 1}, {1, 2}, {1, 3}, {1, 4}, {2, 0}, {2, 1}}

// versions1x are the KMIP 1.x versions.
var versions1x = []version{{1, 0}, {1, 1}, {1, 2}, {1, 3}, {1, 4}}

// criticalExt is a Message Extension the server cannot understand.
func criticalExt() *kmip.Item {
	return kmip.Struct(kmip.TagMessageExtension, kmip.Text(kmip.TagVendorIdentification, "acme"),
		kmip.Bool(kmip.TagCriticalityIndicator, true), kmip.Struct(kmip.TagVendorExtension))
}

// TestRefusedMessageEchoesOperation: a response batch item carries the
// Operation whenever its request item did (KMIP 1.4 §7.3 Table 285, KMIP 2.1
// §8), also when the whole message is refused for a critical extension or a
// bad header field.
func TestRefusedMessageEchoesOperation(t *testing.T) {
	t.Parallel()
	s := newService(t)
	for _, v := range allVersions {
		query := func() *kmip.Item {
			return batchItem(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))
		}
		badOption := msg(v, query())
		badOption.Child(kmip.TagRequestHeader).Add(kmip.Enum(kmip.TagBatchErrorContinuationOption, 99))
		two := msg(v, batchItem(kmip.OperationDiscoverVersions), query().Add(criticalExt()))
		for name, c := range map[string]struct {
			m      *kmip.Item
			op     kmip.Operation
			id     string
			reason kmip.ResultReason
		}{
			"critical extension":        {msg(v, query().Add(criticalExt())), kmip.OperationQuery, "", kmip.ResultReasonFeatureNotSupported},
			"critical extension item 2": {two, kmip.OperationQuery, string(mustBytes(t, two.ChildrenOf(kmip.TagBatchItem)[1], kmip.TagUniqueBatchItemID)), kmip.ResultReasonFeatureNotSupported},
			"bad continuation option":   {badOption, kmip.OperationQuery, "", kmip.ResultReasonInvalidMessage},
		} {
			resp, rs := send(t, s, alice, c.m)
			if len(rs) != 1 {
				t.Fatalf("%s %s: %d batch items, want 1", v, name, len(rs))
			}
			mustFail(t, rs[0], c.reason)
			item := resp.Child(kmip.TagBatchItem)
			if op, ok := item.Child(kmip.TagOperation).AsEnum(); !ok || kmip.Operation(op) != c.op {
				t.Errorf("%s %s: Operation %v (present %v), want %s", v, name, kmip.Operation(op), ok, c.op)
			}
			id, _ := item.Child(kmip.TagUniqueBatchItemID).AsBytes()
			if string(id) != c.id {
				t.Errorf("%s %s: Unique Batch Item ID %q, want %q", v, name, id, c.id)
			}
		}
	}
}

func mustBytes(t *testing.T, it *kmip.Item, tag kmip.Tag) []byte {
	t.Helper()
	b, ok := it.Child(tag).AsBytes()
	if !ok {
		t.Fatalf("no %s", tag)
	}
	return b
}

// TestAttributeChangesEchoIndex: at KMIP 1.x the Add, Modify and Delete
// Attribute answers name the instance they changed with its Attribute Index,
// index 0 included (KMIP 1.4 §4.14-§4.16; PyKMIP's client reads it).
func TestAttributeChangesEchoIndex(t *testing.T) {
	t.Parallel()
	s := newService(t)
	for _, v := range versions1x {
		id := createdID(t, sendOne(t, s, alice, v, aesCreate14(128, "")))
		index := func(p *kmip.Item) int32 {
			t.Helper()
			n, ok := p.Path(kmip.TagAttribute, kmip.TagAttributeIndex).AsInt()
			if !ok {
				t.Fatalf("%s: the answer has no Attribute Index: %v", v, p)
			}
			return n
		}
		add := func(val string) *kmip.Item {
			return mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("x-note", kmip.Text(0, val)))))
		}
		if n := index(add("a")); n != 0 {
			t.Errorf("%s: first Add Attribute index %d, want 0", v, n)
		}
		if n := index(add("b")); n != 1 {
			t.Errorf("%s: second Add Attribute index %d, want 1", v, n)
		}
		mod := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationModifyAttribute, uidItem(id), attribute1x("x-note", kmip.Text(0, "c")))))
		if n := index(mod); n != 0 {
			t.Errorf("%s: Modify Attribute index %d, want 0", v, n)
		}
		del := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Text(kmip.TagAttributeName, "x-note"))))
		if n := index(del); n != 0 {
			t.Errorf("%s: Delete Attribute index %d, want 0", v, n)
		}
		if got, _ := del.Path(kmip.TagAttribute, kmip.TagAttributeValue).AsText(); got != "c" {
			t.Errorf("%s: Delete Attribute answered value %q, want the deleted \"c\"", v, got)
		}
	}
}

// keyPairFor is a Create Key Pair request of version v for an RSA-2048 pair.
func keyPairFor(v version) *kmip.Item {
	common, private, public := kmip.TagCommonTemplateAttribute, kmip.TagPrivateKeyTemplateAttribute, kmip.TagPublicKeyTemplateAttribute
	if v.major >= 2 {
		common, private, public = kmip.TagCommonAttributes, kmip.TagPrivateKeyAttributes, kmip.TagPublicKeyAttributes
	}
	box := func(tag kmip.Tag, vals ...*kmip.Item) *kmip.Item {
		b := attrsFor(v, vals...)
		b.Tag = tag
		return b
	}
	return batchItem(kmip.OperationCreateKeyPair,
		box(common, kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)),
			kmip.Int(kmip.TagCryptographicLength, 2048), activeNow()),
		box(private, mask(kmip.CryptographicUsageMaskSign)),
		box(public, mask(kmip.CryptographicUsageMaskVerify)))
}

// linksOf returns the Link values Get Attributes answers for id at version v.
func linksOf(t *testing.T, s *Service, v version, id string) []*kmip.Item {
	t.Helper()
	p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributes, uidItem(id))))
	if v.major >= 2 {
		return p.Path(kmip.TagAttributes).ChildrenOf(kmip.TagLink)
	}
	var out []*kmip.Item
	for _, a := range p.ChildrenOf(kmip.TagAttribute) {
		if n, _ := a.Child(kmip.TagAttributeName).AsText(); n == "Link" {
			out = append(out, a.Child(kmip.TagAttributeValue))
		}
	}
	return out
}

// digestOf returns the Digest Get Attributes answers for id at version v,
// and whether Get Attribute List names it.
func digestOf(t *testing.T, s *Service, v version, id string) (*kmip.Item, bool) {
	t.Helper()
	p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributes, uidItem(id))))
	var d *kmip.Item
	if v.major >= 2 {
		d = p.Path(kmip.TagAttributes, kmip.TagDigest)
	} else {
		for _, a := range p.ChildrenOf(kmip.TagAttribute) {
			if n, _ := a.Child(kmip.TagAttributeName).AsText(); n == "Digest" {
				d = a.Child(kmip.TagAttributeValue)
			}
		}
	}
	l := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributeList, uidItem(id))))
	listed := false
	if v.major >= 2 {
		for _, r := range l.ChildrenOf(kmip.TagAttributeReference) {
			e, _ := r.AsEnum()
			listed = listed || kmip.Tag(e) == kmip.TagDigest
		}
	} else {
		for _, n := range l.ChildrenOf(kmip.TagAttributeName) {
			name, _ := n.AsText()
			listed = listed || name == "Digest"
		}
	}
	return d, listed
}

// TestDigestOfEveryObjectKind: the server sets a SHA-256 Digest when an
// object is registered (KMIP 1.4 §3.17, KMIP 2.1 §4.12): over a Byte String
// Key Material as is, over a structured Key Material TTLV-encoded, over a
// certificate's Certificate Value and an opaque object's Opaque Data Value,
// with the Key Format Type of the registered key; Get Attributes and Get
// Attribute List show it at every version.
func TestDigestOfEveryObjectKind(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	transparent := kmip.Struct(kmip.TagKeyMaterial, kmip.Bytes(kmip.TagKey, []byte("0123456789abcdef")))
	encoded, err := kmip.AppendTTLV(nil, transparent)
	if err != nil {
		t.Fatal(err)
	}
	aes := []*kmip.Item{kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)), kmip.Int(kmip.TagCryptographicLength, 128)}
	cases := []struct {
		name   string
		t      kmip.ObjectType
		obj    *kmip.Item
		over   []byte
		format kmip.KeyFormatType
	}{
		{"transparent symmetric key", kmip.ObjectTypeSymmetricKey, kmip.Struct(kmip.TagSymmetricKey,
			keyBlock(kmip.KeyFormatTypeTransparentSymmetricKey, transparent, aes...)), encoded, kmip.KeyFormatTypeTransparentSymmetricKey},
		{"raw symmetric key", kmip.ObjectTypeSymmetricKey, kmip.Struct(kmip.TagSymmetricKey,
			keyBlock(kmip.KeyFormatTypeRaw, keyBytes([]byte("0123456789abcdef")), aes...)), []byte("0123456789abcdef"), kmip.KeyFormatTypeRaw},
		{"certificate", kmip.ObjectTypeCertificate, k.certificate(), k.cert, kmip.KeyFormatTypeOpaque},
		{"opaque object", kmip.ObjectTypeOpaqueObject, kmip.Struct(kmip.TagOpaqueObject, kmip.Enum(kmip.TagOpaqueDataType, 0x80000010),
			kmip.Bytes(kmip.TagOpaqueDataValue, []byte("blob"))), []byte("blob"), kmip.KeyFormatTypeOpaque},
	}
	for _, v := range allVersions {
		s := newService(t)
		for _, c := range cases {
			req := register(c.t, c.obj.Clone())
			if v.major >= 2 {
				req = register21(c.t, c.obj.Clone())
			}
			id := createdID(t, sendOne(t, s, alice, v, req))
			d, listed := digestOf(t, s, v, id)
			want := sha256.Sum256(c.over)
			got, _ := d.Child(kmip.TagDigestValue).AsBytes()
			if !bytes.Equal(got, want[:]) {
				t.Errorf("%s %s: Digest Value %x, want SHA-256 %x", v, c.name, got, want)
			}
			if h, _ := d.Child(kmip.TagHashingAlgorithm).AsEnum(); kmip.HashingAlgorithm(h) != kmip.HashingAlgorithmSHA_256 {
				t.Errorf("%s %s: Hashing Algorithm %d", v, c.name, h)
			}
			if f, _ := d.Child(kmip.TagKeyFormatType).AsEnum(); kmip.KeyFormatType(f) != c.format {
				t.Errorf("%s %s: Key Format Type %d, want %s", v, c.name, f, c.format)
			}
			if !listed {
				t.Errorf("%s %s: Get Attribute List does not name Digest", v, c.name)
			}
		}
	}
}

// TestDigestOfDerivedAndReKeyedKeys: derived and re-keyed keys get their own
// Digest, over their own material (KMIP 1.4 §3.17 "When implicitly set").
func TestDigestOfDerivedAndReKeyedKeys(t *testing.T) {
	t.Parallel()
	for _, v := range []version{{1, 0}, v14, v21} {
		s := newCryptoService()
		base := aesKey(t, s, v, mask(kmip.CryptographicUsageMaskDeriveKey), activeNow())
		derived := createdID(t, sendOne(t, s, alice, v, batchItem(kmip.OperationDeriveKey, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			uidItem(base), kmip.Enum(kmip.TagDerivationMethod, uint32(kmip.DerivationMethodHMAC)),
			kmip.Struct(kmip.TagDerivationParameters,
				kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))),
				kmip.Bytes(kmip.TagDerivationData, []byte("context"))),
			attrsFor(v, kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
				kmip.Int(kmip.TagCryptographicLength, 128), mask(kmip.CryptographicUsageMaskEncrypt)))))
		rekeyed := createdID(t, sendOne(t, s, alice, v, batchItem(kmip.OperationReKey, uidItem(base))))
		for _, id := range []string{derived, rekeyed} {
			d, _ := digestOf(t, s, v, id)
			want := sha256.Sum256(keyMaterial(t, s, id))
			if got, _ := d.Child(kmip.TagDigestValue).AsBytes(); !bytes.Equal(got, want[:]) {
				t.Errorf("%s: %s has Digest %x, want the SHA-256 of its own material", v, id, got)
			}
		}
	}
}

// newerTags lists the tags anywhere in it that version v does not define.
func newerTags(it *kmip.Item, v version) []kmip.Tag {
	var out []kmip.Tag
	if !kmip.TagDefinedIn(it.Tag, v.major, v.minor) {
		out = append(out, it.Tag)
	}
	for _, c := range it.Children() {
		out = append(out, newerTags(c, v)...)
	}
	return out
}

// TestQueryListsOnlyWhatTheVersionDefines: Query answers a client only with
// operations, object types and profiles its version defines: no Discover
// Versions or Re-key Key Pair (1.1) at 1.0, no PGP Key (1.2) before 1.2,
// no Import/Export (1.4) or KMIPv1.4 profiles at 1.3, no field newer than
// the version anywhere in the answer.
func TestQueryListsOnlyWhatTheVersionDefines(t *testing.T) {
	t.Parallel()
	s := newService(t)
	for _, v := range append(slices.Clone(versions1x), version{2, 0}, v21) {
		var fs []*kmip.Item
		for f := uint32(1); f <= 0x0E; f++ {
			fs = append(fs, kmip.Enum(kmip.TagQueryFunction, f))
		}
		resp, rs := send(t, s, alice, msg(v, batchItem(kmip.OperationQuery, fs...)))
		p := mustOK(t, rs[0])
		if n := newerTags(resp, v); len(n) > 0 {
			t.Errorf("%s: the Query answer carries fields newer than the version: %v", v, n)
		}
		for _, it := range p.ChildrenOf(kmip.TagOperation) {
			op, _ := it.AsEnum()
			if !kmip.EnumDefinedIn(kmip.TagOperation, op, v.major, v.minor) {
				t.Errorf("%s: Query lists %s, which the version does not define", v, kmip.Operation(op))
			}
		}
		for _, it := range p.ChildrenOf(kmip.TagObjectType) {
			ot, _ := it.AsEnum()
			if !kmip.EnumDefinedIn(kmip.TagObjectType, ot, v.major, v.minor) {
				t.Errorf("%s: Query lists object type %s", v, kmip.ObjectType(ot))
			}
		}
		for _, it := range p.ChildrenOf(kmip.TagProfileInformation) {
			pn, _ := it.Child(kmip.TagProfileName).AsEnum()
			if !kmip.EnumDefinedIn(kmip.TagProfileName, pn, v.major, v.minor) {
				t.Errorf("%s: Query lists profile %s", v, kmip.ProfileName(pn))
			}
		}
		if v.minor == 3 && len(p.ChildrenOf(kmip.TagProfileInformation)) == 0 {
			t.Errorf("1.3: Query lists no profile at all")
		}
		if len(p.ChildrenOf(kmip.TagOperation)) == 0 || len(p.ChildrenOf(kmip.TagObjectType)) == 0 {
			t.Errorf("%s: Query lists no operations or object types", v)
		}
	}
	// Discover Versions is still answered at 1.0, as a probe.
	mustOK(t, sendOne(t, s, alice, version{1, 0}, batchItem(kmip.OperationDiscoverVersions)))
}

// TestAnswersCarryNoNewerField: no answer carries a field newer than the
// negotiated version, whatever the stored object holds: a key given the
// 1.2 fields Random IV and Tag Length in its Cryptographic Parameters at 1.4
// shows 1.0 and 1.1 clients only the older fields of that attribute.
func TestAnswersCarryNoNewerField(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	params := kmip.Struct(kmip.TagCryptographicParameters,
		kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC)),
		kmip.Bool(kmip.TagRandomIV, true), kmip.Int(kmip.TagTagLength, 16))
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt), activeNow(), params)
	for _, v := range versions1x {
		resp, rs := send(t, s, alice, msg(v, batchItem(kmip.OperationGetAttributes, uidItem(id))))
		p := mustOK(t, rs[0])
		if n := newerTags(resp, v); len(n) > 0 {
			t.Errorf("%s: Get Attributes carries fields newer than the version: %v", v, n)
		}
		var cp *kmip.Item
		for _, a := range p.ChildrenOf(kmip.TagAttribute) {
			if n, _ := a.Child(kmip.TagAttributeName).AsText(); n == "Cryptographic Parameters" {
				cp = a.Child(kmip.TagAttributeValue)
			}
		}
		if m, _ := cp.Child(kmip.TagBlockCipherMode).AsEnum(); kmip.BlockCipherMode(m) != kmip.BlockCipherModeCBC {
			t.Errorf("%s: the Block Cipher Mode (a 1.0 field) was lost: %v", v, cp)
		}
		if (cp.Child(kmip.TagRandomIV) != nil) != v.atLeast(1, 2) {
			t.Errorf("%s: Random IV (1.2) present %v", v, cp.Child(kmip.TagRandomIV) != nil)
		}
		if (cp.Child(kmip.TagTagLength) != nil) != v.atLeast(1, 2) {
			t.Errorf("%s: Tag Length (1.2) present %v", v, cp.Child(kmip.TagTagLength) != nil)
		}
	}
}

// locateIDsAt runs a Locate at version v with 1.x Attribute structures (or
// 2.x Attributes) and returns the identifiers answered.
func locateIDsAt(t *testing.T, s *Service, v version, fields []*kmip.Item, attrs ...*kmip.Item) []string {
	t.Helper()
	payload := append([]*kmip.Item{}, fields...)
	if v.major >= 2 {
		payload = append(payload, kmip.Struct(kmip.TagAttributes, attrs...))
	} else {
		for _, a := range attrs {
			payload = append(payload, attribute1x(a.Tag.SpecName(), a))
		}
	}
	p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationLocate, payload...)))
	var ids []string
	for _, it := range p.ChildrenOf(kmip.TagUniqueIdentifier) {
		id, _ := it.AsText()
		ids = append(ids, id)
	}
	return ids
}

// aesCreateInGroup is a Create of an unnamed 128-bit AES key in Object
// Group group, at v's wire shape: names are unique (KMIP 1.4 §3.2), groups
// are how several objects share a label.
func aesCreateInGroup(v version, group string) *kmip.Item {
	req := aesCreate14(128, "")
	ta := req.Child(kmip.TagRequestPayload).Child(kmip.TagTemplateAttribute)
	if v.major >= 2 {
		req = aesCreate21(128, "")
		req.Child(kmip.TagRequestPayload).Child(kmip.TagAttributes).Add(kmip.Text(kmip.TagObjectGroup, group))
		return req
	}
	ta.Add(attribute1x("Object Group", kmip.Text(0, group)))
	return req
}
