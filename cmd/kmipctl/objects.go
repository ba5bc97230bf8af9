package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
)

func init() {
	commands["query"] = command{"what the server supports: operations, object types, vendor", runQuery}
	commands["create"] = command{"create a symmetric key (or 2.x Secret Data)", runCreate}
	commands["create-key-pair"] = command{"create an asymmetric key pair (RSA, EC, Ed25519)", runCreateKeyPair}
	commands["register"] = command{"register a key, secret, certificate or opaque object from a file", runRegister}
	commands["get"] = command{"fetch an object, optionally wrapped, to a file", runGet}
	commands["rekey"] = command{"replace a symmetric key with a new one (Re-key)", runRekey}
}

func uidItem(id string) *kmip.Item { return kmip.Text(kmip.TagUniqueIdentifier, id) }

func runQuery(ctx context.Context, e *env, args []string) error {
	c := newFlags(e, "query", "", "Asks the server which operations and object types it supports, and who it is.")
	if _, err := c.parse(args, 0, 0); err != nil {
		return err
	}
	fns := []kmip.QueryFunction{kmip.QueryFunctionQueryOperations, kmip.QueryFunctionQueryObjects, kmip.QueryFunctionQueryServerInformation}
	var payload []*kmip.Item
	for _, f := range fns {
		payload = append(payload, kmip.Enum(kmip.TagQueryFunction, uint32(f)))
	}
	out, err := c.call(ctx, kmip.OperationQuery, payload...)
	if err != nil {
		return err
	}
	var r result
	r.add("Protocol Version", fmt.Sprintf("%d.%d", c.major, c.minor))
	if v := text(out, kmip.TagVendorIdentification); v != "" {
		r.add("Vendor Identification", v)
	}
	for _, it := range out.ChildrenOf(kmip.TagOperation) {
		r.add("Operation", format(it))
	}
	for _, it := range out.ChildrenOf(kmip.TagObjectType) {
		r.add("Object Type", format(it))
	}
	return r.print(c.stdout, c.output)
}

// creationFlags are the flags that describe a new object's attributes.
type creationFlags struct {
	alg, usage, name, policy string
	length                   int
	attrs                    attrList
}

func (f *creationFlags) register(c *connFlags, defAlg string, defLen int, defUsage string) {
	c.fs.StringVar(&f.alg, "alg", defAlg, "Cryptographic Algorithm (AES, TRIPLE_DES, RSA, EC, HMAC_SHA256, ...)")
	c.fs.IntVar(&f.length, "length", defLen, "Cryptographic Length in bits")
	c.fs.StringVar(&f.usage, "usage", defUsage, "Cryptographic Usage Mask, names separated by | (Encrypt|Decrypt)")
	c.fs.StringVar(&f.name, "name", "", "Name of the new object")
	c.fs.StringVar(&f.policy, "policy", "", "Operation Policy Name")
	c.fs.Var(&f.attrs, "attr", "another attribute NAME=VALUE (repeatable), e.g. -attr 'Object Group=finance'")
}

func (f *creationFlags) attributes() ([]attr, error) {
	a, err := commonAttrs(f.alg, kmip.TagCryptographicAlgorithm, f.length, f.usage, f.name, f.policy, f.attrs)
	if err != nil {
		return nil, usageError("%v", err)
	}
	return a, nil
}

func runCreate(ctx context.Context, e *env, args []string) error {
	c := newFlags(e, "create", "", "Creates a symmetric key on the server and prints its Unique Identifier.")
	var f creationFlags
	f.register(c, "AES", 256, "Encrypt|Decrypt")
	if _, err := c.parse(args, 0, 0); err != nil {
		return err
	}
	attrs, err := f.attributes()
	if err != nil {
		return err
	}
	out, err := c.call(ctx, kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		c.attributes(kmip.TagTemplateAttribute, kmip.TagAttributes, attrs))
	if err != nil {
		return err
	}
	var r result
	r.add("Unique Identifier", text(out, kmip.TagUniqueIdentifier))
	return r.print(c.stdout, c.output)
}

