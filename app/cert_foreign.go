package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"

	"github.com/kmipd/kmipd/domain/keyformat"
)

// certificate is the outer structure of an X.509 certificate (RFC 5280 §4.1).
type certificate struct {
	TBS       asn1.RawValue
	Algorithm asn1.RawValue
	Signature asn1.BitString
}

// placeholderSPKI is a P-256 SubjectPublicKeyInfo (the curve's base point)
// put in place of a public key Go cannot parse, so that the rest of a
// certificate can be read.
var placeholderSPKI = func() []byte {
	c := elliptic.P256().Params()
	//lint:ignore SA1019 a fixed placeholder point (P-256's base point), marshalled so that a foreign certificate parses
	b, _ := x509.MarshalPKIXPublicKey(&ecdsa.PublicKey{Curve: elliptic.P256(), X: c.Gx, Y: c.Gy})
	return b
}()

// parseForeignECCertificate reads a certificate whose public key is on an
// elliptic curve Go cannot use (brainpool, explicit parameters): everything
// but the key, which stays unparsed (PublicKey nil). ok is false for any
// other certificate Go refuses.
func parseForeignECCertificate(der []byte) (cert *x509.Certificate, ec keyformat.ForeignEC, ok bool) {
	var outer certificate
	if rest, err := asn1.Unmarshal(der, &outer); err != nil || len(rest) != 0 {
		return nil, ec, false
	}
	var fields []asn1.RawValue
	for rest := outer.TBS.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			return nil, ec, false
		}
		fields = append(fields, f)
	}
	// version [0] (optional), serial, signature, issuer, validity, subject, SPKI
	i := 5
	if len(fields) > 0 && fields[0].Class == asn1.ClassContextSpecific && fields[0].Tag == 0 {
		i = 6
	}
	if len(fields) <= i {
		return nil, ec, false
	}
	if ec, ok = keyformat.IsForeignEC(fields[i].FullBytes); !ok {
		return nil, ec, false
	}
	var tbs []byte
	for j, f := range fields {
		if j == i {
			tbs = append(tbs, placeholderSPKI...)
		} else {
			tbs = append(tbs, f.FullBytes...)
		}
	}
	outer.TBS = asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: tbs}
	swapped, err := asn1.Marshal(outer)
	if err != nil {
		return nil, ec, false
	}
	if cert, err = x509.ParseCertificate(swapped); err != nil {
		return nil, ec, false
	}
	cert.Raw, cert.PublicKey, cert.RawSubjectPublicKeyInfo = der, nil, fields[i].FullBytes
	return cert, ec, true
}
