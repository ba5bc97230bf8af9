// Package camellia implements the Camellia block cipher (RFC 3713) for
// 128-, 192- and 256-bit keys as a crypto/cipher.Block.
package camellia

import (
	"crypto/cipher"
	"encoding/binary"
	"math/bits"
	"strconv"
)

// BlockSize is Camellia's block size in bytes.
const BlockSize = 16

// KeySizeError reports a key that is not 16, 24 or 32 bytes long.
type KeySizeError int

func (k KeySizeError) Error() string {
	return "camellia: invalid key size " + strconv.Itoa(int(k))
}

// sigma are the key-schedule constants Σ1..Σ6 of RFC 3713 §2.2.
var sigma = [6]uint64{
	0xA09E667F3BCC908B, 0xB67AE8584CAA73B2, 0xC6EF372FE94F82BE,
	0x54FF53A5F1D36F1C, 0x10E527FADE682D1D, 0xB05688C2B3E6C1FD,
}

// subkeys holds one direction's round keys: kw (whitening), k (F-function)
// and ke (FL layers), in the order the rounds use them.
type subkeys struct {
	kw [4]uint64
	k  [24]uint64
	ke [6]uint64
}

type block struct {
	enc, dec subkeys
	rounds   int // 18 or 24
}

// u128 is a 128-bit value as two 64-bit halves, most significant first.
type u128 struct{ hi, lo uint64 }

// rotl rotates x left by n bits (0 <= n < 128).
func (x u128) rotl(n uint) u128 {
	if n >= 64 {
		x = u128{x.lo, x.hi}
		n -= 64
	}
	if n == 0 {
		return x
	}
	return u128{x.hi<<n | x.lo>>(64-n), x.lo<<n | x.hi>>(64-n)}
}

// New returns a Camellia cipher.Block for a 16-, 24- or 32-byte key.
func New(key []byte) (cipher.Block, error) {
	var kl, kr u128
	switch len(key) {
	case 16:
	case 24:
		kr.hi = binary.BigEndian.Uint64(key[16:])
		kr.lo = ^kr.hi
	case 32:
		kr.hi = binary.BigEndian.Uint64(key[16:])
		kr.lo = binary.BigEndian.Uint64(key[24:])
	default:
		return nil, KeySizeError(len(key))
	}
	kl.hi = binary.BigEndian.Uint64(key[0:])
	kl.lo = binary.BigEndian.Uint64(key[8:])

	d1, d2 := kl.hi^kr.hi, kl.lo^kr.lo
	d2 ^= f(d1, sigma[0])
	d1 ^= f(d2, sigma[1])
	d1 ^= kl.hi
	d2 ^= kl.lo
	d2 ^= f(d1, sigma[2])
	d1 ^= f(d2, sigma[3])
	ka := u128{d1, d2}
	d1, d2 = ka.hi^kr.hi, ka.lo^kr.lo
	d2 ^= f(d1, sigma[4])
	d1 ^= f(d2, sigma[5])
	kb := u128{d1, d2}

	c := &block{}
	e := &c.enc
	// put stores the two halves of x into dst[i], dst[i+1].
	put := func(dst []uint64, i int, x u128) { dst[i], dst[i+1] = x.hi, x.lo }
	if len(key) == 16 {
		c.rounds = 18
		put(e.kw[:], 0, kl)
		put(e.k[:], 0, ka)
		put(e.k[:], 2, kl.rotl(15))
		put(e.k[:], 4, ka.rotl(15))
		put(e.ke[:], 0, ka.rotl(30))
		put(e.k[:], 6, kl.rotl(45))
		e.k[8] = ka.rotl(45).hi
		e.k[9] = kl.rotl(60).lo
		put(e.k[:], 10, ka.rotl(60))
		put(e.ke[:], 2, kl.rotl(77))
		put(e.k[:], 12, kl.rotl(94))
		put(e.k[:], 14, ka.rotl(94))
		put(e.k[:], 16, kl.rotl(111))
		put(e.kw[:], 2, ka.rotl(111))
	} else {
		c.rounds = 24
		put(e.kw[:], 0, kl)
		put(e.k[:], 0, kb)
		put(e.k[:], 2, kr.rotl(15))
		put(e.k[:], 4, ka.rotl(15))
		put(e.ke[:], 0, kr.rotl(30))
		put(e.k[:], 6, kb.rotl(30))
		put(e.k[:], 8, kl.rotl(45))
		put(e.k[:], 10, ka.rotl(45))
		put(e.ke[:], 2, kl.rotl(60))
		put(e.k[:], 12, kr.rotl(60))
		put(e.k[:], 14, kb.rotl(60))
		put(e.k[:], 16, kl.rotl(77))
		put(e.ke[:], 4, ka.rotl(77))
		put(e.k[:], 18, kr.rotl(94))
		put(e.k[:], 20, ka.rotl(94))
		put(e.k[:], 22, kl.rotl(111))
		put(e.kw[:], 2, kb.rotl(111))
	}
	// Decryption runs the same network with the subkeys reversed (RFC 3713 §2.4).
	d := &c.dec
	d.kw = [4]uint64{e.kw[2], e.kw[3], e.kw[0], e.kw[1]}
	for i := 0; i < c.rounds; i++ {
		d.k[i] = e.k[c.rounds-1-i]
	}
	nfl := c.rounds/6*2 - 2
	for i := 0; i < nfl; i++ {
		d.ke[i] = e.ke[nfl-1-i]
	}
	return c, nil
}