func runCreateKeyPair(ctx context.Context, e *env, args []string) error {
	c := newFlags(e, "create-key-pair", "", "Creates a key pair and prints the identifiers of its private and public keys.\n"+
		"-name names the private key; the public key gets the same name with \"-pub\" appended.")
	var f creationFlags
	f.register(c, "RSA", 2048, "")
	var curve, privUsage, pubUsage string
	c.fs.StringVar(&curve, "curve", "", "Recommended Curve of an EC key pair (P_256, P_384, P_521, SECP256K1, ...)")
	c.fs.StringVar(&privUsage, "private-usage", "Sign", "usage mask of the private key")
	c.fs.StringVar(&pubUsage, "public-usage", "Verify", "usage mask of the public key")
	if _, err := c.parse(args, 0, 0); err != nil {
		return err
	}
	name := f.name
	f.name = ""
	common, err := f.attributes()
	if err != nil {
		return err
	}
	if curve != "" {
		v, err := enumValue(kmip.TagRecommendedCurve, curve)
		if err != nil {
			return usageError("-curve: %v", err)
		}
		common = append(common, attr{name: "Cryptographic Domain Parameters", value: kmip.Struct(
			kmip.TagCryptographicDomainParameters, kmip.Enum(kmip.TagRecommendedCurve, v))})
	}
	priv, pub, err := pairAttrs(privUsage, pubUsage, name)
	if err != nil {
		return err
	}
	out, err := c.call(ctx, kmip.OperationCreateKeyPair,
		c.attributes(kmip.TagCommonTemplateAttribute, kmip.TagCommonAttributes, common),
		c.attributes(kmip.TagPrivateKeyTemplateAttribute, kmip.TagPrivateKeyAttributes, priv),
		c.attributes(kmip.TagPublicKeyTemplateAttribute, kmip.TagPublicKeyAttributes, pub))
	if err != nil {
		return err
	}
	var r result
	r.add("Private Key Unique Identifier", text(out, kmip.TagPrivateKeyUniqueIdentifier))
	r.add("Public Key Unique Identifier", text(out, kmip.TagPublicKeyUniqueIdentifier))
	return r.print(c.stdout, c.output)
}

// pairAttrs are the private and public halves' own attributes.
func pairAttrs(privUsage, pubUsage, name string) (priv, pub []attr, err error) {
	for _, h := range []struct {
		usage, name string
		dst         *[]attr
	}{{privUsage, name, &priv}, {pubUsage, name + "-pub", &pub}} {
		if h.usage != "" {
			a, err := parseAttr("Cryptographic Usage Mask", h.usage)
			if err != nil {
				return nil, nil, usageError("%v", err)
			}
			*h.dst = append(*h.dst, a)
		}
		if name != "" {
			*h.dst = append(*h.dst, attr{name: "Name", value: nameItem(h.name)})
		}
	}
	return priv, pub, nil
}

// objectKinds maps register's -type to the KMIP Object Type.
var objectKinds = map[string]kmip.ObjectType{
	"symmetric": kmip.ObjectTypeSymmetricKey, "secret": kmip.ObjectTypeSecretData,
	"private": kmip.ObjectTypePrivateKey, "public": kmip.ObjectTypePublicKey,
	"certificate": kmip.ObjectTypeCertificate, "opaque": kmip.ObjectTypeOpaqueObject,
}

