package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

func keyBlock(f kmip.KeyFormatType, material *kmip.Item, extra ...*kmip.Item) *kmip.Item {
	kb := kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(f)))
	if material != nil {
		kb.Add(kmip.Struct(kmip.TagKeyValue, material))
	}
	return kb.Add(extra...)
}

func keyBytes(b []byte) *kmip.Item { return kmip.Bytes(kmip.TagKeyMaterial, b) }

func register(t kmip.ObjectType, obj *kmip.Item, attrs ...*kmip.Item) *kmip.Item {
	p := []*kmip.Item{kmip.Enum(kmip.TagObjectType, uint32(t))}
	if len(attrs) > 0 {
		p = append(p, kmip.Struct(kmip.TagTemplateAttribute, attrs...))
	}
	return batchItem(kmip.OperationRegister, append(p, obj)...)
}

func register21(t kmip.ObjectType, obj *kmip.Item, attrs ...*kmip.Item) *kmip.Item {
	return batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(t)), kmip.Struct(kmip.TagAttributes, attrs...), obj)
}

type testKeys struct {
	rsa  *rsa.PrivateKey
	ec   *ecdsa.PrivateKey
	cert []byte
	csr  []byte
}

func newTestKeys(t *testing.T) testKeys {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4242),
		Subject:      pkix.Name{CommonName: "leaf", Organization: []string{"kmipd"}, Country: []string{"AU"}},
		Issuer:       pkix.Name{CommonName: "leaf"},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:     []string{"leaf.example"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rk.PublicKey, rk)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "req"}}, ek)
	if err != nil {
		t.Fatal(err)
	}
	return testKeys{rsa: rk, ec: ek, cert: der, csr: csr}
}

func (k testKeys) certificate() *kmip.Item {
	return kmip.Struct(kmip.TagCertificate, kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)),
		kmip.Bytes(kmip.TagCertificateValue, k.cert))
}

