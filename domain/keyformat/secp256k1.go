package keyformat

// secp256k1 (SEC 2 §2.4.1; KMIP Recommended Curve SECP256K1, OID
// 1.3.132.0.10). crypto/elliptic and crypto/x509 know only the NIST curves,
// so this file supplies the curve's parameters and point arithmetic
// (y² = x³ + 7 over p, with math/big), X9.62 point decompression, and the
// ASN.1 forms x509 refuses for the curve: SEC 1 ECPrivateKey, PKCS#8 and
// X.509 SubjectPublicKeyInfo, which are the same structures as for any other
// named curve.
//
// The arithmetic exists so that the pure conversions can check points and
// derive a public point from a private scalar; it runs on math/big and is not
// constant-time. Engines must not sign or agree keys with it: the software
// engine uses a constant-time implementation for that.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/kmipd/kmipd/domain/kmip"
)

var (
	oidPublicKeyEC = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
)

// k1 is the curve's one instance: ecdsa.PublicKey.Equal compares curves by
// identity.
var k1 = func() *secp256k1Curve {
	hex := func(s string) *big.Int {
		v, ok := new(big.Int).SetString(s, 16)
		if !ok {
			panic("keyformat: bad secp256k1 constant")
		}
		return v
	}
	return &secp256k1Curve{params: &elliptic.CurveParams{
		Name:    "secp256k1",
		BitSize: 256,
		P:       hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F"),
		N:       hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141"),
		B:       big.NewInt(7),
		Gx:      hex("79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798"),
		Gy:      hex("483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8"),
	}}
}()

// Secp256k1 returns the secp256k1 curve (a = 0, so elliptic.CurveParams'
// own arithmetic, written for a = -3, does not apply). Its methods are
// variable-time math/big code, fit for checking and converting public data.
func Secp256k1() elliptic.Curve { return k1 }

// IsSecp256k1 reports whether c is the curve Secp256k1 returns.
func IsSecp256k1(c elliptic.Curve) bool { return c == elliptic.Curve(k1) }

type secp256k1Curve struct{ params *elliptic.CurveParams }

func (c *secp256k1Curve) Params() *elliptic.CurveParams { return c.params }

// rhs returns x³ + 7 mod p.
func (c *secp256k1Curve) rhs(x *big.Int) *big.Int {
	p := c.params.P
	r := new(big.Int).Mul(x, x)
	r.Mul(r, x)
	r.Add(r, c.params.B)
	return r.Mod(r, p)
}

func (c *secp256k1Curve) IsOnCurve(x, y *big.Int) bool {
	p := c.params.P
	if x == nil || y == nil || x.Sign() < 0 || y.Sign() < 0 || x.Cmp(p) >= 0 || y.Cmp(p) >= 0 {
		return false
	}
	y2 := new(big.Int).Mul(y, y)
	y2.Mod(y2, p)
	return y2.Cmp(c.rhs(x)) == 0
}

// The point at infinity is (0, 0), as crypto/elliptic writes it; (0, 0) is
// not on the curve, since 0 ≠ 0³ + 7.

func (c *secp256k1Curve) Add(x1, y1, x2, y2 *big.Int) (*big.Int, *big.Int) {
	p := c.params.P
	switch {
	case x1.Sign() == 0 && y1.Sign() == 0:
		return new(big.Int).Set(x2), new(big.Int).Set(y2)
	case x2.Sign() == 0 && y2.Sign() == 0:
		return new(big.Int).Set(x1), new(big.Int).Set(y1)
	}
	if x1.Cmp(x2) == 0 {
		if y1.Cmp(y2) == 0 {
			return c.Double(x1, y1)
		}
		return new(big.Int), new(big.Int) // P + (-P)
	}
	// λ = (y2 - y1) / (x2 - x1)
	num := new(big.Int).Sub(y2, y1)
	den := new(big.Int).Sub(x2, x1)
	den.Mod(den, p)
	den.ModInverse(den, p)
	lambda := num.Mul(num, den)
	lambda.Mod(lambda, p)
	return c.finish(lambda, x1, y1, x2)
}

func (c *secp256k1Curve) Double(x1, y1 *big.Int) (*big.Int, *big.Int) {
	p := c.params.P
	if y1.Sign() == 0 {
		return new(big.Int), new(big.Int)
	}
	// λ = 3x² / 2y (a = 0)
	num := new(big.Int).Mul(x1, x1)
	num.Mul(num, big.NewInt(3))
	den := new(big.Int).Lsh(y1, 1)
	den.Mod(den, p)
	den.ModInverse(den, p)
	lambda := num.Mul(num, den)
	lambda.Mod(lambda, p)
	return c.finish(lambda, x1, y1, x1)
}

