package keyformat

import (
	"encoding/asn1"
	"math/big"
)

// ForeignEC describes elliptic-curve key material Go's crypto cannot use:
// a named curve outside its list (brainpool, ...) or explicit curve
// parameters. kmipd stores such keys and certificates as registered.
type ForeignEC struct {
	// Curve names the curve: its name when kmipd knows the OID, the OID
	// otherwise, or "explicit parameters".
	Curve string
	// Bits is the curve's field size, 0 when unknown.
	Bits int
}

var oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}

// foreignCurves are named curves Go's crypto/ecdsa lacks, with field sizes.
var foreignCurves = map[string]ForeignEC{
	"1.3.36.3.3.2.8.1.1.1":  {"brainpoolP160r1", 160},
	"1.3.36.3.3.2.8.1.1.3":  {"brainpoolP192r1", 192},
	"1.3.36.3.3.2.8.1.1.5":  {"brainpoolP224r1", 224},
	"1.3.36.3.3.2.8.1.1.7":  {"brainpoolP256r1", 256},
	"1.3.36.3.3.2.8.1.1.9":  {"brainpoolP320r1", 320},
	"1.3.36.3.3.2.8.1.1.11": {"brainpoolP384r1", 384},
	"1.3.36.3.3.2.8.1.1.13": {"brainpoolP512r1", 512},
	"1.2.840.10045.3.1.1":   {"P-192", 192},
}

// ownCurves are the named curves kmipd computes with: Go's NIST curves
// and secp256k1 (secp256k1.go).
var ownCurves = map[string]bool{
	"1.3.132.0.33": true, "1.2.840.10045.3.1.7": true, "1.3.132.0.34": true, "1.3.132.0.35": true, "1.3.132.0.10": true,
}

type sec1Params struct {
	Version    int
	PrivateKey []byte
	Parameters asn1.RawValue  `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString `asn1:"optional,explicit,tag:1"`
}

// explicitParams is the start of X9.62 ECParameters (RFC 3279 §2.3.5).
type explicitParams struct {
	Version int
	FieldID struct {
		FieldType  asn1.ObjectIdentifier
		Parameters asn1.RawValue
	}
	Rest asn1.RawValue `asn1:"optional"`
}

var oidPrimeField = asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1}

// IsForeignEC reports whether b, a DER SubjectPublicKeyInfo (X.509),
// PKCS#8 PrivateKeyInfo or SEC 1 ECPrivateKey, is an EC key on a curve Go
// cannot use, and what can be said of that curve. Call it on material Go's
// parsers refused.
func IsForeignEC(b []byte) (ForeignEC, bool) {
	// All three are DER SEQUENCEs: other material, such as a symmetric
	// key's bytes at every Encrypt, is answered without parsing it three times.
	if len(b) < 2 || b[0] != 0x30 {
		return ForeignEC{}, false
	}
	var params asn1.RawValue
	var p8 pkcs8
	var pub spki
	var s1 sec1Params
	switch {
	case unmarshalAll(b, &p8) && p8.Algo.Algorithm.Equal(oidECPublicKey):
		params = p8.Algo.Parameters
	case unmarshalAll(b, &pub) && pub.Algorithm.Algorithm.Equal(oidECPublicKey):
		params = pub.Algorithm.Parameters
	case unmarshalAll(b, &s1) && s1.Version == 1 && len(s1.Parameters.FullBytes) > 0:
		params = s1.Parameters
		if _, err := asn1.Unmarshal(s1.Parameters.Bytes, &params); err != nil {
			return ForeignEC{}, false
		}
	default:
		return ForeignEC{}, false
	}
	return foreignCurveOf(params)
}

func unmarshalAll(b []byte, v any) bool {
	rest, err := asn1.Unmarshal(b, v)
	return err == nil && len(rest) == 0
}

// foreignCurveOf reads ECParameters: a named curve OID or explicit parameters.
func foreignCurveOf(params asn1.RawValue) (ForeignEC, bool) {
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(params.FullBytes, &oid); err == nil && len(rest) == 0 {
		if c, ok := foreignCurves[oid.String()]; ok {
			return c, true
		}
		if ownCurves[oid.String()] {
			return ForeignEC{}, false // material that does not parse is malformed
		}
		return ForeignEC{Curve: oid.String()}, true
	}
	var ep explicitParams
	if !unmarshalAll(params.FullBytes, &ep) {
		return ForeignEC{}, false
	}
	out := ForeignEC{Curve: "explicit parameters"}
	var prime *big.Int
	if ep.FieldID.FieldType.Equal(oidPrimeField) {
		if _, err := asn1.Unmarshal(ep.FieldID.Parameters.FullBytes, &prime); err == nil && prime.Sign() > 0 {
			out.Bits = prime.BitLen()
		}
	}
	return out, true
}
