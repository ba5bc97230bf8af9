// Package idea implements the IDEA block cipher (Lai and Massey, 1991; the
// algorithm of RFC 3058's IDEA in CMS) for 128-bit keys as a crypto/cipher.Block.
package idea

import (
	"crypto/cipher"
	"encoding/binary"
	"strconv"
)

// BlockSize is IDEA's block size in bytes.
const BlockSize = 8

// KeySizeError reports a key that is not 16 bytes long.
type KeySizeError int

func (k KeySizeError) Error() string { return "idea: invalid key size " + strconv.Itoa(int(k)) }

const rounds = 8

type block struct {
	ek, dk [6*rounds + 4]uint16
}

// New returns an IDEA cipher.Block for a 16-byte key.
func New(key []byte) (cipher.Block, error) {
	if len(key) != 16 {
		return nil, KeySizeError(len(key))
	}
	c := &block{}
	// Encryption subkeys: the key's eight 16-bit words, then the key
	// rotated left by 25 bits, eight words at a time.
	hi, lo := binary.BigEndian.Uint64(key), binary.BigEndian.Uint64(key[8:])
	for i := 0; i < len(c.ek); i++ {
		j := i % 8
		if j < 4 {
			c.ek[i] = uint16(hi >> (48 - 16*j))
		} else {
			c.ek[i] = uint16(lo >> (48 - 16*(j-4)))
		}
		if j == 7 {
			hi, lo = hi<<25|lo>>39, lo<<25|hi>>39
		}
	}
	// Decryption subkeys: inverses in reverse round order, with the
	// additive keys of the inner rounds swapped.
	ek, dk := c.ek[:], c.dk[:]
	p := len(dk)
	push := func(v ...uint16) {
		for i := len(v) - 1; i >= 0; i-- {
			p--
			dk[p] = v[i]
		}
	}
	push(mulInv(ek[0]), -ek[1], -ek[2], mulInv(ek[3]))
	ek = ek[4:]
	for r := 1; r < rounds; r++ {
		push(ek[0], ek[1])
		push(mulInv(ek[2]), -ek[4], -ek[3], mulInv(ek[5]))
		ek = ek[6:]
	}
	push(ek[0], ek[1])
	push(mulInv(ek[2]), -ek[3], -ek[4], mulInv(ek[5]))
	return c, nil
}

func (c *block) BlockSize() int { return BlockSize }

func (c *block) Encrypt(dst, src []byte) { crypt(&c.ek, dst, src) }

func (c *block) Decrypt(dst, src []byte) { crypt(&c.dk, dst, src) }

func crypt(k *[6*rounds + 4]uint16, dst, src []byte) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("idea: input not full block")
	}
	x1 := binary.BigEndian.Uint16(src[0:])
	x2 := binary.BigEndian.Uint16(src[2:])
	x3 := binary.BigEndian.Uint16(src[4:])
	x4 := binary.BigEndian.Uint16(src[6:])
	for r := 0; r < rounds; r++ {
		z := k[6*r : 6*r+6]
		x1 = mul(x1, z[0])
		x2 += z[1]
		x3 += z[2]
		x4 = mul(x4, z[3])
		t0 := mul(x1^x3, z[4])
		t1 := mul((x2^x4)+t0, z[5])
		t0 += t1
		x1 ^= t1
		x4 ^= t0
		x2, x3 = x3^t1, x2^t0
	}
	z := k[6*rounds:]
	binary.BigEndian.PutUint16(dst[0:], mul(x1, z[0]))
	binary.BigEndian.PutUint16(dst[2:], x3+z[1])
	binary.BigEndian.PutUint16(dst[4:], x2+z[2])
	binary.BigEndian.PutUint16(dst[6:], mul(x4, z[3]))
}

// mul multiplies modulo 2^16+1, with 0 standing for 2^16.
func mul(a, b uint16) uint16 {
	x, y := uint64(a), uint64(b)
	if x == 0 {
		x = 1 << 16
	}
	if y == 0 {
		y = 1 << 16
	}
	return uint16(x * y % 65537) // 65536 wraps to 0
}

// mulInv is the inverse under mul: x^(65537-2) mod 65537.
func mulInv(x uint16) uint16 {
	r := uint16(1)
	for e, b := uint32(65535), x; e > 0; e >>= 1 {
		if e&1 == 1 {
			r = mul(r, b)
		}
		b = mul(b, b)
	}
	return r
}