// Every object type registers and comes back from Get as registered.
func TestRegisterAndGetEveryObjectType(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k.rsa)
	spki, _ := x509.MarshalPKIXPublicKey(&k.ec.PublicKey)
	rsaAlg := kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA))
	objects := []struct {
		v   version
		t   kmip.ObjectType
		obj *kmip.Item
	}{
		{v14, kmip.ObjectTypeSymmetricKey, kmip.Struct(kmip.TagSymmetricKey, keyBlock(kmip.KeyFormatTypeTransparentSymmetricKey,
			kmip.Struct(kmip.TagKeyMaterial, kmip.Bytes(kmip.TagKey, make([]byte, 16))),
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)), kmip.Int(kmip.TagCryptographicLength, 128)))},
		{v14, kmip.ObjectTypePrivateKey, kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_8, keyBytes(pkcs8)))},
		{v14, kmip.ObjectTypePublicKey, kmip.Struct(kmip.TagPublicKey, keyBlock(kmip.KeyFormatTypePKCS_1,
			keyBytes(x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)), rsaAlg, kmip.Int(kmip.TagCryptographicLength, 2048)))},
		{v21, kmip.ObjectTypePublicKey, kmip.Struct(kmip.TagPublicKey, keyBlock(kmip.KeyFormatTypeX_509, keyBytes(spki)))},
		{v14, kmip.ObjectTypePrivateKey, kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_12, keyBytes([]byte("pfx, stored as given"))))},
		{v14, kmip.ObjectTypeCertificate, k.certificate()},
		{v21, kmip.ObjectTypeCertificate, k.certificate()},
		{v14, kmip.ObjectTypeSecretData, kmip.Struct(kmip.TagSecretData, kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypeSeed)),
			keyBlock(kmip.KeyFormatTypeOpaque, keyBytes([]byte("seed"))))},
		{v14, kmip.ObjectTypeOpaqueObject, kmip.Struct(kmip.TagOpaqueObject, kmip.Enum(kmip.TagOpaqueDataType, 0x80000010),
			kmip.Bytes(kmip.TagOpaqueDataValue, []byte("blob")))},
		{v14, kmip.ObjectTypeSplitKey, kmip.Struct(kmip.TagSplitKey, kmip.Int(kmip.TagSplitKeyParts, 3), kmip.Int(kmip.TagKeyPartIdentifier, 1),
			kmip.Int(kmip.TagSplitKeyThreshold, 2), kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)),
			keyBlock(kmip.KeyFormatTypeRaw, keyBytes(make([]byte, 16))))},
		{v14, kmip.ObjectTypePGPKey, kmip.Struct(kmip.TagPGPKey, kmip.Int(kmip.TagPGPKeyVersion, 4),
			keyBlock(kmip.KeyFormatTypeOpaque, keyBytes([]byte("pgp packet"))))},
		{v14, kmip.ObjectTypeTemplate, kmip.Struct(kmip.TagTemplate,
			attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))))},
		{v21, kmip.ObjectTypeCertificateRequest, kmip.Struct(kmip.TagCertificateRequest,
			kmip.Enum(kmip.TagCertificateRequestType, uint32(kmip.CertificateRequestTypePKCS_10)),
			kmip.Bytes(kmip.TagCertificateRequestValue, k.csr))},
		{v21, kmip.ObjectTypeCertificateRequest, kmip.Struct(kmip.TagCertificateRequest,
			kmip.Enum(kmip.TagCertificateRequestType, uint32(kmip.CertificateRequestTypePEM)),
			kmip.Bytes(kmip.TagCertificateRequestValue, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: k.csr})))},
	}
	s := newService(t)
	for _, o := range objects {
		id := createdID(t, sendOne(t, s, alice, o.v, register(o.t, o.obj.Clone())))
		got := mustOK(t, sendOne(t, s, alice, o.v, batchItem(kmip.OperationGet, uidItem(id))))
		if ot, _ := got.Child(kmip.TagObjectType).AsEnum(); kmip.ObjectType(ot) != o.t {
			t.Errorf("%s: Get says Object Type %s", o.t, kmip.ObjectType(ot))
		}
		if !got.Child(o.obj.Tag).Equal(o.obj) {
			t.Errorf("%s: Get returned %v, want %v", o.t, got.Child(o.obj.Tag), o.obj)
		}
	}
}