func runRegister(ctx context.Context, e *env, args []string) error {
	c := newFlags(e, "register", "", "Registers an object read from -in (a file, or - for standard input) and prints its\n"+
		"Unique Identifier. PEM files are decoded; their block type gives the key format.\n"+
		"-type symmetric|secret: the raw bytes of the file (-hex: the file holds hex).")
	var f creationFlags
	f.register(c, "", 0, "")
	var kind, in, keyFormat string
	var isHex bool
	c.fs.StringVar(&kind, "type", "symmetric", "symmetric, secret, private, public, certificate or opaque")
	c.fs.StringVar(&in, "in", "-", "file holding the object")
	c.fs.StringVar(&keyFormat, "format", "", "Key Format Type (Raw, PKCS_1, PKCS_8, X_509, ECPrivateKey, Opaque); default from the file")
	c.fs.BoolVar(&isHex, "hex", false, "the input is hex text")
	if _, err := c.parse(args, 0, 0); err != nil {
		return err
	}
	ot, ok := objectKinds[kind]
	if !ok {
		return usageError("-type %q: want symmetric, secret, private, public, certificate or opaque", kind)
	}
	data, err := c.readInput(in)
	if err != nil {
		return err
	}
	if isHex {
		if data, err = parseHex(string(data)); err != nil {
			return usageError("-in: %v", err)
		}
	}
	obj, err := buildObject(ot, data, keyFormat, &f)
	if err != nil {
		return usageError("%v", err)
	}
	attrs, err := f.attributes()
	if err != nil {
		return err
	}
	if ot == kmip.ObjectTypeSymmetricKey || ot == kmip.ObjectTypePrivateKey || ot == kmip.ObjectTypePublicKey {
		attrs = withoutAttr(attrs, "Cryptographic Algorithm", "Cryptographic Length")
	}
	out, err := c.call(ctx, kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(ot)),
		c.attributes(kmip.TagTemplateAttribute, kmip.TagAttributes, attrs), obj)
	if err != nil {
		return err
	}
	var r result
	r.add("Unique Identifier", text(out, kmip.TagUniqueIdentifier))
	return r.print(c.stdout, c.output)
}

// withoutAttr drops the named attributes, which the Key Block carries.
func withoutAttr(attrs []attr, names ...string) []attr {
	var out []attr
next:
	for _, a := range attrs {
		for _, n := range names {
			if a.name == n {
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

// pemFormats maps PEM block types to Key Format Types.
var pemFormats = map[string]kmip.KeyFormatType{
	"PRIVATE KEY": kmip.KeyFormatTypePKCS_8, "RSA PRIVATE KEY": kmip.KeyFormatTypePKCS_1,
	"EC PRIVATE KEY": kmip.KeyFormatTypeECPrivateKey, "PUBLIC KEY": kmip.KeyFormatTypeX_509,
	"RSA PUBLIC KEY": kmip.KeyFormatTypePKCS_1,
}

// buildObject is the managed object of type ot holding data: a Key Block for
// keys and secrets, the value itself for certificates and opaque objects.
func buildObject(ot kmip.ObjectType, data []byte, keyFormat string, f *creationFlags) (*kmip.Item, error) {
	if blk, _ := pem.Decode(data); blk != nil {
		data = blk.Bytes
		if kf, ok := pemFormats[blk.Type]; ok && keyFormat == "" {
			keyFormat = kf.String()
		}
	}
	switch ot {
	case kmip.ObjectTypeCertificate:
		return kmip.Struct(kmip.TagCertificate, kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)),
			kmip.Bytes(kmip.TagCertificateValue, data)), nil
	case kmip.ObjectTypeOpaqueObject:
		return kmip.Struct(kmip.TagOpaqueObject, kmip.Enum(kmip.TagOpaqueDataType, 0x80000000),
			kmip.Bytes(kmip.TagOpaqueDataValue, data)), nil
	}
	if keyFormat == "" {
		keyFormat = map[kmip.ObjectType]string{kmip.ObjectTypeSymmetricKey: "Raw", kmip.ObjectTypeSecretData: "Opaque",
			kmip.ObjectTypePrivateKey: "PKCS_8", kmip.ObjectTypePublicKey: "X_509"}[ot]
	}
	kf, err := enumValue(kmip.TagKeyFormatType, keyFormat)
	if err != nil {
		return nil, fmt.Errorf("-format: %v", err)
	}
	block := kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, kf),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, data)))
	if ot == kmip.ObjectTypeSecretData {
		return kmip.Struct(kmip.TagSecretData, kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)), block), nil
	}
	alg, length := f.alg, f.length
	if ot != kmip.ObjectTypeSymmetricKey && (alg == "" || length == 0) {
		a, l := describeKey(data)
		if alg == "" {
			alg = a
		}
		if length == 0 {
			length = l
		}
	}
	if ot == kmip.ObjectTypeSymmetricKey && length == 0 {
		length = 8 * len(data)
	}
	if alg == "" {
		return nil, fmt.Errorf("-alg is needed: the algorithm of the key")
	}
	a, err := enumValue(kmip.TagCryptographicAlgorithm, alg)
	if err != nil {
		return nil, fmt.Errorf("-alg: %v", err)
	}
	block.Add(kmip.Enum(kmip.TagCryptographicAlgorithm, a), kmip.Int(kmip.TagCryptographicLength, int32(length)))
	tag := map[kmip.ObjectType]kmip.Tag{kmip.ObjectTypeSymmetricKey: kmip.TagSymmetricKey,
		kmip.ObjectTypePrivateKey: kmip.TagPrivateKey, kmip.ObjectTypePublicKey: kmip.TagPublicKey}[ot]
	return kmip.Struct(tag, block), nil
}

