package app

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// registerSecret is a Register of Secret Data in version v's attribute form.
func registerSecret(v version, attrs ...*kmip.Item) *kmip.Item {
	var box *kmip.Item
	if v.major >= 2 {
		box = kmip.Struct(kmip.TagAttributes, attrs...)
	} else {
		box = kmip.Struct(kmip.TagTemplateAttribute)
		for _, a := range attrs {
			box.Add(attribute1x(a.Tag.SpecName(), a))
		}
	}
	return batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData)), box,
		kmip.Struct(kmip.TagSecretData, kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)),
			kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeOpaque)),
				kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, []byte("pw"))))))
}

// The attribute operations answer each refusal with the Result Reason of
// the request's version: KMIP 1.4 §11.15-11.17, KMIP 2.1 §6.1.2, §6.1.3,
// §6.1.14, §6.1.34, §6.1.52 and the §11.2 definitions.
func TestAttributeOperationErrorsPerVersion(t *testing.T) {
	t.Parallel()
	newAttr := func(it *kmip.Item) *kmip.Item { return kmip.Struct(kmip.TagNewAttribute, it) }
	curAttr := func(it *kmip.Item) *kmip.Item { return kmip.Struct(kmip.TagCurrentAttribute, it) }
	ref := func(tag kmip.Tag) *kmip.Item { return kmip.Enum(kmip.TagAttributeReference, uint32(tag)) }
	attrName := func(n string) *kmip.Item { return kmip.Text(kmip.TagAttributeName, n) }
	contact := kmip.Text(kmip.TagContactInformation, "ops")
	domainParams := kmip.Struct(kmip.TagCryptographicDomainParameters, kmip.Int(kmip.TagQlength, 160))
	at := func(n int32, a *kmip.Item) *kmip.Item { return a.Add(kmip.Int(kmip.TagAttributeIndex, n)) }
	adjust := func(tag kmip.Tag, kind kmip.AdjustmentType, extra ...*kmip.Item) []*kmip.Item {
		return append([]*kmip.Item{ref(tag), kmip.Enum(kmip.TagAdjustmentType, uint32(kind))}, extra...)
	}

	cases := []struct {
		name string
		v    version
		op   kmip.Operation
		// setup runs first (Add Attribute items, must succeed).
		setup []*kmip.Item
		args  []*kmip.Item
		want  kmip.ResultReason
	}{
		// Add Attribute.
		{"add read-only 1.4", v14, kmip.OperationAddAttribute, nil, []*kmip.Item{attribute1x("Digest", kmip.Struct(0))}, kmip.ResultReasonPermissionDenied},
		{"add read-only 2.1", v21, kmip.OperationAddAttribute, nil, []*kmip.Item{newAttr(kmip.DateTime(kmip.TagInitialDate, time.Unix(1, 0)))}, kmip.ResultReasonAttributeReadOnly},
		{"add server custom y- 1.4", v14, kmip.OperationAddAttribute, nil, []*kmip.Item{attribute1x("y-mine", kmip.Text(0, "v"))}, kmip.ResultReasonPermissionDenied},
		{"add single-valued twice 1.4", v14, kmip.OperationAddAttribute, []*kmip.Item{attribute1x("Contact Information", contact)}, []*kmip.Item{attribute1x("Contact Information", contact)}, kmip.ResultReasonIllegalOperation},
		{"add single-valued twice 2.1", v21, kmip.OperationAddAttribute, []*kmip.Item{attribute1x("Contact Information", contact)}, []*kmip.Item{newAttr(contact)}, kmip.ResultReasonAttributeSingleValued},
		{"add with index 1.4", v14, kmip.OperationAddAttribute, nil, []*kmip.Item{at(1, attribute1x("Contact Information", contact))}, kmip.ResultReasonInvalidField},
		{"add not applicable 1.4", v14, kmip.OperationAddAttribute, nil, []*kmip.Item{attribute1x("Cryptographic Domain Parameters", domainParams)}, kmip.ResultReasonPermissionDenied},
		{"add not applicable 2.1", v21, kmip.OperationAddAttribute, nil, []*kmip.Item{newAttr(domainParams)}, kmip.ResultReasonInvalidAttribute},
		{"add same name 1.4", v14, kmip.OperationAddAttribute, nil, []*kmip.Item{attribute1x("Name", nameItem("key"))}, kmip.ResultReasonIllegalOperation},
		{"add same name 2.1", v21, kmip.OperationAddAttribute, nil, []*kmip.Item{newAttr(nameItem("key"))}, kmip.ResultReasonNonUniqueNameAttribute},
		{"add other object's name 1.4", v14, kmip.OperationAddAttribute, nil, []*kmip.Item{attribute1x("Name", nameItem("other"))}, kmip.ResultReasonIllegalOperation},
		{"add other object's name 2.1", v21, kmip.OperationAddAttribute, nil, []*kmip.Item{newAttr(nameItem("other"))}, kmip.ResultReasonNonUniqueNameAttribute},
		{"add unknown name 1.4", v14, kmip.OperationAddAttribute, nil, []*kmip.Item{attribute1x("Colour", kmip.Text(0, "red"))}, kmip.ResultReasonInvalidField},
		{"add vendor-style name 1.4", v14, kmip.OperationAddAttribute, nil, []*kmip.Item{attribute1x("acme-colour", kmip.Text(0, "red"))}, kmip.ResultReasonInvalidField},
		{"add 2.x attribute 1.4", v14, kmip.OperationAddAttribute, nil, []*kmip.Item{attribute1x("Quantum Safe", kmip.Bool(0, true))}, kmip.ResultReasonInvalidField},
		{"add 1.x-only attribute 2.1", v21, kmip.OperationAddAttribute, nil, []*kmip.Item{newAttr(kmip.Text(kmip.TagOperationPolicyName, "default"))}, kmip.ResultReasonInvalidAttribute},
		{"add without value 2.1", v21, kmip.OperationAddAttribute, nil, nil, kmip.ResultReasonMissingData},
		{"add ASI without data 1.4", v14, kmip.OperationAddAttribute, nil, []*kmip.Item{attribute1x("Application Specific Information",
			kmip.Struct(0, kmip.Text(kmip.TagApplicationNamespace, "ssl")))}, kmip.ResultReasonApplicationNamespaceNotSupported},
		{"add ASI without data 2.1", v21, kmip.OperationAddAttribute, nil, []*kmip.Item{newAttr(kmip.Struct(kmip.TagApplicationSpecificInformation,
			kmip.Text(kmip.TagApplicationNamespace, "ssl")))}, kmip.ResultReasonApplicationNamespaceNotSupported},
		{"add second RNG 1.4", v14, kmip.OperationAddAttribute, nil, []*kmip.Item{attribute1x("Random Number Generator",
			kmip.Struct(0, kmip.Enum(kmip.TagRNGAlgorithm, uint32(kmip.RNGAlgorithmDRBG))))}, kmip.ResultReasonIllegalOperation},

		// Modify Attribute.
		{"modify read-only 1.4", v14, kmip.OperationModifyAttribute, nil, []*kmip.Item{attribute1x("Initial Date", kmip.DateTime(0, time.Unix(1, 0)))}, kmip.ResultReasonPermissionDenied},
		{"modify read-only 2.1", v21, kmip.OperationModifyAttribute, nil, []*kmip.Item{newAttr(kmip.Bool(kmip.TagFresh, false))}, kmip.ResultReasonAttributeReadOnly},
		{"modify RNG 2.1", v21, kmip.OperationModifyAttribute, nil, []*kmip.Item{newAttr(kmip.Struct(kmip.TagRandomNumberGenerator,
			kmip.Enum(kmip.TagRNGAlgorithm, uint32(kmip.RNGAlgorithmDRBG))))}, kmip.ResultReasonAttributeReadOnly},
		{"modify absent 1.4", v14, kmip.OperationModifyAttribute, nil, []*kmip.Item{attribute1x("Contact Information", contact)}, kmip.ResultReasonInvalidField},
		{"modify absent 2.1", v21, kmip.OperationModifyAttribute, nil, []*kmip.Item{newAttr(contact)}, kmip.ResultReasonAttributeNotFound},
		{"modify index not found 1.4", v14, kmip.OperationModifyAttribute, nil, []*kmip.Item{at(3, attribute1x("Name", nameItem("n")))}, kmip.ResultReasonItemNotFound},
		{"modify instance not found 2.1", v21, kmip.OperationModifyAttribute, nil, []*kmip.Item{curAttr(nameItem("nope")), newAttr(nameItem("n"))}, kmip.ResultReasonAttributeInstanceNotFound},
		{"modify to other object's name 2.1", v21, kmip.OperationModifyAttribute, nil, []*kmip.Item{newAttr(nameItem("other"))}, kmip.ResultReasonNonUniqueNameAttribute},
		{"modify to other object's name 1.4", v14, kmip.OperationModifyAttribute, nil, []*kmip.Item{attribute1x("Name", nameItem("other"))}, kmip.ResultReasonIllegalOperation},

		// Delete Attribute.
		{"delete read-only 1.4", v14, kmip.OperationDeleteAttribute, nil, []*kmip.Item{attrName("Fresh")}, kmip.ResultReasonPermissionDenied},
		{"delete read-only 2.1", v21, kmip.OperationDeleteAttribute, nil, []*kmip.Item{ref(kmip.TagSensitive)}, kmip.ResultReasonAttributeReadOnly},
		{"delete absent 1.4", v14, kmip.OperationDeleteAttribute, nil, []*kmip.Item{attrName("Contact Information")}, kmip.ResultReasonItemNotFound},
		{"delete absent 2.1", v21, kmip.OperationDeleteAttribute, nil, []*kmip.Item{ref(kmip.TagContactInformation)}, kmip.ResultReasonAttributeNotFound},
		{"delete index not found 1.4", v14, kmip.OperationDeleteAttribute, nil, []*kmip.Item{attrName("Name"), kmip.Int(kmip.TagAttributeIndex, 4)}, kmip.ResultReasonItemNotFound},
		{"delete instance not found 2.1", v21, kmip.OperationDeleteAttribute, nil, []*kmip.Item{curAttr(nameItem("nope"))}, kmip.ResultReasonAttributeInstanceNotFound},
		{"delete unknown 1.4", v14, kmip.OperationDeleteAttribute, nil, []*kmip.Item{attrName("Colour")}, kmip.ResultReasonInvalidField},

		// Set Attribute (KMIP 2.x only).
		{"set in 1.4", v14, kmip.OperationSetAttribute, nil, []*kmip.Item{attribute1x("Contact Information", contact)}, kmip.ResultReasonOperationNotSupported},
		{"set multi-valued 2.1", v21, kmip.OperationSetAttribute, nil, []*kmip.Item{newAttr(nameItem("n"))}, kmip.ResultReasonMultiValuedAttribute},
		{"set read-only 2.1", v21, kmip.OperationSetAttribute, nil, []*kmip.Item{newAttr(kmip.Int(kmip.TagProtectionStorageMask, 2))}, kmip.ResultReasonAttributeReadOnly},
		{"set fixed once set 2.1", v21, kmip.OperationSetAttribute, nil, []*kmip.Item{newAttr(kmip.Bool(kmip.TagFresh, false))}, kmip.ResultReasonAttributeReadOnly},
		{"set not applicable 2.1", v21, kmip.OperationSetAttribute, nil, []*kmip.Item{newAttr(domainParams)}, kmip.ResultReasonInvalidAttribute},

		// Adjust Attribute (KMIP 2.x only).
		{"adjust in 1.4", v14, kmip.OperationAdjustAttribute, nil, adjust(kmip.TagProtectionPeriod, kmip.AdjustmentTypeIncrement), kmip.ResultReasonOperationNotSupported},
		{"adjust read-only 2.1", v21, kmip.OperationAdjustAttribute, nil, adjust(kmip.TagInitialDate, kmip.AdjustmentTypeIncrement), kmip.ResultReasonReadOnlyAttribute},
		{"adjust multi-valued 2.1", v21, kmip.OperationAdjustAttribute, nil, adjust(kmip.TagName, kmip.AdjustmentTypeIncrement), kmip.ResultReasonMultiValuedAttribute},
		{"adjust absent text 2.1", v21, kmip.OperationAdjustAttribute, nil, adjust(kmip.TagContactInformation, kmip.AdjustmentTypeIncrement), kmip.ResultReasonItemNotFound},
		{"adjust text 2.1", v21, kmip.OperationAdjustAttribute, []*kmip.Item{attribute1x("Contact Information", contact)}, adjust(kmip.TagContactInformation, kmip.AdjustmentTypeIncrement), kmip.ResultReasonInvalidDataType},
		{"adjust below zero 2.1", v21, kmip.OperationAdjustAttribute, nil, adjust(kmip.TagProtectionPeriod, kmip.AdjustmentTypeDecrement), kmip.ResultReasonNumericRange},
		{"adjust negate interval 2.1", v21, kmip.OperationAdjustAttribute, nil, adjust(kmip.TagProtectionPeriod, kmip.AdjustmentTypeNegate), kmip.ResultReasonInvalidDataType},
		{"adjust without type 2.1", v21, kmip.OperationAdjustAttribute, nil, []*kmip.Item{ref(kmip.TagProtectionPeriod)}, kmip.ResultReasonMissingData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(t)
			createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "other")))
			id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "key")))
			for _, a := range tc.setup {
				mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), a.Clone())))
			}
			before := attrs14(t, s, id)
			mustFail(t, sendOne(t, s, alice, tc.v, batchItem(tc.op, append([]*kmip.Item{uidItem(id)}, tc.args...)...)), tc.want)
			after := attrs14(t, s, id)
			if len(after) != len(before) || !after["Last Change Date"][0].Equal(before["Last Change Date"][0]) {
				t.Errorf("a refused %s changed the object", tc.op)
			}
		})
	}
}

