// Package cmac implements CMAC (NIST SP 800-38B, RFC 4493) over any 64- or
// 128-bit block cipher.
package cmac

import (
	"crypto/cipher"
	"crypto/subtle"
	"errors"
)

// Sum returns the full-length CMAC of msg under the block cipher b, whose
// block size must be 8 or 16 bytes.
func Sum(b cipher.Block, msg []byte) ([]byte, error) {
	n := b.BlockSize()
	var rb byte
	switch n {
	case 8:
		rb = 0x1b
	case 16:
		rb = 0x87
	default:
		return nil, errors.New("cmac: block size must be 8 or 16 bytes")
	}
	// Subkeys K1, K2 (SP 800-38B §6.1).
	l := make([]byte, n)
	b.Encrypt(l, l)
	k1 := dbl(l, rb)
	k2 := dbl(k1, rb)

	x := make([]byte, n)
	last := make([]byte, n)
	full := len(msg) > 0 && len(msg)%n == 0
	nblocks := (len(msg) + n - 1) / n
	if nblocks == 0 {
		nblocks = 1
	}
	for i := 0; i < nblocks-1; i++ {
		subtle.XORBytes(x, x, msg[i*n:(i+1)*n])
		b.Encrypt(x, x)
	}
	rest := msg[(nblocks-1)*n:]
	if full {
		subtle.XORBytes(last, rest, k1)
	} else {
		copy(last, rest)
		last[len(rest)] = 0x80
		subtle.XORBytes(last, last, k2)
	}
	subtle.XORBytes(x, x, last)
	b.Encrypt(x, x)
	return x, nil
}

// dbl doubles v in GF(2^n) with reduction constant rb.
func dbl(v []byte, rb byte) []byte {
	out := make([]byte, len(v))
	carry := v[0] >> 7
	for i := 0; i < len(v)-1; i++ {
		out[i] = v[i]<<1 | v[i+1]>>7
	}
	out[len(v)-1] = v[len(v)-1]<<1 ^ (rb * carry)
	return out
}
