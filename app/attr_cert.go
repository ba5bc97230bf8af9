package app

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// certNameTags maps the RFC 2253 name attributes to the KMIP 2.x
// Certificate Attributes (KMIP 2.1 §4.6): subject tag, issuer tag.
var certNameTags = map[string][2]kmip.Tag{
	"2.5.4.3":                    {kmip.TagCertificateSubjectCN, kmip.TagCertificateIssuerCN},
	"2.5.4.10":                   {kmip.TagCertificateSubjectO, kmip.TagCertificateIssuerO},
	"2.5.4.11":                   {kmip.TagCertificateSubjectOU, kmip.TagCertificateIssuerOU},
	"1.2.840.113549.1.9.1":       {kmip.TagCertificateSubjectEmail, kmip.TagCertificateIssuerEmail},
	"2.5.4.6":                    {kmip.TagCertificateSubjectC, kmip.TagCertificateIssuerC},
	"2.5.4.8":                    {kmip.TagCertificateSubjectST, kmip.TagCertificateIssuerST},
	"2.5.4.7":                    {kmip.TagCertificateSubjectL, kmip.TagCertificateIssuerL},
	"0.9.2342.19200300.100.1.1":  {kmip.TagCertificateSubjectUID, kmip.TagCertificateIssuerUID},
	"2.5.4.5":                    {kmip.TagCertificateSubjectSerialNumber, kmip.TagCertificateIssuerSerialNumber},
	"2.5.4.12":                   {kmip.TagCertificateSubjectTitle, kmip.TagCertificateIssuerTitle},
	"0.9.2342.19200300.100.1.25": {kmip.TagCertificateSubjectDC, kmip.TagCertificateIssuerDC},
	"2.5.4.46":                   {kmip.TagCertificateSubjectDNQualifier, kmip.TagCertificateIssuerDNQualifier},
}

// signatureAlgorithms maps x509 signature algorithms to KMIP Digital
// Signature Algorithm values (KMIP 1.4 §9.1.3.2.37).
var signatureAlgorithms = map[x509.SignatureAlgorithm]kmip.DigitalSignatureAlgorithm{
	x509.MD2WithRSA:       kmip.DigitalSignatureAlgorithmMD2WithRSAEncryption,
	x509.MD5WithRSA:       kmip.DigitalSignatureAlgorithmMD5WithRSAEncryption,
	x509.SHA1WithRSA:      kmip.DigitalSignatureAlgorithmSHA_1WithRSAEncryption,
	x509.SHA256WithRSA:    kmip.DigitalSignatureAlgorithmSHA_256WithRSAEncryption,
	x509.SHA384WithRSA:    kmip.DigitalSignatureAlgorithmSHA_384WithRSAEncryption,
	x509.SHA512WithRSA:    kmip.DigitalSignatureAlgorithmSHA_512WithRSAEncryption,
	x509.SHA256WithRSAPSS: kmip.DigitalSignatureAlgorithmRSASSA_PSS,
	x509.SHA384WithRSAPSS: kmip.DigitalSignatureAlgorithmRSASSA_PSS,
	x509.SHA512WithRSAPSS: kmip.DigitalSignatureAlgorithmRSASSA_PSS,
	x509.DSAWithSHA1:      kmip.DigitalSignatureAlgorithmDSAWithSHA_1,
	x509.DSAWithSHA256:    kmip.DigitalSignatureAlgorithmDSAWithSHA256,
	x509.ECDSAWithSHA1:    kmip.DigitalSignatureAlgorithmECDSAWithSHA_1,
	x509.ECDSAWithSHA256:  kmip.DigitalSignatureAlgorithmECDSAWithSHA256,
	x509.ECDSAWithSHA384:  kmip.DigitalSignatureAlgorithmECDSAWithSHA384,
	x509.ECDSAWithSHA512:  kmip.DigitalSignatureAlgorithmECDSAWithSHA512,
}

// derivedOnRegister are the attributes the server reads from a registered
// object; a client may repeat them in Register when its value is the
// object's own (OASIS BL-M-10-21 and TC-PKCS12-1-14 send Certificate Type).
var derivedOnRegister = map[string]func(payload *kmip.Item) *kmip.Item{
	kmip.TagCertificateType.SpecName(): func(p *kmip.Item) *kmip.Item { return p.Child(kmip.TagCertificateType) },
}