func (c *block) BlockSize() int { return BlockSize }

func (c *block) Encrypt(dst, src []byte) { c.crypt(&c.enc, dst, src) }

func (c *block) Decrypt(dst, src []byte) { c.crypt(&c.dec, dst, src) }

func (c *block) crypt(s *subkeys, dst, src []byte) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("camellia: input not full block")
	}
	d1 := binary.BigEndian.Uint64(src[0:]) ^ s.kw[0]
	d2 := binary.BigEndian.Uint64(src[8:]) ^ s.kw[1]
	for r := 0; r < c.rounds; r += 2 {
		if r > 0 && r%6 == 0 {
			i := r/6*2 - 2
			d1 = fl(d1, s.ke[i])
			d2 = flinv(d2, s.ke[i+1])
		}
		d2 ^= f(d1, s.k[r])
		d1 ^= f(d2, s.k[r+1])
	}
	d2 ^= s.kw[2]
	d1 ^= s.kw[3]
	binary.BigEndian.PutUint64(dst[0:], d2)
	binary.BigEndian.PutUint64(dst[8:], d1)
}

// f is the F-function of RFC 3713 §2.4.1.
func f(in, ke uint64) uint64 {
	x := in ^ ke
	t1 := sbox1[x>>56]
	t2 := sbox2[byte(x>>48)]
	t3 := sbox3[byte(x>>40)]
	t4 := sbox4[byte(x>>32)]
	t5 := sbox2[byte(x>>24)]
	t6 := sbox3[byte(x>>16)]
	t7 := sbox4[byte(x>>8)]
	t8 := sbox1[byte(x)]
	y1 := t1 ^ t3 ^ t4 ^ t6 ^ t7 ^ t8
	y2 := t1 ^ t2 ^ t4 ^ t5 ^ t7 ^ t8
	y3 := t1 ^ t2 ^ t3 ^ t5 ^ t6 ^ t8
	y4 := t2 ^ t3 ^ t4 ^ t5 ^ t6 ^ t7
	y5 := t1 ^ t2 ^ t6 ^ t7 ^ t8
	y6 := t2 ^ t3 ^ t5 ^ t7 ^ t8
	y7 := t3 ^ t4 ^ t5 ^ t6 ^ t8
	y8 := t1 ^ t4 ^ t5 ^ t6 ^ t7
	return uint64(y1)<<56 | uint64(y2)<<48 | uint64(y3)<<40 | uint64(y4)<<32 |
		uint64(y5)<<24 | uint64(y6)<<16 | uint64(y7)<<8 | uint64(y8)
}

// fl and flinv are the FL and FL⁻¹ functions of RFC 3713 §2.4.2, §2.4.3.
func fl(in, ke uint64) uint64 {
	x1, x2 := uint32(in>>32), uint32(in)
	k1, k2 := uint32(ke>>32), uint32(ke)
	x2 ^= bits.RotateLeft32(x1&k1, 1)
	x1 ^= x2 | k2
	return uint64(x1)<<32 | uint64(x2)
}

