package codec

import (
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

func TestImportRequestNamesItsFields(t *testing.T) {
	t.Parallel()
	sym := kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey))
	key := kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock))
	id := kmip.Text(kmip.TagUniqueIdentifier, "k")
	_, err := DecodeImport(v14, payload(sym, key))
	wantErr(t, err, Missing, "Unique Identifier: Import needs the object's Unique Identifier as a Text String")
	_, err = DecodeImport(v14, payload(id, sym, key, kmip.Int(kmip.TagReplaceExisting, 1)))
	wantErr(t, err, Malformed, "Replace Existing: must be a Boolean")
	_, err = DecodeImport(v14, payload(id, sym, kmip.Bytes(kmip.TagSymmetricKey, []byte{1})))
	wantErr(t, err, Malformed, "Symmetric Key: is required, a Structure")
	_, err = DecodeImport(v14, payload(id, sym, key, kmip.Text(kmip.TagKeyWrapType, "x")))
	wantErr(t, err, Malformed, "Key Wrap Type: must be an Enumeration")
	req, err := DecodeImport(v21, payload(id, sym, key, kmip.Bool(kmip.TagReplaceExisting, true),
		kmip.Struct(kmip.TagAttributes, kmip.Int(kmip.TagCryptographicLength, 128))))
	if err != nil || !req.Replace || req.WrapType != nil || len(req.Attributes) != 1 || req.Object == key {
		t.Fatalf("import: %+v %v", req, err)
	}
}

func TestRegisterTakesTemplatesOnlyIn1x(t *testing.T) {
	t.Parallel()
	p := payload(kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)), kmip.Struct(kmip.TagTemplate))
	if req, err := DecodeRegister(v14, p); err != nil || req.Object == nil {
		t.Fatalf("1.4 Template: %+v %v", req, err)
	}
	_, err := DecodeRegister(v21, p)
	wantErr(t, err, BadObjectType, "Object Type: unknown Object Type 6")
	_, err = DecodeRegister(v21, payload(kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData))))
	wantErr(t, err, Malformed, "Secret Data: is required, a Structure")
}

func TestRegisterMovesATemplatesOwnNamesBefore13(t *testing.T) {
	t.Parallel()
	name := attr1x("Name", kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, "tmpl"), kmip.Enum(kmip.TagNameType, 1)))
	alg := attr1x("Cryptographic Algorithm", kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)))
	p := payload(kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)), kmip.Struct(kmip.TagTemplate, alg, name))
	old, err := DecodeRegister(Version{1, 2}, p)
	if err != nil || len(old.Attributes.Attributes) != 1 || old.Attributes.Attributes[0].Name != "Name" || len(old.Object.Children()) != 1 {
		t.Fatalf("1.2: %+v %v", old, err)
	}
	if len(p.Child(kmip.TagTemplate).Children()) != 2 {
		t.Fatal("1.2: the request's Template was changed in place")
	}
	now, err := DecodeRegister(v14, p)
	if err != nil || len(now.Attributes.Attributes) != 0 || len(now.Object.Children()) != 2 {
		t.Fatalf("1.4: %+v %v", now, err)
	}
	bad := payload(kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeTemplate)), kmip.Struct(kmip.TagTemplate,
		kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagAttributeName, "Name"), kmip.Text(kmip.TagAttributeValue, "x"))))
	_, err = DecodeRegister(Version{1, 0}, bad)
	wantErr(t, err, Malformed, "Template: Attribute 1: Attribute Value: Name must be a Structure, not a TextString")
}