// finish returns (λ² - x1 - x2, λ(x1 - x3) - y1) mod p.
func (c *secp256k1Curve) finish(lambda, x1, y1, x2 *big.Int) (*big.Int, *big.Int) {
	p := c.params.P
	x3 := new(big.Int).Mul(lambda, lambda)
	x3.Sub(x3, x1)
	x3.Sub(x3, x2)
	x3.Mod(x3, p)
	y3 := new(big.Int).Sub(x1, x3)
	y3.Mul(y3, lambda)
	y3.Sub(y3, y1)
	y3.Mod(y3, p)
	return x3, y3
}

// ScalarMult multiplies by a big-endian scalar (a Montgomery ladder: one
// addition and one doubling per bit, whatever the bit).
func (c *secp256k1Curve) ScalarMult(x1, y1 *big.Int, k []byte) (*big.Int, *big.Int) {
	r0x, r0y := new(big.Int), new(big.Int)
	r1x, r1y := new(big.Int).Set(x1), new(big.Int).Set(y1)
	for _, b := range k {
		for i := 7; i >= 0; i-- {
			if (b>>uint(i))&1 == 0 {
				r1x, r1y = c.Add(r0x, r0y, r1x, r1y)
				r0x, r0y = c.Double(r0x, r0y)
			} else {
				r0x, r0y = c.Add(r0x, r0y, r1x, r1y)
				r1x, r1y = c.Double(r1x, r1y)
			}
		}
	}
	return r0x, r0y
}

func (c *secp256k1Curve) ScalarBaseMult(k []byte) (*big.Int, *big.Int) {
	return c.ScalarMult(c.params.Gx, c.params.Gy, k)
}

// decompress returns the point with abscissa x and the given parity of y
// (X9.62 §4.2.1); p ≡ 3 (mod 4), so √a = a^((p+1)/4).
func (c *secp256k1Curve) decompress(x *big.Int, odd bool) (*big.Int, *big.Int) {
	p := c.params.P
	if x.Cmp(p) >= 0 {
		return nil, nil
	}
	e := new(big.Int).Add(p, big.NewInt(1))
	e.Rsh(e, 2)
	y := new(big.Int).Exp(c.rhs(x), e, p)
	if !c.IsOnCurve(x, y) {
		return nil, nil // x³ + 7 is not a square
	}
	if (y.Bit(0) == 1) != odd {
		y.Sub(p, y)
	}
	return x, y
}

// unmarshalK1 parses an uncompressed or compressed X9.62 point on
// secp256k1; nil when it is not one.
func unmarshalK1(q []byte) *ecdsa.PublicKey {
	var x, y *big.Int
	switch {
	case len(q) == 65 && q[0] == 4:
		x, y = new(big.Int).SetBytes(q[1:33]), new(big.Int).SetBytes(q[33:])
		if !k1.IsOnCurve(x, y) {
			return nil
		}
	case len(q) == 33 && (q[0] == 2 || q[0] == 3):
		x, y = k1.decompress(new(big.Int).SetBytes(q[1:]), q[0] == 3)
		if x == nil {
			return nil
		}
	default:
		return nil
	}
	//lint:ignore SA1019 secp256k1 is neither a NIST curve nor in crypto/ecdh: raw big.Int coordinates are the only form Go's ecdsa types give its keys
	return &ecdsa.PublicKey{Curve: k1, X: x, Y: y}
}

// marshalK1 writes an uncompressed X9.62 point.
func marshalK1(pub *ecdsa.PublicKey) []byte {
	out := make([]byte, 65)
	out[0] = 4
	//lint:ignore SA1019 secp256k1 is neither a NIST curve nor in crypto/ecdh: raw big.Int coordinates are the only form Go's ecdsa types give its keys
	pub.X.FillBytes(out[1:33])
	//lint:ignore SA1019 secp256k1 is neither a NIST curve nor in crypto/ecdh: raw big.Int coordinates are the only form Go's ecdsa types give its keys
	pub.Y.FillBytes(out[33:])
	return out
}

