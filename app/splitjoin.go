package app

import (
	"github.com/kmipd/kmipd/domain/kmip"
)

// Split and join (KMIP 1.4 §4.38-4.39, §2.2.5): a key is shared among Split
// Key Parts objects so that any Split Key Threshold of them rebuild it. XOR
// needs every part; Polynomial Sharing GF(2^8) is Shamir's scheme byte by
// byte in the AES field (FIPS 197 §4), GF(2^16) the same on 16-bit pieces
// in the spec's quadratic extension of it; Polynomial Sharing Prime Field is
// Shamir's scheme over the integers modulo Prime Field Size. The share of
// part i is the polynomial's value at x = i (its Key Part Identifier).

// maxSplitParts bounds Split Key Parts: GF(2^8) has 255 non-zero points.
const maxSplitParts = 255

// maxPrimeFieldBits bounds Prime Field Size: the primality test's cost grows
// with the cube of the length (4096 bits: under a second of one core, 65536
// bits: minutes), and a 4096-bit field splits any key of up to 511 bytes.
const maxPrimeFieldBits = 4096

// maxSplitKeyBytes bounds the key Create Split Key splits and the parts
// Join Split Key joins: the work grows with key length times parts times
// threshold (512 bytes × 255 × 254 field multiplications: one to two
// seconds of one core) and the parts' size with key length times parts.
// 512 bytes holds any block or stream cipher key and 4096-bit HMAC keys,
// and matches maxPrimeFieldBits.
const maxSplitKeyBytes = 512

// binaryField is GF(2^8) or GF(2^16) as KMIP 1.4 §2.2.5 defines them; its
// elements are held in a uint16 and stored as size big-endian bytes.
type binaryField struct {
	size int
	mul  func(a, b uint16) uint16
	inv  func(a uint16) uint16
}

func (f binaryField) get(b []byte, i int) uint16 {
	if f.size == 1 {
		return uint16(b[i])
	}
	return uint16(b[2*i])<<8 | uint16(b[2*i+1])
}

func (f binaryField) put(b []byte, i int, v uint16) {
	if f.size == 1 {
		b[i] = byte(v)
		return
	}
	b[2*i], b[2*i+1] = byte(v>>8), byte(v)
}

var fields = map[kmip.SplitKeyMethod]binaryField{
	kmip.SplitKeyMethodPolynomialSharingGF2_8: {size: 1,
		mul: func(a, b uint16) uint16 { return uint16(gfMul(byte(a), byte(b))) },
		inv: func(a uint16) uint16 { return uint16(gfInv(byte(a))) }},
	kmip.SplitKeyMethodPolynomialSharingGF2_16: {size: 2, mul: gf16Mul, inv: gf16Inv},
}

// gf16M is m = x^5+x^4+x^3+x, the constant of GF(2^16) = GF(2^8)[y]/(y^2+y+m).
const gf16M = 0x3a

// gf16Mul multiplies uy+v elements (u the high byte): with y^2 = y + m,
// (ry+s)(uy+v) = ((r+s)(u+v) + sv) y + (m ru + sv).
func gf16Mul(a, b uint16) uint16 {
	r, s, u, v := byte(a>>8), byte(a), byte(b>>8), byte(b)
	sv := gfMul(s, v)
	hi := gfMul(r^s, u^v) ^ sv
	lo := gfMul(gf16M, gfMul(r, u)) ^ sv
	return uint16(hi)<<8 | uint16(lo)
}

// gf16Inv inverts uy+v: u d^-1 y + (u+v) d^-1 with d = (u+v)v + m u^2.
func gf16Inv(a uint16) uint16 {
	u, v := byte(a>>8), byte(a)
	d := gfMul(u^v, v) ^ gfMul(gf16M, gfMul(u, u))
	di := gfInv(d)
	return uint16(gfMul(u, di))<<8 | uint16(gfMul(u^v, di))
}

// gfMul multiplies in GF(2^8) modulo x^8+x^4+x^3+x+1 (FIPS 197 §4.2).
func gfMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1b
		}
		b >>= 1
	}
	return p
}

// gfInv returns the multiplicative inverse in GF(2^8): a^254.
func gfInv(a byte) byte {
	r, p := byte(1), a
	for e := 254; e > 0; e >>= 1 {
		if e&1 != 0 {
			r = gfMul(r, p)
		}
		p = gfMul(p, p)
	}
	return r
}
