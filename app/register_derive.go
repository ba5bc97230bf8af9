package app

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// derivedAttrs lists the attributes the server derives from a registered
// object's content: for certificates the Certificate Type and Length, the
// X.509 identifier, subject and issuer (KMIP 1.4 §3.8-3.16), the KMIP 2.x
// Certificate Attributes (2.1 §4.6) and the algorithm and length of the
// certified public key; for keys whose block does not say them, the
// Cryptographic Algorithm and Length the material determines; Key Value
// Present false for metadata-only keys (1.4 §3.41).
func derivedAttrs(c *call, t kmip.ObjectType, payload *kmip.Item) ([]domain.Attribute, error) {
	var out []domain.Attribute
	add := func(v *kmip.Item) { out = append(out, domain.Attribute{Name: v.Tag.SpecName(), Value: v}) }
	if t == kmip.ObjectTypeCertificate {
		ct, _ := payload.Child(kmip.TagCertificateType).AsEnum()
		der, _ := payload.Child(kmip.TagCertificateValue).AsBytes()
		add(kmip.Enum(kmip.TagCertificateType, ct))
		add(kmip.Int(kmip.TagCertificateLength, int32(len(der))))
		if kmip.CertificateType(ct) != kmip.CertificateTypeX_509 {
			return out, nil
		}
		cert, err := parseCertificate(der)
		if err != nil {
			return nil, err
		}
		out = append(out, certificateAttrs(c.v, cert)...)
		return out, nil
	}
	kb := payload.Child(kmip.TagKeyBlock)
	if kb == nil {
		return out, nil
	}
	kv := kb.Child(kmip.TagKeyValue)
	if kv == nil {
		add(kmip.Bool(kmip.TagKeyValuePresent, false))
		return out, nil
	}
	if kb.Child(kmip.TagCryptographicAlgorithm) != nil || kb.Child(kmip.TagKeyWrappingData) != nil {
		return out, nil
	}
	f, _ := kb.Child(kmip.TagKeyFormatType).AsEnum()
	k, err := decodeKey(t, kmip.KeyFormatType(f), kv.Child(kmip.TagKeyMaterial))
	if err != nil || k == nil {
		return out, err
	}
	if alg, length, ok := k.Describe(); ok {
		add(kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(ecAlgFor(c.v, alg))))
		add(kmip.Int(kmip.TagCryptographicLength, length))
	}
	return out, nil
}

// ecAlgFor names EC keys for a client of version v: KMIP 1.4 and 2.x have
// the generic EC algorithm; older clients know only ECDSA.
func ecAlgFor(v version, alg kmip.CryptographicAlgorithm) kmip.CryptographicAlgorithm {
	if alg == kmip.CryptographicAlgorithmEC && !v.atLeast(1, 4) {
		return kmip.CryptographicAlgorithmECDSA
	}
	return alg
}

// parseCertificate parses an X.509 certificate, refusing one that does not.
func parseCertificate(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, invalidField("Certificate Value is not a DER X.509 certificate: %v", err)
	}
	return cert, nil
}

// signatureAlgorithms maps X.509 signature algorithms to Digital Signature
// Algorithm values (KMIP 1.4 §9.1.3.2.7).
var signatureAlgorithms = map[x509.SignatureAlgorithm]kmip.DigitalSignatureAlgorithm{
	x509.MD2WithRSA:       kmip.DigitalSignatureAlgorithmMD2WithRSAEncryptionPKCS_1V1_5,
	x509.MD5WithRSA:       kmip.DigitalSignatureAlgorithmMD5WithRSAEncryptionPKCS_1V1_5,
	x509.SHA1WithRSA:      kmip.DigitalSignatureAlgorithmSHA_1WithRSAEncryptionPKCS_1V1_5,
	x509.SHA256WithRSA:    kmip.DigitalSignatureAlgorithmSHA_256WithRSAEncryptionPKCS_1V1_5,
	x509.SHA384WithRSA:    kmip.DigitalSignatureAlgorithmSHA_384WithRSAEncryptionPKCS_1V1_5,
	x509.SHA512WithRSA:    kmip.DigitalSignatureAlgorithmSHA_512WithRSAEncryptionPKCS_1V1_5,
	x509.SHA256WithRSAPSS: kmip.DigitalSignatureAlgorithmRSASSA_PSSPKCS_1V2_1,
	x509.SHA384WithRSAPSS: kmip.DigitalSignatureAlgorithmRSASSA_PSSPKCS_1V2_1,
	x509.SHA512WithRSAPSS: kmip.DigitalSignatureAlgorithmRSASSA_PSSPKCS_1V2_1,
	x509.DSAWithSHA1:      kmip.DigitalSignatureAlgorithmDSAWithSHA_1,
	x509.DSAWithSHA256:    kmip.DigitalSignatureAlgorithmDSAWithSHA256,
	x509.ECDSAWithSHA1:    kmip.DigitalSignatureAlgorithmECDSAWithSHA_1,
	x509.ECDSAWithSHA256:  kmip.DigitalSignatureAlgorithmECDSAWithSHA256,
	x509.ECDSAWithSHA384:  kmip.DigitalSignatureAlgorithmECDSAWithSHA384,
	x509.ECDSAWithSHA512:  kmip.DigitalSignatureAlgorithmECDSAWithSHA512,
}

