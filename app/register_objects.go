package app

import (
	"crypto/x509"
	"encoding/pem"
	"errors"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
)

// objectSince is the first protocol version that defines an object type
// (KMIP 1.2 added PGP Key, KMIP 2.0 Certificate Request; KMIP 2.0 removed
// Template, see objectType).
var objectSince = map[kmip.ObjectType]version{
	kmip.ObjectTypePGPKey:             {1, 2},
	kmip.ObjectTypeCertificateRequest: {2, 0},
}

// keyFormats lists the Key Format Types kmipd accepts for each key object
// type (KMIP 1.4 §9.1.3.2.3); nil accepts any defined format. Raw ("only
// cryptographic key material, encoded as a string of bytes", 1.4 §2.1.3) is
// accepted for public and private keys too: their bytes are stored as
// registered (recogniseRaw).
var keyFormats = map[kmip.ObjectType]map[kmip.KeyFormatType]bool{
	kmip.ObjectTypeSymmetricKey: {kmip.KeyFormatTypeRaw: true, kmip.KeyFormatTypeOpaque: true, kmip.KeyFormatTypeTransparentSymmetricKey: true},
	kmip.ObjectTypePublicKey: {kmip.KeyFormatTypeRaw: true, kmip.KeyFormatTypeOpaque: true, kmip.KeyFormatTypePKCS_1: true, kmip.KeyFormatTypeX_509: true,
		kmip.KeyFormatTypeTransparentRSAPublicKey: true, kmip.KeyFormatTypeTransparentDSAPublicKey: true, kmip.KeyFormatTypeTransparentDHPublicKey: true,
		kmip.KeyFormatTypeTransparentECPublicKey: true, kmip.KeyFormatTypeTransparentECDSAPublicKey: true,
		kmip.KeyFormatTypeTransparentECDHPublicKey: true, kmip.KeyFormatTypeTransparentECMQVPublicKey: true},
	kmip.ObjectTypePrivateKey: {kmip.KeyFormatTypeRaw: true, kmip.KeyFormatTypeOpaque: true, kmip.KeyFormatTypePKCS_1: true, kmip.KeyFormatTypePKCS_8: true,
		kmip.KeyFormatTypeECPrivateKey: true, kmip.KeyFormatTypePKCS_12: true,
		kmip.KeyFormatTypeTransparentRSAPrivateKey: true, kmip.KeyFormatTypeTransparentDSAPrivateKey: true, kmip.KeyFormatTypeTransparentDHPrivateKey: true,
		kmip.KeyFormatTypeTransparentECPrivateKey: true, kmip.KeyFormatTypeTransparentECDSAPrivateKey: true,
		kmip.KeyFormatTypeTransparentECDHPrivateKey: true, kmip.KeyFormatTypeTransparentECMQVPrivateKey: true},
}