// Malformed objects are refused with Invalid Field (or, for an object type
// the version lacks, the version's object-type reason).
func TestRegisterRefusesMalformedObjects(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	spki, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	cases := map[string]struct {
		v    version
		t    kmip.ObjectType
		obj  *kmip.Item
		want kmip.ResultReason
	}{
		"certificate not DER": {v14, kmip.ObjectTypeCertificate, kmip.Struct(kmip.TagCertificate,
			kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)), kmip.Bytes(kmip.TagCertificateValue, []byte("pem?"))), kmip.ResultReasonInvalidField},
		"certificate without type": {v14, kmip.ObjectTypeCertificate, kmip.Struct(kmip.TagCertificate,
			kmip.Bytes(kmip.TagCertificateValue, k.cert)), kmip.ResultReasonInvalidField},
		"public key without key value": {v14, kmip.ObjectTypePublicKey, kmip.Struct(kmip.TagPublicKey,
			keyBlock(kmip.KeyFormatTypeX_509, nil)), kmip.ResultReasonInvalidField},
		"public key in PKCS#8": {v14, kmip.ObjectTypePublicKey, kmip.Struct(kmip.TagPublicKey,
			keyBlock(kmip.KeyFormatTypePKCS_8, keyBytes(spki))), kmip.ResultReasonInvalidField},
		"private key holding a public key": {v14, kmip.ObjectTypePrivateKey, kmip.Struct(kmip.TagPrivateKey,
			keyBlock(kmip.KeyFormatTypePKCS_1, keyBytes(x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)))), kmip.ResultReasonInvalidField},
		"garbage PKCS#1": {v14, kmip.ObjectTypePublicKey, kmip.Struct(kmip.TagPublicKey,
			keyBlock(kmip.KeyFormatTypePKCS_1, keyBytes([]byte{1, 2, 3}))), kmip.ResultReasonInvalidField},
		"block length contradicts material": {v14, kmip.ObjectTypePublicKey, kmip.Struct(kmip.TagPublicKey,
			keyBlock(kmip.KeyFormatTypeX_509, keyBytes(spki), kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)),
				kmip.Int(kmip.TagCryptographicLength, 1024))), kmip.ResultReasonInvalidField},
		"block algorithm contradicts material": {v14, kmip.ObjectTypePublicKey, kmip.Struct(kmip.TagPublicKey,
			keyBlock(kmip.KeyFormatTypeX_509, keyBytes(spki), kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmECDSA)),
				kmip.Int(kmip.TagCryptographicLength, 2048))), kmip.ResultReasonInvalidField},
		"symmetric key as X.509": {v14, kmip.ObjectTypeSymmetricKey, kmip.Struct(kmip.TagSymmetricKey,
			keyBlock(kmip.KeyFormatTypeX_509, keyBytes(spki))), kmip.ResultReasonInvalidField},
		"key value not a structure": {v14, kmip.ObjectTypeSymmetricKey, kmip.Struct(kmip.TagSymmetricKey,
			kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
				kmip.Bytes(kmip.TagKeyValue, []byte{1}))), kmip.ResultReasonInvalidField},
		"key value without key material": {v14, kmip.ObjectTypeSymmetricKey, kmip.Struct(kmip.TagSymmetricKey,
			kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
				kmip.Struct(kmip.TagKeyValue))), kmip.ResultReasonInvalidField},
		"unknown key format": {v14, kmip.ObjectTypeSymmetricKey, kmip.Struct(kmip.TagSymmetricKey,
			keyBlock(kmip.KeyFormatType(0x7777), keyBytes([]byte{1}))), kmip.ResultReasonInvalidField},
		"secret data without type": {v14, kmip.ObjectTypeSecretData, kmip.Struct(kmip.TagSecretData,
			keyBlock(kmip.KeyFormatTypeOpaque, keyBytes([]byte("pw")))), kmip.ResultReasonInvalidField},
		"split key threshold above parts": {v14, kmip.ObjectTypeSplitKey, kmip.Struct(kmip.TagSplitKey,
			kmip.Int(kmip.TagSplitKeyParts, 2), kmip.Int(kmip.TagKeyPartIdentifier, 1), kmip.Int(kmip.TagSplitKeyThreshold, 3),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)), keyBlock(kmip.KeyFormatTypeRaw, keyBytes([]byte{1}))), kmip.ResultReasonInvalidField},
		"prime field split key without prime": {v14, kmip.ObjectTypeSplitKey, kmip.Struct(kmip.TagSplitKey,
			kmip.Int(kmip.TagSplitKeyParts, 2), kmip.Int(kmip.TagKeyPartIdentifier, 1), kmip.Int(kmip.TagSplitKeyThreshold, 2),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodPolynomialSharingPrimeField)), keyBlock(kmip.KeyFormatTypeRaw, keyBytes([]byte{1}))), kmip.ResultReasonInvalidField},
		"template with a server attribute": {v14, kmip.ObjectTypeTemplate, kmip.Struct(kmip.TagTemplate,
			attribute1x("Unique Identifier", kmip.Text(0, "x"))), kmip.ResultReasonInvalidField},
		"PGP key at 1.1": {version{1, 1}, kmip.ObjectTypePGPKey, kmip.Struct(kmip.TagPGPKey, kmip.Int(kmip.TagPGPKeyVersion, 4),
			keyBlock(kmip.KeyFormatTypeOpaque, keyBytes([]byte{1}))), kmip.ResultReasonInvalidField},
		"certificate request at 1.4": {v14, kmip.ObjectTypeCertificateRequest, kmip.Struct(kmip.TagCertificateRequest,
			kmip.Enum(kmip.TagCertificateRequestType, uint32(kmip.CertificateRequestTypePKCS_10)),
			kmip.Bytes(kmip.TagCertificateRequestValue, []byte{0x30, 0x00})), kmip.ResultReasonInvalidField},
		"PKCS#10 request not DER": {v21, kmip.ObjectTypeCertificateRequest, kmip.Struct(kmip.TagCertificateRequest,
			kmip.Enum(kmip.TagCertificateRequestType, uint32(kmip.CertificateRequestTypePKCS_10)),
			kmip.Bytes(kmip.TagCertificateRequestValue, []byte{0x30, 0x00})), kmip.ResultReasonInvalidField},
		"PEM request without PEM": {v21, kmip.ObjectTypeCertificateRequest, kmip.Struct(kmip.TagCertificateRequest,
			kmip.Enum(kmip.TagCertificateRequestType, uint32(kmip.CertificateRequestTypePEM)),
			kmip.Bytes(kmip.TagCertificateRequestValue, []byte("req"))), kmip.ResultReasonInvalidField},
		"certificate, 2.1": {v21, kmip.ObjectTypeCertificate, kmip.Struct(kmip.TagCertificate,
			kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)), kmip.Bytes(kmip.TagCertificateValue, []byte{0x30})), kmip.ResultReasonInvalidField},
	}
	s := newService(t)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			mustFail(t, sendOne(t, s, alice, c.v, register(c.t, c.obj)), c.want)
		})
	}
}

