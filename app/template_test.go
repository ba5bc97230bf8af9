package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// KMIP 1.x Templates: a Name in a Template-Attribute applies the named
// Template's attributes; individual attributes take precedence.
func TestTemplateReferences(t *testing.T) {
	t.Parallel()
	s := newService(t)
	tmpl := kmip.Struct(kmip.TagTemplate,
		attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
		attribute1x("Cryptographic Length", kmip.Int(0, 128)),
		attribute1x("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskEncrypt))),
		attribute1x("Object Group", kmip.Text(0, "from-template")))
	mustOK(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeTemplate, tmpl, attribute1x("Name", nameItem("aes-template")))))
	ot := kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey))

	id := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCreate, ot,
		kmip.Struct(kmip.TagTemplateAttribute, nameItem("aes-template")))))
	a := attrsOf(t, s, id)
	if n, _ := a["Cryptographic Length"][0].AsInt(); n != 128 {
		t.Errorf("length %d, want the Template's 128", n)
	}
	if g, _ := a["Object Group"][0].AsText(); g != "from-template" {
		t.Errorf("Object Group %q, want the Template's", g)
	}

	id = createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCreate, ot,
		kmip.Struct(kmip.TagTemplateAttribute, nameItem("aes-template"), attribute1x("Cryptographic Length", kmip.Int(0, 256))))))
	if a := attrsOf(t, s, id)["Cryptographic Length"]; len(a) != 1 {
		t.Errorf("Cryptographic Length has %d values", len(a))
	} else if n, _ := a[0].AsInt(); n != 256 {
		t.Errorf("length %d, want the individual 256", n)
	}

	// Register applies Templates too.
	id = createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeSecretData, kmip.Struct(kmip.TagSecretData,
		kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)), keyBlock(kmip.KeyFormatTypeOpaque, keyBytes([]byte("pw")))),
		nameItem("aes-template"))))
	if m, _ := attrsOf(t, s, id)["Cryptographic Usage Mask"][0].AsInt(); m != int32(kmip.CryptographicUsageMaskEncrypt) {
		t.Errorf("usage mask %d, want the Template's", m)
	}

	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationCreate, ot,
		kmip.Struct(kmip.TagTemplateAttribute, nameItem("no-such-template")))), kmip.ResultReasonItemNotFound)
	// Another owner's Template (default policy) is not found.
	mustFail(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationCreate, ot,
		kmip.Struct(kmip.TagTemplateAttribute, nameItem("aes-template")))), kmip.ResultReasonItemNotFound)
	// A Template needs attributes; KMIP 2.x has no Templates.
	mustFail(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeTemplate, kmip.Struct(kmip.TagTemplate))), kmip.ResultReasonInvalidField)
	mustFail(t, sendOne(t, s, alice, v21, register(kmip.ObjectTypeTemplate, tmpl)), kmip.ResultReasonInvalidObjectType)
}