// New objects carry the attributes the server sets (KMIP 1.4 §3.34,
// §3.46-3.49; KMIP 2.1 §4.38, §4.44, §4.46, §4.56), each shown only to
// the versions that define it.
func TestServerSetAttributes(t *testing.T) {
	t.Parallel()
	s := newService(t)
	created := createdID(t, sendOne(t, s, alice, v21, aesCreate21(128, "")))
	registered := createdID(t, sendOne(t, s, alice, v21, registerSecret(v21)))

	for id, generated := range map[string]bool{created: true, registered: false} {
		a := attrs21(t, s, id)
		for tag, want := range map[kmip.Tag]bool{kmip.TagFresh: true, kmip.TagSensitive: false, kmip.TagExtractable: true,
			kmip.TagAlwaysSensitive: false, kmip.TagNeverExtractable: false} {
			if len(a[tag]) != 1 {
				t.Fatalf("%s: %d values, want 1", tag, len(a[tag]))
			}
			if v, _ := a[tag][0].AsBool(); v != want {
				t.Errorf("%s = %v, want %v", tag, v, want)
			}
		}
		sum := sha256.Sum256([]byte(id))
		if b, _ := a[kmip.TagShortUniqueIdentifier][0].AsBytes(); string(b) != string(sum[:]) {
			t.Errorf("Short Unique Identifier is not the SHA-256 of the Unique Identifier")
		}
		if m, _ := a[kmip.TagProtectionStorageMask][0].AsInt(); m != int32(kmip.ProtectionStorageMaskSoftware) {
			t.Errorf("Protection Storage Mask %d", m)
		}
		if len(a[kmip.TagOriginalCreationDate]) != 1 {
			t.Error("no Original Creation Date")
		}
		rng := a[kmip.TagRandomNumberGenerator]
		if generated != (len(rng) == 1) {
			t.Errorf("generated=%v but %d Random Number Generator values", generated, len(rng))
		}
		if generated {
			if alg, _ := rng[0].Child(kmip.TagRNGAlgorithm).AsEnum(); kmip.RNGAlgorithm(alg) != kmip.RNGAlgorithmUnspecified {
				t.Errorf("RNG Algorithm %s, want Unspecified (the software engine does not describe its RNG)", kmip.RNGAlgorithm(alg))
			}
		}
		a14 := attrs14(t, s, id)
		for _, hidden := range []string{"Short Unique Identifier", "Protection Storage Mask", "Key Format Type"} {
			if len(a14[hidden]) != 0 {
				t.Errorf("KMIP 1.4 client shown %s, a KMIP 2.0 attribute", hidden)
			}
		}
		if len(a14["Fresh"]) != 1 || len(a14["Always Sensitive"]) != 1 {
			t.Error("KMIP 1.4 client not shown Fresh / Always Sensitive")
		}
	}
	// A client registering an object it generated may describe its RNG; one
	// asking the server for another RNG than its own is refused (2.1 §4.46).
	drbg := kmip.Struct(kmip.TagRandomNumberGenerator, kmip.Enum(kmip.TagRNGAlgorithm, uint32(kmip.RNGAlgorithmDRBG)))
	id := createdID(t, sendOne(t, s, alice, v21, registerSecret(v21, drbg)))
	if got := attrs21(t, s, id)[kmip.TagRandomNumberGenerator]; len(got) != 1 || !got[0].Equal(drbg) {
		t.Errorf("registered RNG %v, want the client's", got)
	}
	create := aesCreate21(128, "")
	create.Child(kmip.TagRequestPayload).Child(kmip.TagAttributes).Add(drbg.Clone())
	mustFail(t, sendOne(t, s, alice, v21, create), kmip.ResultReasonInvalidAttributeValue)
	create14 := aesCreate14(128, "")
	create14.Child(kmip.TagRequestPayload).Child(kmip.TagTemplateAttribute).Add(attribute1x("Random Number Generator", drbg))
	mustFail(t, sendOne(t, s, alice, v14, create14), kmip.ResultReasonInvalidField)
	create = aesCreate21(128, "")
	create.Child(kmip.TagRequestPayload).Child(kmip.TagAttributes).Add(s.serverRNG())
	mustOK(t, sendOne(t, s, alice, v21, create))
	// Server-set attributes are not the client's to give.
	mustFail(t, sendOne(t, s, alice, v21, registerSecret(v21, kmip.Bool(kmip.TagAlwaysSensitive, true))), kmip.ResultReasonAttributeReadOnly)
	mustFail(t, sendOne(t, s, alice, v14, registerSecret(v14, kmip.Bool(kmip.TagNeverExtractable, true))), kmip.ResultReasonInvalidField)
}