// describeKey reads the algorithm and length of a DER private or public key
// Go can parse; "" and 0 otherwise.
func describeKey(der []byte) (string, int) {
	var k any
	var err error
	for _, parse := range []func([]byte) (any, error){
		x509.ParsePKCS8PrivateKey, x509.ParsePKIXPublicKey,
		func(b []byte) (any, error) { return x509.ParsePKCS1PrivateKey(b) },
		func(b []byte) (any, error) { return x509.ParsePKCS1PublicKey(b) },
		func(b []byte) (any, error) { return x509.ParseECPrivateKey(b) },
	} {
		if k, err = parse(der); err == nil {
			break
		}
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return "RSA", k.N.BitLen()
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PrivateKey:
		return "EC", k.Curve.Params().BitSize
	case *ecdsa.PublicKey:
		return "EC", k.Curve.Params().BitSize
	case ed25519.PrivateKey, ed25519.PublicKey:
		return "Ed25519", 256
	}
	return "", 0
}

func runGet(ctx context.Context, e *env, args []string) error {
	c := newFlags(e, "get", "UID", "Fetches an object. Its key material, certificate or data goes to -out only\n"+
		"(- for standard output), never to the table; -pem writes keys and certificates as PEM.")
	var keyFormat, wrapKey, wrapMode, outFile string
	var asPEM bool
	c.fs.StringVar(&keyFormat, "format", "", "Key Format Type to return (Raw, PKCS_1, PKCS_8, X_509, TransparentSymmetricKey, ...)")
	c.fs.StringVar(&wrapKey, "wrap-key", "", "UID of a key to wrap the object with (Key Wrapping Specification, Encrypt)")
	c.fs.StringVar(&wrapMode, "wrap-mode", "NISTKeyWrap", "Block Cipher Mode of the wrapping")
	c.fs.StringVar(&outFile, "out", "", "file for the material (- for standard output)")
	c.fs.BoolVar(&asPEM, "pem", false, "write keys and certificates as PEM")
	rest, err := c.parse(args, 1, 1)
	if err != nil {
		return err
	}
	payload := []*kmip.Item{uidItem(rest[0])}
	if keyFormat != "" {
		kf, err := enumValue(kmip.TagKeyFormatType, keyFormat)
		if err != nil {
			return usageError("-format: %v", err)
		}
		payload = append(payload, kmip.Enum(kmip.TagKeyFormatType, kf))
	}
	if wrapKey != "" {
		mode, err := enumValue(kmip.TagBlockCipherMode, wrapMode)
		if err != nil {
			return usageError("-wrap-mode: %v", err)
		}
		payload = append(payload, kmip.Struct(kmip.TagKeyWrappingSpecification,
			kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt)),
			kmip.Struct(kmip.TagEncryptionKeyInformation, uidItem(wrapKey),
				kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, mode)))))
	}
	out, err := c.call(ctx, kmip.OperationGet, payload...)
	if err != nil {
		return err
	}
	var r result
	r.add("Unique Identifier", text(out, kmip.TagUniqueIdentifier))
	r.add("Object Type", format(out.Child(kmip.TagObjectType)))
	material, pemType := describeObject(out, &r)
	if outFile != "" {
		if material == nil {
			return &statusError{code: exitFailed, msg: "the answer holds no material to write"}
		}
		if asPEM && pemType != "" {
			material = pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: material})
		}
		if err := c.writeOutput(outFile, material); err != nil {
			return err
		}
		r.add("Written To", outFile)
	}
	if outFile == "-" {
		return r.print(c.stderr, c.output)
	}
	return r.print(c.stdout, c.output)
}