// attrsOf returns the object's stored attribute values by name.
func attrsOf(t *testing.T, s *Service, id string) map[string][]*kmip.Item {
	t.Helper()
	obj, err := s.cfg.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]*kmip.Item{}
	for _, a := range obj.Attributes {
		out[a.Name] = append(out[a.Name], a.Value)
	}
	return out
}

// A registered certificate gets the attributes the server derives from it
// (the certificate fields, the KMIP 1.0 text forms and the public
// key's algorithm and length), each shown only to the versions that define it.
func TestRegisteredCertificateAttributes(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	s := newService(t)
	id := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeCertificate, k.certificate(),
		attribute1x("Certificate Type", kmip.Enum(0, uint32(kmip.CertificateTypeX_509))))))
	a := attrsOf(t, s, id)
	cert, _ := x509.ParseCertificate(k.cert)
	want := map[string]*kmip.Item{
		"Certificate Type":   kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)),
		"Certificate Length": kmip.Int(kmip.TagCertificateLength, int32(len(k.cert))),
		"X.509 Certificate Identifier": kmip.Struct(kmip.TagX_509CertificateIdentifier,
			kmip.Bytes(kmip.TagIssuerDistinguishedName, cert.RawIssuer), kmip.Bytes(kmip.TagCertificateSerialNumber, big.NewInt(4242).Bytes())),
		"Digital Signature Algorithm": kmip.Enum(kmip.TagDigitalSignatureAlgorithm, uint32(kmip.DigitalSignatureAlgorithmSHA_256WithRSAEncryptionPKCS_1V1_5)),
		"Cryptographic Algorithm":     kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)),
		"Cryptographic Length":        kmip.Int(kmip.TagCryptographicLength, 2048),
		"Certificate Subject CN":      kmip.Text(kmip.TagCertificateSubjectCN, "leaf"),
		"Certificate Subject O":       kmip.Text(kmip.TagCertificateSubjectO, "kmipd"),
		"Certificate Issuer CN":       kmip.Text(kmip.TagCertificateIssuerCN, "leaf"),
		"Certificate Identifier": kmip.Struct(kmip.TagCertificateIdentifier,
			kmip.Text(kmip.TagIssuer, cert.Issuer.String()), kmip.Text(kmip.TagSerialNumber, "4242")),
		"Certificate Subject": kmip.Struct(kmip.TagCertificateSubject,
			kmip.Text(kmip.TagCertificateSubjectDistinguishedName, cert.Subject.String())),
	}
	for name, w := range want {
		if len(a[name]) != 1 || !a[name][0].Equal(w) {
			t.Errorf("%s = %v, want %v", name, a[name], w)
		}
	}
	if subj := a["X.509 Certificate Subject"]; len(subj) != 1 || subj[0].Child(kmip.TagSubjectAlternativeName) == nil {
		t.Errorf("X.509 Certificate Subject lacks the Subject Alternative Name: %v", subj)
	}

	visible := func(v version) map[kmip.Tag]bool {
		p := mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationGetAttributes, uidItem(id))))
		out := map[kmip.Tag]bool{}
		if v.major >= 2 {
			for _, ch := range p.Child(kmip.TagAttributes).Children() {
				out[ch.Tag] = true
			}
			return out
		}
		for _, at := range p.ChildrenOf(kmip.TagAttribute) {
			n, _ := at.Child(kmip.TagAttributeName).AsText()
			tag, _ := kmip.TagBySpecName(n)
			out[tag] = true
		}
		return out
	}
	v14seen, v21seen := visible(v14), visible(v21)
	if !v14seen[kmip.TagCertificateIdentifier] || !v14seen[kmip.TagX_509CertificateIdentifier] || v14seen[kmip.TagCertificateSubjectCN] {
		t.Errorf("KMIP 1.4 sees the wrong certificate attributes: %v", v14seen)
	}
	if v21seen[kmip.TagCertificateIdentifier] || !v21seen[kmip.TagCertificateSubjectCN] || !v21seen[kmip.TagCertificateLength] {
		t.Errorf("KMIP 2.1 sees the wrong certificate attributes: %v", v21seen)
	}

	// A Certificate Type that contradicts the certificate is refused.
	mustFail(t, sendOne(t, s, alice, v21, register21(kmip.ObjectTypeCertificate, k.certificate(),
		kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypePGP)))), kmip.ResultReasonInvalidAttributeValue)
	// So is a key algorithm the certificate does not certify.
	mustFail(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeCertificate, k.certificate(),
		attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))))), kmip.ResultReasonInvalidField)
}