// A Sensitive object's value is never handed out unwrapped (OASIS
// BL-M-12-21), a non-Extractable one never; Always Sensitive and Never
// Extractable remember whether that was always so.
func TestSensitiveAndExtractable(t *testing.T) {
	t.Parallel()
	for _, v := range []version{v14, v21} {
		s := newService(t)
		id := createdID(t, sendOne(t, s, alice, v, registerSecret(v, kmip.Bool(kmip.TagSensitive, true))))
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))), kmip.ResultReasonSensitive)
		a := attrs21(t, s, id)
		if b, _ := a[kmip.TagAlwaysSensitive][0].AsBool(); !b {
			t.Errorf("%s: Always Sensitive false for an object registered Sensitive", v)
		}
		if b, _ := a[kmip.TagFresh][0].AsBool(); !b {
			t.Errorf("%s: a refused Get cleared Fresh", v)
		}
		mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationSetAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, kmip.Bool(kmip.TagSensitive, false)))))
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))))
		if b, _ := attrs21(t, s, id)[kmip.TagAlwaysSensitive][0].AsBool(); b {
			t.Errorf("%s: Always Sensitive still true after Sensitive became false", v)
		}

		id = createdID(t, sendOne(t, s, alice, v, registerSecret(v, kmip.Bool(kmip.TagExtractable, false))))
		mustFail(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))), kmip.ResultReasonNotExtractable)
		if b, _ := attrs21(t, s, id)[kmip.TagNeverExtractable][0].AsBool(); !b {
			t.Errorf("%s: Never Extractable false for an object registered not Extractable", v)
		}
		mod := attribute1x("Extractable", kmip.Bool(0, true))
		mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationModifyAttribute, uidItem(id), mod)))
		mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGet, uidItem(id))))
		if b, _ := attrs21(t, s, id)[kmip.TagNeverExtractable][0].AsBool(); b {
			t.Errorf("%s: Never Extractable still true after Extractable became true", v)
		}
	}
}