// describeObject adds a Get answer's object description to r (never its
// material) and returns the material and, where one fits, its PEM type.
func describeObject(out *kmip.Item, r *result) ([]byte, string) {
	for _, k := range out.Children() {
		switch k.Tag {
		case kmip.TagCertificate:
			b, _ := k.Child(kmip.TagCertificateValue).AsBytes()
			r.add("Certificate Type", format(k.Child(kmip.TagCertificateType)))
			return b, "CERTIFICATE"
		case kmip.TagOpaqueObject:
			b, _ := k.Child(kmip.TagOpaqueDataValue).AsBytes()
			return b, ""
		case kmip.TagSymmetricKey, kmip.TagPrivateKey, kmip.TagPublicKey, kmip.TagSecretData, kmip.TagSplitKey, kmip.TagPGPKey:
			blk := k.Child(kmip.TagKeyBlock)
			for _, t := range []kmip.Tag{kmip.TagKeyFormatType, kmip.TagCryptographicAlgorithm, kmip.TagCryptographicLength} {
				if it := blk.Child(t); it != nil {
					r.add(t.SpecName(), format(it))
				}
			}
			kv := blk.Child(kmip.TagKeyValue)
			if blk.Child(kmip.TagKeyWrappingData) != nil {
				r.add("Wrapped", "true")
				b, _ := kv.AsBytes()
				return b, ""
			}
			b, _ := kv.Child(kmip.TagKeyMaterial).AsBytes()
			kf, _ := blk.Child(kmip.TagKeyFormatType).AsEnum()
			return b, pemTypeOf(k.Tag, kmip.KeyFormatType(kf))
		}
	}
	return nil, ""
}

func pemTypeOf(obj kmip.Tag, kf kmip.KeyFormatType) string {
	switch {
	case kf == kmip.KeyFormatTypePKCS_8:
		return "PRIVATE KEY"
	case kf == kmip.KeyFormatTypeX_509:
		return "PUBLIC KEY"
	case kf == kmip.KeyFormatTypeECPrivateKey:
		return "EC PRIVATE KEY"
	case kf == kmip.KeyFormatTypePKCS_1 && obj == kmip.TagPrivateKey:
		return "RSA PRIVATE KEY"
	case kf == kmip.KeyFormatTypePKCS_1 && obj == kmip.TagPublicKey:
		return "RSA PUBLIC KEY"
	}
	return ""
}

func runRekey(ctx context.Context, e *env, args []string) error {
	c := newFlags(e, "rekey", "UID", "Re-keys a symmetric key: the server makes a replacement and links the two.")
	var offset int
	c.fs.IntVar(&offset, "offset", -1, "seconds from now to the new key's activation (Offset); default: the server's choice")
	rest, err := c.parse(args, 1, 1)
	if err != nil {
		return err
	}
	payload := []*kmip.Item{uidItem(rest[0])}
	if offset >= 0 {
		payload = append(payload, kmip.Interval(kmip.TagOffset, uint32(offset)))
	}
	out, err := c.call(ctx, kmip.OperationReKey, payload...)
	if err != nil {
		return err
	}
	var r result
	r.add("Unique Identifier", text(out, kmip.TagUniqueIdentifier))
	r.add("Replaced", rest[0])
	return r.print(c.stdout, c.output)
}