// validateObject checks the structure of a registered object against its
// object type's definition (KMIP 1.4 §2.2, KMIP 2.1 §2.2): required fields
// present with their item types, enumerations defined, key material that
// parses in its stated Key Format Type and is the kind of key the object
// type says. Every refusal is Invalid Field with a message naming the field.
func validateObject(c *call, t kmip.ObjectType, obj *kmip.Item) error {
	if since, ok := objectSince[t]; ok && !c.v.atLeast(since.major, since.minor) {
		return badObjectType("%s objects do not exist in KMIP %s", t, c.v)
	}
	switch t {
	case kmip.ObjectTypeOpaqueObject:
		if _, ok := obj.Child(kmip.TagOpaqueDataType).AsEnum(); !ok {
			return invalidField("Opaque Object needs an Opaque Data Type")
		}
		if _, ok := obj.Child(kmip.TagOpaqueDataValue).AsBytes(); !ok {
			return invalidField("Opaque Object needs an Opaque Data Value")
		}
	case kmip.ObjectTypeCertificate:
		ct, err := definedEnum(obj, kmip.TagCertificateType, "Certificate")
		if err != nil {
			return err
		}
		der, ok := obj.Child(kmip.TagCertificateValue).AsBytes()
		if !ok || len(der) == 0 {
			return invalidField("Certificate needs a Certificate Value")
		}
		if kmip.CertificateType(ct) == kmip.CertificateTypeX_509 {
			if _, err := parseCertificate(der); err != nil {
				return err
			}
		}
	case kmip.ObjectTypeCertificateRequest:
		rt, err := definedEnum(obj, kmip.TagCertificateRequestType, "Certificate Request")
		if err != nil {
			return err
		}
		b, ok := obj.Child(kmip.TagCertificateRequestValue).AsBytes()
		if !ok || len(b) == 0 {
			return invalidField("Certificate Request needs a Certificate Request Value")
		}
		return validateCSR(kmip.CertificateRequestType(rt), b)
	case kmip.ObjectTypeTemplate:
		return validateTemplate(obj)
	case kmip.ObjectTypeSecretData:
		if _, err := definedEnum(obj, kmip.TagSecretDataType, "Secret Data"); err != nil {
			return err
		}
		return validateKeyBlock(c, t, obj)
	case kmip.ObjectTypeSplitKey:
		if err := validateSplitKey(obj); err != nil {
			return err
		}
		return validateKeyBlock(c, t, obj)
	case kmip.ObjectTypePGPKey:
		if _, ok := obj.Child(kmip.TagPGPKeyVersion).AsInt(); !ok {
			return invalidField("PGP Key needs a PGP Key Version")
		}
		return validateKeyBlock(c, t, obj)
	default:
		return validateKeyBlock(c, t, obj)
	}
	return nil
}

// definedEnum reads a required enumeration field and checks its value is
// defined (or an extension, 8XXXXXXX).
func definedEnum(obj *kmip.Item, tag kmip.Tag, what string) (uint32, error) {
	v, ok := obj.Child(tag).AsEnum()
	if !ok {
		return 0, invalidField("%s needs a %s (an Enumeration)", what, tag.SpecName())
	}
	if _, known := kmip.EnumName(tag, v); !known && v < 0x80000000 {
		return 0, invalidField("%d is not a %s value", v, tag.SpecName())
	}
	return v, nil
}

// validateKeyBlock checks an object's Key Block (KMIP 1.4 §2.1.3-2.1.4).
// A wrapped key's Key Value is opaque here (the wrapping hook unwraps it);
// an absent Key Value is accepted for the metadata-only object types.
func validateKeyBlock(c *call, t kmip.ObjectType, obj *kmip.Item) error {
	kb := obj.Child(kmip.TagKeyBlock)
	if kb == nil || kb.Type != kmip.TypeStructure {
		return invalidField("%s needs a Key Block", t)
	}
	format, err := keyBlockFormat(t, kb)
	if err != nil {
		return err
	}
	kv := kb.Child(kmip.TagKeyValue)
	if kv == nil {
		if !mayOmitKeyValue(t) {
			return invalidField("a %s needs a Key Value", t)
		}
		return nil
	}
	if kb.Child(kmip.TagKeyWrappingData) != nil {
		if kv.Type != kmip.TypeByteString && kv.Type != kmip.TypeStructure {
			return invalidField("a wrapped Key Value must be a Byte String or a Structure")
		}
		return nil
	}
	if kv.Type != kmip.TypeStructure {
		return invalidField("Key Value must be a Structure (a Byte String only for wrapped keys)")
	}
	m := kv.Child(kmip.TagKeyMaterial)
	if m == nil {
		return invalidField("Key Value needs a Key Material")
	}
	for _, a := range kv.ChildrenOf(kmip.TagAttribute) {
		if _, err := attrFrom1x(a); err != nil {
			return err
		}
	}
	k, err := decodeKey(t, format, m)
	if err != nil || k == nil || format == kmip.KeyFormatTypeRaw && t != kmip.ObjectTypeSymmetricKey {
		// A Raw public or private key is stored as registered: the
		// encoding kmipd recognises is its guess, not the client's word.
		return err
	}
	return matchesBlock(kb, k)
}