// The first Get clears Fresh (OASIS BL-M-13-21); Get Attributes does not.
func TestFreshClearedByFirstGet(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v21, registerSecret(v21, kmip.Bool(kmip.TagFresh, true))))
	fresh := func() bool {
		b, _ := attrs21(t, s, id)[kmip.TagFresh][0].AsBool()
		return b
	}
	if !fresh() {
		t.Fatal("new object is not Fresh")
	}
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGet, uidItem(id))))
	if fresh() {
		t.Error("Fresh still true after Get")
	}
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGet, uidItem(id))))
	if fresh() {
		t.Error("Fresh true after a second Get")
	}
	// A client may register an object that is not fresh.
	id = createdID(t, sendOne(t, s, alice, v14, registerSecret(v14, kmip.Bool(kmip.TagFresh, false))))
	if fresh() {
		t.Error("Fresh true although registered false")
	}
}

// Custom attributes: KMIP 1.x "x-" attributes are the client's to add,
// modify and delete, stored with their item type and searchable; KMIP 2.x
// Vendor Attributes are the same attributes (vendor "x").
func TestCustomAndVendorAttributes(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	other := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("x-count", kmip.Int(0, 7)))))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("x-tag", kmip.Text(0, "a")))))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("x-tag", kmip.Text(0, "b")))))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(other), attribute1x("x-count", kmip.Int(0, 8)))))

	a := attrs14(t, s, id)
	if n, ok := a["x-count"][0].AsInt(); !ok || n != 7 {
		t.Errorf("x-count %v, want Integer 7", a["x-count"][0])
	}
	if len(a["x-tag"]) != 2 {
		t.Errorf("x-tag has %d values, want 2", len(a["x-tag"]))
	}
	located := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationLocate, attribute1x("x-count", kmip.Int(0, 7)))))
	if ids := located.ChildrenOf(kmip.TagUniqueIdentifier); len(ids) != 1 || !ids[0].Equal(uidItem(id)) {
		t.Errorf("Locate by x-count found %d objects, want only %s", len(ids), id)
	}

	// The same attribute as a KMIP 2.1 Vendor Attribute.
	p := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGetAttributes, uidItem(id),
		kmip.Struct(kmip.TagAttributeReference, kmip.Text(kmip.TagVendorIdentification, "x"), kmip.Text(kmip.TagAttributeName, "count")))))
	got := p.Child(kmip.TagAttributes).Children()
	if len(got) != 1 || got[0].Tag != kmip.TagAttribute {
		t.Fatalf("Vendor Attribute answer %v", got)
	}
	if n, _ := got[0].Child(kmip.TagAttributeValue).AsInt(); n != 7 {
		t.Errorf("vendor attribute value %v", got[0])
	}
	vendor := func(name string, v *kmip.Item) *kmip.Item {
		v = v.Clone()
		v.Tag = kmip.TagAttributeValue
		return kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagVendorIdentification, "acme"), kmip.Text(kmip.TagAttributeName, name), v)
	}
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationAddAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, vendor("colour", kmip.Text(0, "red"))))))
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationModifyAttribute, uidItem(id), kmip.Struct(kmip.TagNewAttribute, vendor("colour", kmip.Text(0, "blue"))))))
	if v, _ := attrs21(t, s, id)[kmip.TagAttribute]; len(v) != 4 {
		t.Errorf("%d vendor attributes, want 4 (x-count, 2 x-tag, acme-colour)", len(v))
	}
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Struct(kmip.TagAttributeReference,
		kmip.Text(kmip.TagVendorIdentification, "acme"), kmip.Text(kmip.TagAttributeName, "colour")))))

	// 1.x modify and delete by index.
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationModifyAttribute, uidItem(id),
		attribute1x("x-tag", kmip.Text(0, "B")).Add(kmip.Int(kmip.TagAttributeIndex, 1)))))
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationDeleteAttribute, uidItem(id), kmip.Text(kmip.TagAttributeName, "x-tag"))))
	a = attrs14(t, s, id)
	if len(a["x-tag"]) != 1 {
		t.Fatalf("x-tag has %d values after deleting index 0, want 1", len(a["x-tag"]))
	}
	if v, _ := a["x-tag"][0].AsText(); v != "B" {
		t.Errorf("x-tag %q, want the modified B", v)
	}
}