// Registered asymmetric keys get the algorithm and length of their material
// when the request does not say them, and a contradicting length is refused.
func TestRegisteredKeyAlgorithmAndLength(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	s := newService(t)
	ecDER, _ := x509.MarshalECPrivateKey(k.ec)
	id := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypePrivateKey,
		kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypeECPrivateKey, keyBytes(ecDER))))))
	a := attrsOf(t, s, id)
	if alg, _ := a["Cryptographic Algorithm"][0].AsEnum(); kmip.CryptographicAlgorithm(alg) != kmip.CryptographicAlgorithmEC {
		t.Errorf("algorithm %s, want EC", kmip.CryptographicAlgorithm(alg))
	}
	if n, _ := a["Cryptographic Length"][0].AsInt(); n != 256 {
		t.Errorf("length %d, want 256", n)
	}
	// An older client names EC keys ECDSA.
	id = createdID(t, sendOne(t, s, alice, version{1, 2}, register(kmip.ObjectTypePrivateKey,
		kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypeECPrivateKey, keyBytes(ecDER))))))
	if alg, _ := attrsOf(t, s, id)["Cryptographic Algorithm"][0].AsEnum(); kmip.CryptographicAlgorithm(alg) != kmip.CryptographicAlgorithmECDSA {
		t.Errorf("1.2 algorithm %s, want ECDSA", kmip.CryptographicAlgorithm(alg))
	}
	// The client may name the EC use; it may not misstate the length.
	mustOK(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypePrivateKey,
		kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypeECPrivateKey, keyBytes(ecDER))),
		attribute1x("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmECDH))))))
	mustFail(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypePrivateKey,
		kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypeECPrivateKey, keyBytes(ecDER))),
		attribute1x("Cryptographic Length", kmip.Int(0, 384)))), kmip.ResultReasonInvalidField)
}