// Relative distinguished name attribute types (RFC 4519, RFC 2985) of the
// KMIP 2.x Certificate Attributes; subject first, issuer second.
var rdnTags = []struct {
	oid             asn1.ObjectIdentifier
	subject, issuer kmip.Tag
}{
	{asn1.ObjectIdentifier{2, 5, 4, 3}, kmip.TagCertificateSubjectCN, kmip.TagCertificateIssuerCN},
	{asn1.ObjectIdentifier{2, 5, 4, 10}, kmip.TagCertificateSubjectO, kmip.TagCertificateIssuerO},
	{asn1.ObjectIdentifier{2, 5, 4, 11}, kmip.TagCertificateSubjectOU, kmip.TagCertificateIssuerOU},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, kmip.TagCertificateSubjectEmail, kmip.TagCertificateIssuerEmail},
	{asn1.ObjectIdentifier{2, 5, 4, 6}, kmip.TagCertificateSubjectC, kmip.TagCertificateIssuerC},
	{asn1.ObjectIdentifier{2, 5, 4, 8}, kmip.TagCertificateSubjectST, kmip.TagCertificateIssuerST},
	{asn1.ObjectIdentifier{2, 5, 4, 7}, kmip.TagCertificateSubjectL, kmip.TagCertificateIssuerL},
	{asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, kmip.TagCertificateSubjectUID, kmip.TagCertificateIssuerUID},
	{asn1.ObjectIdentifier{2, 5, 4, 5}, kmip.TagCertificateSubjectSerialNumber, kmip.TagCertificateIssuerSerialNumber},
	{asn1.ObjectIdentifier{2, 5, 4, 12}, kmip.TagCertificateSubjectTitle, kmip.TagCertificateIssuerTitle},
	{asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, kmip.TagCertificateSubjectDC, kmip.TagCertificateIssuerDC},
	{asn1.ObjectIdentifier{2, 5, 4, 46}, kmip.TagCertificateSubjectDNQualifier, kmip.TagCertificateIssuerDNQualifier},
}

var (
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidIssuerAltName  = asn1.ObjectIdentifier{2, 5, 29, 18}
)

// certificateAttrs derives the attributes of an X.509 certificate.
func certificateAttrs(v version, cert *x509.Certificate) []domain.Attribute {
	var out []domain.Attribute
	add := func(it *kmip.Item) {
		out = append(out, domain.Attribute{Name: it.Tag.SpecName(), Value: it})
	}
	var subjectAlt, issuerAlt []byte
	for _, e := range cert.Extensions {
		switch {
		case e.Id.Equal(oidSubjectAltName):
			subjectAlt = e.Value
		case e.Id.Equal(oidIssuerAltName):
			issuerAlt = e.Value
		}
	}
	add(kmip.Struct(kmip.TagX_509CertificateIdentifier,
		kmip.Bytes(kmip.TagIssuerDistinguishedName, cert.RawIssuer),
		kmip.Bytes(kmip.TagCertificateSerialNumber, cert.SerialNumber.Bytes())))
	subj := kmip.Struct(kmip.TagX_509CertificateSubject, kmip.Bytes(kmip.TagSubjectDistinguishedName, cert.RawSubject))
	if subjectAlt != nil {
		subj.Add(kmip.Bytes(kmip.TagSubjectAlternativeName, subjectAlt))
	}
	add(subj)
	iss := kmip.Struct(kmip.TagX_509CertificateIssuer, kmip.Bytes(kmip.TagIssuerDistinguishedName, cert.RawIssuer))
	if issuerAlt != nil {
		iss.Add(kmip.Bytes(kmip.TagIssuerAlternativeName, issuerAlt))
	}
	add(iss)
	// KMIP 1.0 text forms, deprecated since 1.1 and gone in 2.0.
	add(kmip.Struct(kmip.TagCertificateIdentifier,
		kmip.Text(kmip.TagIssuer, cert.Issuer.String()),
		kmip.Text(kmip.TagSerialNumber, cert.SerialNumber.String())))
	add(kmip.Struct(kmip.TagCertificateSubject,
		kmip.Text(kmip.TagCertificateSubjectDistinguishedName, cert.Subject.String())))
	add(kmip.Struct(kmip.TagCertificateIssuer,
		kmip.Text(kmip.TagCertificateIssuerDistinguishedName, cert.Issuer.String())))
	if dsa, ok := signatureAlgorithms[cert.SignatureAlgorithm]; ok {
		add(kmip.Enum(kmip.TagDigitalSignatureAlgorithm, uint32(dsa)))
	}
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		add(kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)))
		add(kmip.Int(kmip.TagCryptographicLength, int32(pub.N.BitLen())))
	case *ecdsa.PublicKey:
		add(kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(ecAlgFor(v, kmip.CryptographicAlgorithmEC))))
		add(kmip.Int(kmip.TagCryptographicLength, int32(pub.Curve.Params().BitSize)))
	}
	for _, n := range cert.Subject.Names {
		if tag, ok := rdnTag(n.Type, true); ok {
			if s, isText := n.Value.(string); isText {
				add(kmip.Text(tag, s))
			}
		}
	}
	for _, n := range cert.Issuer.Names {
		if tag, ok := rdnTag(n.Type, false); ok {
			if s, isText := n.Value.(string); isText {
				add(kmip.Text(tag, s))
			}
		}
	}
	return out
}