// Every attribute change moves Last Change Date (KMIP 1.4 §3.38).
func TestAttributeChangeSetsLastChangeDate(t *testing.T) {
	t.Parallel()
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	s.cfg.Clock = fixedClock{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationAddAttribute, uidItem(id), attribute1x("Contact Information", kmip.Text(0, "x")))))
	if d, _ := attrs14(t, s, id)["Last Change Date"][0].AsTime(); d.Year() != 2027 {
		t.Errorf("Last Change Date %v after a change in 2027", d)
	}
}

// A key that must be Quantum Safe is generated only if it is (KMIP 2.1
// §4.45, OASIS QS-M-2-21: AES-128 is refused with General Failure).
func TestQuantumSafeCreate(t *testing.T) {
	t.Parallel()
	s := newService(t)
	create := func(bits int32) *kmip.Item {
		c := aesCreate21(bits, "")
		c.Child(kmip.TagRequestPayload).Child(kmip.TagAttributes).Add(kmip.Bool(kmip.TagQuantumSafe, true))
		return c
	}
	mustFail(t, sendOne(t, s, alice, v21, create(128)), kmip.ResultReasonGeneralFailure)
	id := createdID(t, sendOne(t, s, alice, v21, create(256)))
	if q, _ := attrs21(t, s, id)[kmip.TagQuantumSafe][0].AsBool(); !q {
		t.Error("Quantum Safe not stored")
	}
}