// A key registered without its Key Value (KMIP 1.4 §3.41-3.42) is stored as
// metadata: Key Value Present is false and Get returns the bare Key Block.
func TestRegisterMetadataOnlyKey(t *testing.T) {
	t.Parallel()
	s := newService(t)
	kb := keyBlock(kmip.KeyFormatTypeRaw, nil,
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)), kmip.Int(kmip.TagCryptographicLength, 128))
	id := createdID(t, sendOne(t, s, alice, v14, register(kmip.ObjectTypeSymmetricKey, kmip.Struct(kmip.TagSymmetricKey, kb.Clone()),
		attribute1x("Key Value Location", kmip.Struct(0, kmip.Text(kmip.TagKeyValueLocationValue, "HSM-1"),
			kmip.Enum(kmip.TagKeyValueLocationType, uint32(kmip.KeyValueLocationTypeUninterpretedTextString)))))))
	if p := attrsOf(t, s, id)["Key Value Present"]; len(p) != 1 || !p[0].Equal(kmip.Bool(kmip.TagKeyValuePresent, false)) {
		t.Errorf("Key Value Present = %v, want false", p)
	}
	got := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id))))
	if !got.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock).Equal(kb) {
		t.Errorf("Get returned %v", got)
	}
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id), kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeTransparentSymmetricKey)))),
		kmip.ResultReasonKeyFormatTypeNotSupported)
}

// A key registered wrapped is stored and returned as given, can be
// unwrapped on request, and cannot be used by the server as it is.
func TestRegisterWrappedKey(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	kek := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskWrapKey, kmip.CryptographicUsageMaskUnwrapKey), activeNow())
	clear := []byte("0123456789abcdef")
	wrapped := xorWith(keyMaterial(t, s, kek), clear)
	wd := kmip.Struct(kmip.TagKeyWrappingData, kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt)),
		kmip.Struct(kmip.TagEncryptionKeyInformation, uidItem(kek)),
		kmip.Enum(kmip.TagEncodingOption, uint32(kmip.EncodingOptionNoEncoding)))
	key := kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, wrapped)),
		kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
		kmip.Int(kmip.TagCryptographicLength, 128), wd))
	id := createdID(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		attrsFor(v14, mask(kmip.CryptographicUsageMaskEncrypt), activeNow()), key)))
	out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id), kmip.Enum(kmip.TagKeyWrapType, uint32(kmip.KeyWrapTypeAsRegistered)))))
	if !out.Child(kmip.TagSymmetricKey).Equal(key) {
		t.Fatal("the wrapped key was not returned as registered")
	}
	out = mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationGet, uidItem(id), kmip.Enum(kmip.TagKeyWrapType, uint32(kmip.KeyWrapTypeNotWrapped)))))
	kb := out.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock)
	if got, _ := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(got, clear) || kb.Child(kmip.TagKeyWrappingData) != nil {
		t.Fatal("Not Wrapped did not unwrap the key")
	}
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), data([]byte("x")))), kmip.ResultReasonKeyValueNotPresent)
	bad := key.Clone()
	bad.Child(kmip.TagKeyBlock).Child(kmip.TagKeyWrappingData).Value = []*kmip.Item{kmip.Enum(kmip.TagWrappingMethod, uint32(kmip.WrappingMethodEncrypt))}
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), bad)), kmip.ResultReasonInvalidField)
}