func flinv(in, ke uint64) uint64 {
	y1, y2 := uint32(in>>32), uint32(in)
	k1, k2 := uint32(ke>>32), uint32(ke)
	y1 ^= y2 | k2
	y2 ^= bits.RotateLeft32(y1&k1, 1)
	return uint64(y1)<<32 | uint64(y2)
}

var sbox2, sbox3, sbox4 [256]byte

func init() {
	for i := range sbox1 {
		sbox2[i] = bits.RotateLeft8(sbox1[i], 1)
		sbox3[i] = bits.RotateLeft8(sbox1[i], 7)
		sbox4[i] = sbox1[bits.RotateLeft8(uint8(i), 1)]
	}
}

// sbox1 is SBOX1 of RFC 3713 §2.4.4.
var sbox1 = [256]byte{
	0x70, 0x82, 0x2c, 0xec, 0xb3, 0x27, 0xc0, 0xe5, 0xe4, 0x85, 0x57, 0x35, 0xea, 0x0c, 0xae, 0x41,
	0x23, 0xef, 0x6b, 0x93, 0x45, 0x19, 0xa5, 0x21, 0xed, 0x0e, 0x4f, 0x4e, 0x1d, 0x65, 0x92, 0xbd,
	0x86, 0xb8, 0xaf, 0x8f, 0x7c, 0xeb, 0x1f, 0xce, 0x3e, 0x30, 0xdc, 0x5f, 0x5e, 0xc5, 0x0b, 0x1a,
	0xa6, 0xe1, 0x39, 0xca, 0xd5, 0x47, 0x5d, 0x3d, 0xd9, 0x01, 0x5a, 0xd6, 0x51, 0x56, 0x6c, 0x4d,
	0x8b, 0x0d, 0x9a, 0x66, 0xfb, 0xcc, 0xb0, 0x2d, 0x74, 0x12, 0x2b, 0x20, 0xf0, 0xb1, 0x84, 0x99,
	0xdf, 0x4c, 0xcb, 0xc2, 0x34, 0x7e, 0x76, 0x05, 0x6d, 0xb7, 0xa9, 0x31, 0xd1, 0x17, 0x04, 0xd7,
	0x14, 0x58, 0x3a, 0x61, 0xde, 0x1b, 0x11, 0x1c, 0x32, 0x0f, 0x9c, 0x16, 0x53, 0x18, 0xf2, 0x22,
	0xfe, 0x44, 0xcf, 0xb2, 0xc3, 0xb5, 0x7a, 0x91, 0x24, 0x08, 0xe8, 0xa8, 0x60, 0xfc, 0x69, 0x50,
	0xaa, 0xd0, 0xa0, 0x7d, 0xa1, 0x89, 0x62, 0x97, 0x54, 0x5b, 0x1e, 0x95, 0xe0, 0xff, 0x64, 0xd2,
	0x10, 0xc4, 0x00, 0x48, 0xa3, 0xf7, 0x75, 0xdb, 0x8a, 0x03, 0xe6, 0xda, 0x09, 0x3f, 0xdd, 0x94,
	0x87, 0x5c, 0x83, 0x02, 0xcd, 0x4a, 0x90, 0x33, 0x73, 0x67, 0xf6, 0xf3, 0x9d, 0x7f, 0xbf, 0xe2,
	0x52, 0x9b, 0xd8, 0x26, 0xc8, 0x37, 0xc6, 0x3b, 0x81, 0x96, 0x6f, 0x4b, 0x13, 0xbe, 0x63, 0x2e,
	0xe9, 0x79, 0xa7, 0x8c, 0x9f, 0x6e, 0xbc, 0x8e, 0x29, 0xf5, 0xf9, 0xb6, 0x2f, 0xfd, 0xb4, 0x59,
	0x78, 0x98, 0x06, 0x6a, 0xe7, 0x46, 0x71, 0xba, 0xd4, 0x25, 0xab, 0x42, 0x88, 0xa2, 0x8d, 0xfa,
	0x72, 0x07, 0xb9, 0x55, 0xf8, 0xee, 0xac, 0x0a, 0x36, 0x49, 0x2a, 0x68, 0x3c, 0x38, 0xf1, 0xa4,
	0x40, 0x28, 0xd3, 0x7b, 0xbb, 0xc9, 0x43, 0xc1, 0x15, 0xe3, 0xad, 0xf4, 0x77, 0xc7, 0x80, 0x9e,
}