// A key registered without its Key Value is metadata: the server records
// Key Value Present false, the client may say where the key lives (KMIP
// 1.4 §3.41-3.42, OASIS TC-MDO-1-14). Public keys cannot be metadata only.
func TestMetadataOnlyObject(t *testing.T) {
	t.Parallel()
	s := newService(t)
	location := kmip.Struct(kmip.TagKeyValueLocation, kmip.Text(kmip.TagKeyValueLocationValue, "HSM-1"),
		kmip.Enum(kmip.TagKeyValueLocationType, uint32(kmip.KeyValueLocationTypeUninterpretedTextString)))
	register := func(ot kmip.ObjectType, tag kmip.Tag) *kmip.Item {
		return batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(ot)),
			kmip.Struct(kmip.TagTemplateAttribute, attribute1x("Key Value Location", location)),
			kmip.Struct(tag, kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)), kmip.Int(kmip.TagCryptographicLength, 128))))
	}
	id := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeSymmetricKey, kmip.TagSymmetricKey)))
	a := attrs14(t, s, id)
	if p, ok := a["Key Value Present"][0].AsBool(); !ok || p {
		t.Errorf("Key Value Present %v, want false", a["Key Value Present"])
	}
	if !a["Key Value Location"][0].Equal(func() *kmip.Item { l := location.Clone(); l.Tag = kmip.TagAttributeValue; return l }()) {
		t.Errorf("Key Value Location %v", a["Key Value Location"])
	}
	got := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))))
	if got.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue) != nil {
		t.Error("Get invented a Key Value")
	}
	full := createdID(t, sendOne(t, s, alice, v14, aesCreate14(128, "")))
	if len(attrs14(t, s, full)["Key Value Present"]) != 0 {
		t.Error("Key Value Present set on a key that has its value")
	}
	mustFail(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypePublicKey, kmip.TagPublicKey)), kmip.ResultReasonInvalidField)
}