// TestRegisterRawAndPKCS8RSAPrivateKeySyntax: KMIP 1.4 §2.1.3 defines Raw as
// "only cryptographic key material, encoded as a string of bytes" and PKCS8
// as "supporting both the RSAPrivateKey syntax and EncryptedPrivateKey". At
// every version a public or private key registered Raw, or PKCS8 holding a
// PKCS#1 RSAPrivateKey (what PyKMIP's own tests send), is stored as
// registered and comes back from Get as registered; where the bytes are an
// encoding kmipd knows, other formats are offered and the key's length is
// derived.
func TestRegisterRawAndPKCS8RSAPrivateKeySyntax(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	pkcs1Priv := x509.MarshalPKCS1PrivateKey(k.rsa)
	pkcs1Pub := x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k.rsa)
	spki, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	unknown := []byte("an opaque vendor public key")
	rsaAlg := []*kmip.Item{kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)), kmip.Int(kmip.TagCryptographicLength, 2048)}
	priv := func(f kmip.KeyFormatType, b []byte) *kmip.Item {
		return kmip.Struct(kmip.TagPrivateKey, keyBlock(f, keyBytes(b), rsaAlg...))
	}
	pub := func(f kmip.KeyFormatType, b []byte) *kmip.Item {
		return kmip.Struct(kmip.TagPublicKey, keyBlock(f, keyBytes(b), rsaAlg...))
	}
	cases := []struct {
		name     string
		t        kmip.ObjectType
		obj      *kmip.Item
		f        kmip.KeyFormatType
		material []byte
		conv     kmip.KeyFormatType // a format Get converts to
		convWant []byte
	}{
		{"PKCS8 label, RSAPrivateKey syntax", kmip.ObjectTypePrivateKey, priv(kmip.KeyFormatTypePKCS_8, pkcs1Priv), kmip.KeyFormatTypePKCS_8, pkcs1Priv, kmip.KeyFormatTypePKCS_1, pkcs1Priv},
		{"Raw private key, PKCS#1 bytes", kmip.ObjectTypePrivateKey, priv(kmip.KeyFormatTypeRaw, pkcs1Priv), kmip.KeyFormatTypeRaw, pkcs1Priv, kmip.KeyFormatTypePKCS_8, pkcs8},
		{"Raw private key, PKCS#8 bytes", kmip.ObjectTypePrivateKey, priv(kmip.KeyFormatTypeRaw, pkcs8), kmip.KeyFormatTypeRaw, pkcs8, kmip.KeyFormatTypePKCS_1, pkcs1Priv},
		{"Raw public key, PKCS#1 bytes", kmip.ObjectTypePublicKey, pub(kmip.KeyFormatTypeRaw, pkcs1Pub), kmip.KeyFormatTypeRaw, pkcs1Pub, kmip.KeyFormatTypeX_509, spki},
		{"Raw public key, X.509 bytes", kmip.ObjectTypePublicKey, pub(kmip.KeyFormatTypeRaw, spki), kmip.KeyFormatTypeRaw, spki, kmip.KeyFormatTypePKCS_1, pkcs1Pub},
		{"Raw public key, unknown encoding", kmip.ObjectTypePublicKey, pub(kmip.KeyFormatTypeRaw, unknown), kmip.KeyFormatTypeRaw, unknown, 0, nil},
	}
	for _, v := range allVersions {
		s := newService(t)
		for _, c := range cases {
			what := v.String() + " " + c.name
			r := sendOne(t, s, alice, v, registerAt(v, c.t, c.obj.Clone()))
			if r.status != kmip.ResultStatusSuccess {
				t.Errorf("%s: Register refused: %s", what, r.reason)
				continue
			}
			id := createdID(t, r)
			objTag := c.obj.Tag
			kb, _ := getBlock(t, s, v, id, objTag, 0)
			blockIs(t, what+" (as registered)", kb, c.f, c.material)
			if c.conv == 0 {
				_, r := getBlock(t, s, v, id, objTag, kmip.KeyFormatTypeX_509)
				mustFail(t, r, kmip.ResultReasonKeyFormatTypeNotSupported)
				_, r = getBlock(t, s, v, id, objTag, kmip.KeyFormatTypeTransparentSymmetricKey)
				mustFail(t, r, kmip.ResultReasonKeyFormatTypeNotSupported)
				continue
			}
			kb, r = getBlock(t, s, v, id, objTag, c.conv)
			if r.status != kmip.ResultStatusSuccess {
				t.Errorf("%s: Get as %s refused: %s", what, c.conv, r.reason)
				continue
			}
			blockIs(t, what+" (converted)", kb, c.conv, c.convWant)
		}
	}
}