// keyBlockFormat checks a Key Block's Key Format Type (defined and allowed
// for the object type, or an extension), Key Compression Type,
// Cryptographic Algorithm and Length, and returns the format.
func keyBlockFormat(t kmip.ObjectType, kb *kmip.Item) (kmip.KeyFormatType, error) {
	fv, err := definedEnum(kb, kmip.TagKeyFormatType, "Key Block")
	if err != nil {
		return 0, err
	}
	format := kmip.KeyFormatType(fv)
	if allowed := keyFormats[t]; allowed != nil && !allowed[format] && fv < 0x80000000 {
		return 0, invalidField("a %s cannot be in %s format", t, format)
	}
	if it := kb.Child(kmip.TagKeyCompressionType); it != nil {
		if _, err := definedEnum(kb, kmip.TagKeyCompressionType, "Key Block"); err != nil {
			return 0, err
		}
	}
	if it := kb.Child(kmip.TagCryptographicAlgorithm); it != nil {
		if _, err := definedEnum(kb, kmip.TagCryptographicAlgorithm, "Key Block"); err != nil {
			return 0, err
		}
	}
	if it := kb.Child(kmip.TagCryptographicLength); it != nil {
		if n, ok := it.AsInt(); !ok || n <= 0 {
			return 0, invalidField("Cryptographic Length in the Key Block must be a positive Integer")
		}
	}
	return format, nil
}

// matchesBlock checks that a Key Block's Cryptographic Algorithm and Length,
// where given, describe the key material it holds.
func matchesBlock(kb *kmip.Item, k *keyformat.Key) error {
	alg, length, ok := k.Describe()
	if !ok {
		return nil
	}
	if n, given := kb.Child(kmip.TagCryptographicLength).AsInt(); given && n != length {
		return invalidField("the Key Block says %d bits but the key material has %d", n, length)
	}
	if a, given := kb.Child(kmip.TagCryptographicAlgorithm).AsEnum(); given {
		if kmip.CryptographicAlgorithm(a) != alg &&
			!sameAlgorithmFamily(kb.Child(kmip.TagCryptographicAlgorithm), kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(alg))) {
			return invalidField("the Key Block says %s but the key material is %s", kmip.CryptographicAlgorithm(a), alg)
		}
	}
	return nil
}

// decodeKey parses key material kmipd understands and checks it is the kind
// of key the object type holds. ok is false (and err nil) for formats kmipd
// stores without interpreting (Opaque, DSA, DH, PKCS#12 ...).
func decodeKey(t kmip.ObjectType, format kmip.KeyFormatType, m *kmip.Item) (*keyformat.Key, error) {
	if format == kmip.KeyFormatTypeRaw && (t == kmip.ObjectTypePublicKey || t == kmip.ObjectTypePrivateKey) {
		return recogniseRaw(t, m)
	}
	k, err := keyformat.Decode(format, m)
	switch {
	case errors.Is(err, keyformat.ErrMalformed):
		return nil, invalidField("%s key material: %v", format, err)
	case err != nil:
		if format == kmip.KeyFormatTypeOpaque || m.Type == kmip.TypeByteString || m.Type == kmip.TypeStructure {
			return nil, nil
		}
		return nil, invalidField("%s key material is neither a Byte String nor a Structure", format)
	}
	want := map[kmip.ObjectType]func(keyformat.Key) bool{
		kmip.ObjectTypeSymmetricKey: func(k keyformat.Key) bool { return k.Kind == keyformat.Symmetric },
		kmip.ObjectTypePublicKey:    keyformat.Key.Public,
		kmip.ObjectTypePrivateKey:   keyformat.Key.Private,
	}[t]
	if want != nil && !want(k) {
		return nil, invalidField("the %s key material is not a %s", format, t)
	}
	return &k, nil
}