// A Re-key replacement describes its own generation: its own Short Unique
// Identifier, Fresh again, the server's RNG (KMIP 2.1 §4.46: not copied).
func TestReKeyReplacementGetsItsOwnServerAttributes(t *testing.T) {
	t.Parallel()
	s := newService(t)
	drbg := kmip.Struct(kmip.TagRandomNumberGenerator, kmip.Enum(kmip.TagRNGAlgorithm, uint32(kmip.RNGAlgorithmDRBG)))
	reg := batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		kmip.Struct(kmip.TagAttributes, kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt)), drbg),
		kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
			kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, make([]byte, 16))),
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)), kmip.Int(kmip.TagCryptographicLength, 128))))
	old := createdID(t, sendOne(t, s, alice, v21, reg))
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationGet, uidItem(old)))) // no longer Fresh
	repl := createdID(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationReKey, uidItem(old))))
	a := attrs21(t, s, repl)
	sum := sha256.Sum256([]byte(repl))
	if b, _ := a[kmip.TagShortUniqueIdentifier][0].AsBytes(); string(b) != string(sum[:]) {
		t.Error("replacement's Short Unique Identifier is not its own")
	}
	if f, _ := a[kmip.TagFresh][0].AsBool(); !f {
		t.Error("replacement is not Fresh")
	}
	if rng := a[kmip.TagRandomNumberGenerator]; len(rng) != 1 || !rng[0].Equal(s.serverRNG()) {
		t.Errorf("replacement RNG %v, want the server's, not the original's", rng)
	}
}