func rdnTag(oid asn1.ObjectIdentifier, subject bool) (kmip.Tag, bool) {
	for _, r := range rdnTags {
		if r.oid.Equal(oid) {
			if subject {
				return r.subject, true
			}
			return r.issuer, true
		}
	}
	return 0, false
}

// applyDerived adds the derived attributes to a new object. A client-supplied
// Cryptographic Algorithm or Length that contradicts the material is Invalid
// Field; the rest are the server's alone (see withoutDerived).
func applyDerived(obj *domain.Object, derived []domain.Attribute) error {
	seen := map[string]bool{}
	for _, a := range derived {
		if r, ok := domain.AttrRuleFor(a.Name); ok && r.ClientSets {
			if have := obj.Attr(a.Name); have != nil {
				if !have.Equal(a.Value) && !sameAlgorithmFamily(have, a.Value) {
					return invalidField("%s %v contradicts the key material", a.Name, have)
				}
				continue
			}
		}
		if !seen[a.Name] {
			obj.DeleteAttr(a.Name)
			seen[a.Name] = true
		}
		obj.AddAttr(a.Name, a.Value)
	}
	return nil
}

// sameAlgorithmFamily accepts ECDSA, ECDH and ECMQV for a key the material
// says is EC: the client names the use, the material only the curve.
func sameAlgorithmFamily(client, derived *kmip.Item) bool {
	d, ok := derived.AsEnum()
	if !ok || derived.Tag != kmip.TagCryptographicAlgorithm {
		return false
	}
	c, _ := client.AsEnum()
	ec := map[kmip.CryptographicAlgorithm]bool{kmip.CryptographicAlgorithmEC: true, kmip.CryptographicAlgorithmECDSA: true,
		kmip.CryptographicAlgorithmECDH: true, kmip.CryptographicAlgorithmECMQV: true}
	return ec[kmip.CryptographicAlgorithm(d)] && ec[kmip.CryptographicAlgorithm(c)]
}

// withoutDerived returns the call with the attributes the server derives
// removed from its request attributes, after checking each equals the
// derived value: clients (and the OASIS cases) send Certificate Type with a
// certificate, which the server then sets itself (KMIP 1.4 §3.8).
func withoutDerived(c *call, derived []domain.Attribute) (*call, error) {
	strip := map[string]*kmip.Item{}
	for _, a := range derived {
		if r, ok := domain.AttrRuleFor(a.Name); (!ok || !r.ClientSets) && a.Name != "Key Value Present" {
			strip[a.Name] = a.Value
		}
	}
	if len(strip) == 0 {
		return c, nil
	}
	payload := c.payload.Clone()
	for _, box := range append(payload.ChildrenOf(kmip.TagTemplateAttribute), payload.ChildrenOf(kmip.TagAttributes)...) {
		kept := box.Children()[:0]
		for _, ch := range box.Children() {
			var a domain.Attribute
			var err error
			if box.Tag == kmip.TagAttributes {
				a, err = attrFrom2x(ch)
			} else if ch.Tag == kmip.TagAttribute {
				a, err = attrFrom1x(ch)
			} else {
				kept = append(kept, ch)
				continue
			}
			if err != nil {
				return nil, err
			}
			want, derivedHere := strip[a.Name]
			if !derivedHere {
				kept = append(kept, ch)
				continue
			}
			if !want.Equal(a.Value) {
				return nil, invalidField("%s does not match the object", a.Name)
			}
		}
		box.Value = kept
	}
	cc := *c
	cc.payload = payload
	return &cc, nil
}