// TestRegisterRawDerivesAndChecksTheKey: a Raw key whose bytes kmipd
// recognises gets its length derived and must be the object type's kind of
// key; one it does not recognise is stored without interpretation.
func TestRegisterRawDerivesAndChecksTheKey(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	pkcs1Priv := x509.MarshalPKCS1PrivateKey(k.rsa)
	for _, v := range []version{{1, 0}, {1, 2}, v14, {2, 0}, v21} {
		s := newService(t)
		// A Raw "public key" holding a private key is refused.
		mustFail(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePublicKey,
			kmip.Struct(kmip.TagPublicKey, keyBlock(kmip.KeyFormatTypeRaw, keyBytes(pkcs1Priv))))), kmip.ResultReasonInvalidField)
		// The length the bytes determine is derived (no attributes given).
		id := createdID(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePrivateKey,
			kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypeRaw, keyBytes(pkcs1Priv))))))
		if l := attrsOf(t, s, id)["Cryptographic Length"]; len(l) != 1 || l[0].Value != int32(2048) {
			t.Errorf("%s: Raw RSA private key has Cryptographic Length %v, want 2048", v, l)
		}
		// Conversions work although the block names no algorithm.
		kb, r := getBlock(t, s, v, id, kmip.TagPrivateKey, kmip.KeyFormatTypePKCS_8)
		if r.status != kmip.ResultStatusSuccess {
			t.Fatalf("%s: Get as PKCS_8: %s", v, r.reason)
		}
		pkcs8, _ := x509.MarshalPKCS8PrivateKey(k.rsa)
		blockIs(t, v.String()+" Raw without algorithm", kb, kmip.KeyFormatTypePKCS_8, pkcs8)
		// The Key Block's word is kept even where the bytes disagree (PyKMIP's
		// own tests register 1024-bit keys labelled 2048): Raw bytes are only
		// kmipd's guess.
		spki, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
		createdID(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePublicKey,
			kmip.Struct(kmip.TagPublicKey, keyBlock(kmip.KeyFormatTypeRaw, keyBytes(spki),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)), kmip.Int(kmip.TagCryptographicLength, 4096))))))
		// An empty Raw key is refused.
		mustFail(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePublicKey,
			kmip.Struct(kmip.TagPublicKey, keyBlock(kmip.KeyFormatTypeRaw, keyBytes(nil))))), kmip.ResultReasonInvalidField)
	}
}

// TestRegisterEncryptedPKCS8: PKCS8 key material may be an
// EncryptedPrivateKeyInfo (KMIP 1.4 §2.1.3); kmipd stores it as registered
// (it cannot read it) and refuses conversions; garbage is still refused.
func TestRegisterEncryptedPKCS8(t *testing.T) {
	t.Parallel()
	blob := make([]byte, 64)
	rand.Read(blob)
	enc, err := asn1.Marshal(struct {
		Algorithm     pkix.AlgorithmIdentifier
		EncryptedData []byte
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}}, blob})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []version{{1, 0}, v14, v21} {
		s := newService(t)
		id := createdID(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePrivateKey,
			kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_8, keyBytes(enc),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)), kmip.Int(kmip.TagCryptographicLength, 2048))))))
		kb, _ := getBlock(t, s, v, id, kmip.TagPrivateKey, 0)
		blockIs(t, v.String()+" encrypted PKCS#8", kb, kmip.KeyFormatTypePKCS_8, enc)
		_, r := getBlock(t, s, v, id, kmip.TagPrivateKey, kmip.KeyFormatTypePKCS_1)
		mustFail(t, r, kmip.ResultReasonKeyFormatTypeNotSupported)
		mustFail(t, sendOne(t, s, alice, v, registerAt(v, kmip.ObjectTypePrivateKey,
			kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_8, keyBytes([]byte{0x30, 0x03, 0x02, 0x01, 0x01}))))), kmip.ResultReasonInvalidField)
	}
}