// checkDerived accepts a client's copy of an attribute the server derives
// from the registered object when it equals the derived value (ok true);
// otherwise the caller refuses it as read-only. t is the registered
// object's type.
func checkDerived(c *call, a domain.Attribute, t kmip.ObjectType) (ok bool, err error) {
	derive, known := derivedOnRegister[a.Name]
	if !known || c.op != kmip.OperationRegister {
		return false, nil
	}
	registered, _ := codec.ObjectValue(c.payload, t)
	if want := derive(registered); want == nil || !want.Equal(a.Value) {
		return false, kindErr(errKindBadAttrValue, "%s does not match the registered object", a.Name)
	}
	return true, nil
}

// setCertAttrs derives a certificate's attributes from the certificate
// (KMIP 1.4 §3.8-3.13, §3.16; KMIP 2.1 §4.6-4.8, §4.22, §4.61-4.63):
// Certificate Type and Length always, and for a parseable X.509
// certificate its identifier, subject, issuer, signature algorithm and the
// KMIP 2.x Certificate Attributes of its subject and issuer names.
func setCertAttrs(obj *domain.Object) {
	if obj.Type != uint32(kmip.ObjectTypeCertificate) || obj.Payload == nil {
		return
	}
	ct := obj.Payload.Child(kmip.TagCertificateType)
	der, _ := obj.Payload.Child(kmip.TagCertificateValue).AsBytes()
	if ct != nil {
		obj.SetAttrOf(kmip.TagCertificateType, ct.Clone())
	}
	obj.SetAttrOf(kmip.TagCertificateLength, kmip.Int(kmip.TagCertificateLength, int32(len(der))))
	if t, _ := ct.AsEnum(); kmip.CertificateType(t) != kmip.CertificateTypeX_509 {
		return
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		var foreign bool
		if cert, _, foreign = parseForeignECCertificate(der); !foreign {
			return // kmipd stores what it cannot parse; it only derives less
		}
	}
	obj.SetAttrOf(kmip.TagX_509CertificateIdentifier, kmip.Struct(kmip.TagX_509CertificateIdentifier,
		kmip.Bytes(kmip.TagIssuerDistinguishedName, cert.RawIssuer),
		kmip.Bytes(kmip.TagCertificateSerialNumber, cert.SerialNumber.Bytes())))
	subject := kmip.Struct(kmip.TagX_509CertificateSubject, kmip.Bytes(kmip.TagSubjectDistinguishedName, cert.RawSubject))
	issuer := kmip.Struct(kmip.TagX_509CertificateIssuer, kmip.Bytes(kmip.TagIssuerDistinguishedName, cert.RawIssuer))
	for _, ext := range cert.Extensions {
		switch {
		case ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}):
			subject.Add(kmip.Bytes(kmip.TagSubjectAlternativeName, ext.Value))
		case ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 18}):
			issuer.Add(kmip.Bytes(kmip.TagIssuerAlternativeName, ext.Value))
		}
	}
	obj.SetAttrOf(kmip.TagX_509CertificateSubject, subject)
	obj.SetAttrOf(kmip.TagX_509CertificateIssuer, issuer)
	if alg, ok := signatureAlgorithms[cert.SignatureAlgorithm]; ok {
		obj.SetAttrOf(kmip.TagDigitalSignatureAlgorithm, kmip.Enum(kmip.TagDigitalSignatureAlgorithm, uint32(alg)))
	}
	for i, names := range [][]pkixName{pkixNames(cert.Subject.Names), pkixNames(cert.Issuer.Names)} {
		for _, n := range names {
			tags, known := certNameTags[n.oid]
			if !known {
				continue
			}
			obj.AddAttr(tags[i].SpecName(), kmip.Text(tags[i], n.value))
		}
	}
}

// pkixName is one textual name attribute of a certificate's subject or issuer.
type pkixName struct{ oid, value string }

func pkixNames(in []pkix.AttributeTypeAndValue) []pkixName {
	var out []pkixName
	for _, a := range in {
		if s, ok := a.Value.(string); ok {
			out = append(out, pkixName{a.Type.String(), s})
		}
	}
	return out
}