// recogniseRaw checks a Raw public or private key (KMIP 1.4 §2.1.3: "only
// cryptographic key material, encoded as a string of bytes"). The bytes are
// stored as registered; when they are a DER encoding kmipd knows it must be
// the object type's kind of key, and then the key's attributes can be derived
// and other formats offered. Bytes in no known encoding are kept as they are.
func recogniseRaw(t kmip.ObjectType, m *kmip.Item) (*keyformat.Key, error) {
	b, ok := m.AsBytes()
	if !ok || len(b) == 0 {
		return nil, invalidField("Raw Key Material must be a non-empty Byte String")
	}
	k, format, ok := keyformat.Recognise(b)
	if !ok {
		return nil, nil
	}
	if t == kmip.ObjectTypePublicKey && !k.Public() || t == kmip.ObjectTypePrivateKey && !k.Private() {
		return nil, invalidField("the Raw key material is a %s encoding of a key that is not a %s", format, t)
	}
	return &k, nil
}

// validateSplitKey checks the Split Key fields (KMIP 1.4 §2.2.5).
func validateSplitKey(obj *kmip.Item) error {
	parts, ok1 := obj.Child(kmip.TagSplitKeyParts).AsInt()
	id, ok2 := obj.Child(kmip.TagKeyPartIdentifier).AsInt()
	threshold, ok3 := obj.Child(kmip.TagSplitKeyThreshold).AsInt()
	switch {
	case !ok1 || !ok2 || !ok3:
		return invalidField("Split Key needs Split Key Parts, Key Part Identifier and Split Key Threshold (Integers)")
	case parts < 1 || threshold < 1 || threshold > parts:
		return invalidField("Split Key Threshold must be between 1 and Split Key Parts")
	case id < 1 || id > parts:
		return invalidField("Key Part Identifier must be between 1 and Split Key Parts")
	}
	method, err := definedEnum(obj, kmip.TagSplitKeyMethod, "Split Key")
	if err != nil {
		return err
	}
	if kmip.SplitKeyMethod(method) == kmip.SplitKeyMethodPolynomialSharingPrimeField {
		if p, ok := obj.Child(kmip.TagPrimeFieldSize).AsBig(); !ok || p.Sign() <= 0 {
			return invalidField("Split Key Method Polynomial Sharing Prime Field needs a Prime Field Size")
		} else if p.BitLen() > maxPrimeFieldBits {
			return invalidField("Prime Field Size has %d bits, more than the %d kmipd allows", p.BitLen(), maxPrimeFieldBits)
		}
	}
	return nil
}

// validateTemplate checks a KMIP 1.x Template (1.4 §2.2.6): a list of
// Attribute structures, each a known attribute a client may set.
func validateTemplate(obj *kmip.Item) error {
	if obj.Child(kmip.TagAttribute) == nil {
		return invalidField("a Template needs at least one Attribute")
	}
	for _, ch := range obj.Children() {
		if ch.Tag != kmip.TagAttribute {
			return invalidField("a Template holds only Attributes, not %s", ch.Tag)
		}
		a, err := attrFrom1x(ch)
		if err != nil {
			return err
		}
		if a.Value == nil {
			return invalidField("Template attribute %q has no value", a.Name)
		}
		if r, known := domain.AttrRuleFor(a.Name); !known || !r.ClientSets {
			return invalidField("attribute %q cannot be set through a Template", a.Name)
		}
	}
	return nil
}

// validateCSR parses PKCS#10 requests, DER or PEM (KMIP 2.1 §11.9); CRMF
// and PGP requests are stored as given.
func validateCSR(t kmip.CertificateRequestType, b []byte) error {
	switch t {
	case kmip.CertificateRequestTypePEM:
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "CERTIFICATE REQUEST" && blk.Type != "NEW CERTIFICATE REQUEST" {
			return invalidField("Certificate Request Value is not a PEM certificate request")
		}
		b = blk.Bytes
	case kmip.CertificateRequestTypePKCS_10:
	default:
		return nil
	}
	if _, err := x509.ParseCertificateRequest(b); err != nil {
		return invalidField("Certificate Request Value is not a PKCS#10 request: %v", err)
	}
	return nil
}