// ecPrivateKey is SEC 1 §C.4's ECPrivateKey, as crypto/x509 writes it.
type ecPrivateKey struct {
	Version       int
	PrivateKey    []byte
	NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// pkcs8 is RFC 5208's PrivateKeyInfo (without the optional attributes).
type pkcs8 struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// spki is RFC 5280's SubjectPublicKeyInfo.
type spki struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// Secp256k1Private extracts the private scalar (32 bytes, big-endian) and
// the embedded public point (X9.62, nil when absent) of a secp256k1 key in
// ECPrivateKey or PKCS#8 form, without computing anything from the scalar:
// an engine derives and checks the public point with constant-time code.
// Material that is not such a key is ErrMalformed.
func Secp256k1Private(format kmip.KeyFormatType, der []byte) (d, q []byte, err error) {
	switch format {
	case kmip.KeyFormatTypeECPrivateKey:
		d, q, err = k1ECPrivateKey(der, true)
	case kmip.KeyFormatTypePKCS_8:
		var p pkcs8
		if rest, perr := asn1.Unmarshal(der, &p); perr != nil || len(rest) != 0 {
			err = fmt.Errorf("not a PrivateKeyInfo structure")
		} else if !p.Algo.Algorithm.Equal(oidPublicKeyEC) || !isK1Param(p.Algo.Parameters) {
			err = fmt.Errorf("not a secp256k1 key")
		} else {
			d, q, err = k1ECPrivateKey(p.PrivateKey, false)
		}
	default:
		err = fmt.Errorf("%s cannot hold a secp256k1 private key", format)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return d, q, nil
}

// k1ECPrivateKey reads a SEC 1 ECPrivateKey on secp256k1. named says
// whether the structure must name the curve (PKCS#8 names it in its
// algorithm identifier instead).
func k1ECPrivateKey(der []byte, named bool) (d, q []byte, err error) {
	var k ecPrivateKey
	if rest, err := asn1.Unmarshal(der, &k); err != nil || len(rest) != 0 {
		return nil, nil, fmt.Errorf("not an ECPrivateKey structure")
	}
	if k.Version != 1 {
		return nil, nil, fmt.Errorf("ECPrivateKey version %d", k.Version)
	}
	if (named || len(k.NamedCurveOID) > 0) && !k.NamedCurveOID.Equal(oidSecp256k1) {
		return nil, nil, fmt.Errorf("not a secp256k1 key")
	}
	v := new(big.Int).SetBytes(k.PrivateKey)
	if len(k.PrivateKey) > 32 || v.Sign() == 0 || v.Cmp(k1.params.N) >= 0 {
		return nil, nil, fmt.Errorf("private scalar out of range")
	}
	if len(k.PublicKey.Bytes) > 0 {
		q = k.PublicKey.RightAlign()
	}
	return v.FillBytes(make([]byte, 32)), q, nil
}

// parseK1Private decodes a secp256k1 private key (ECPrivateKey or PKCS#8),
// deriving its public point, which must be the embedded one if present.
func parseK1Private(format kmip.KeyFormatType, der []byte) (*ecdsa.PrivateKey, error) {
	d, q, err := Secp256k1Private(format, der)
	if err != nil {
		return nil, err
	}
	priv := ecPrivateFromD(k1, new(big.Int).SetBytes(d))
	if q != nil {
		pub := unmarshalK1(q)
		//lint:ignore SA1019 secp256k1 is neither a NIST curve nor in crypto/ecdh: raw big.Int coordinates are the only form Go's ecdsa types give its keys
		if pub == nil || pub.X.Cmp(priv.X) != 0 || pub.Y.Cmp(priv.Y) != 0 {
			return nil, fmt.Errorf("%w: the public key is not the private key's", ErrMalformed)
		}
	}
	return priv, nil
}

// parseK1SPKI parses a SubjectPublicKeyInfo holding a secp256k1 point.
func parseK1SPKI(der []byte) (*ecdsa.PublicKey, error) {
	var s spki
	if rest, err := asn1.Unmarshal(der, &s); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("not a SubjectPublicKeyInfo structure")
	}
	if !s.Algorithm.Algorithm.Equal(oidPublicKeyEC) || !isK1Param(s.Algorithm.Parameters) {
		return nil, fmt.Errorf("not a secp256k1 key")
	}
	pub := unmarshalK1(s.PublicKey.RightAlign())
	if pub == nil {
		return nil, fmt.Errorf("not a point on secp256k1")
	}
	return pub, nil
}

func isK1Param(raw asn1.RawValue) bool {
	var oid asn1.ObjectIdentifier
	rest, err := asn1.Unmarshal(raw.FullBytes, &oid)
	return err == nil && len(rest) == 0 && oid.Equal(oidSecp256k1)
}

func k1AlgorithmID() pkix.AlgorithmIdentifier {
	param, _ := asn1.Marshal(oidSecp256k1)
	return pkix.AlgorithmIdentifier{Algorithm: oidPublicKeyEC, Parameters: asn1.RawValue{FullBytes: param}}
}

// marshalK1ECPrivateKey writes a SEC 1 ECPrivateKey, naming the curve when
// named (PKCS#8 names it in its algorithm identifier instead).
func marshalK1ECPrivateKey(k *ecdsa.PrivateKey, named bool) ([]byte, error) {
	pub := marshalK1(&k.PublicKey)
	//lint:ignore SA1019 secp256k1 is neither a NIST curve nor in crypto/ecdh: raw big.Int coordinates are the only form Go's ecdsa types give its keys
	d := k.D.FillBytes(make([]byte, 32))
	s := ecPrivateKey{
		Version:    1,
		PrivateKey: d,
		PublicKey:  asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)},
	}
	if named {
		s.NamedCurveOID = oidSecp256k1
	}
	return asn1.Marshal(s)
}

func marshalK1PKCS8(k *ecdsa.PrivateKey) ([]byte, error) {
	inner, err := marshalK1ECPrivateKey(k, false)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(pkcs8{Algo: k1AlgorithmID(), PrivateKey: inner})
}

func marshalK1SPKI(k *ecdsa.PublicKey) ([]byte, error) {
	pub := marshalK1(k)
	return asn1.Marshal(spki{Algorithm: k1AlgorithmID(), PublicKey: asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}})
}
