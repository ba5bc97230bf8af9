// Package keywrap implements the AES Key Wrap algorithm (RFC 3394, NIST SP
// 800-38F KW) and AES Key Wrap with Padding (RFC 5649, SP 800-38F KWP) over
// any 128-bit block cipher.
package keywrap

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// Errors. ErrIntegrity is the unwrap integrity check failing.
var (
	ErrInputLength = errors.New("keywrap: input length not valid for the algorithm")
	ErrIntegrity   = errors.New("keywrap: integrity check failed")
	errBlockSize   = errors.New("keywrap: block cipher must have 16-byte blocks")
)

var defaultIV = []byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}

// Wrap wraps plaintext (a multiple of 8 bytes, at least 16) with RFC 3394.
func Wrap(b cipher.Block, plaintext []byte) ([]byte, error) {
	if b.BlockSize() != 16 {
		return nil, errBlockSize
	}
	if len(plaintext) < 16 || len(plaintext)%8 != 0 {
		return nil, ErrInputLength
	}
	return wrap(b, defaultIV, plaintext), nil
}

// Unwrap reverses Wrap, checking the RFC 3394 integrity value.
func Unwrap(b cipher.Block, wrapped []byte) ([]byte, error) {
	if b.BlockSize() != 16 {
		return nil, errBlockSize
	}
	if len(wrapped) < 24 || len(wrapped)%8 != 0 {
		return nil, ErrInputLength
	}
	a, p := unwrap(b, wrapped)
	if subtle.ConstantTimeCompare(a, defaultIV) != 1 {
		return nil, ErrIntegrity
	}
	return p, nil
}

// WrapPad wraps plaintext of any length from 1 byte with RFC 5649.
func WrapPad(b cipher.Block, plaintext []byte) ([]byte, error) {
	if b.BlockSize() != 16 {
		return nil, errBlockSize
	}
	if len(plaintext) == 0 || uint64(len(plaintext)) > 0xffffffff {
		return nil, ErrInputLength
	}
	aiv := []byte{0xA6, 0x59, 0x59, 0xA6, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(aiv[4:], uint32(len(plaintext)))
	padded := make([]byte, (len(plaintext)+7)/8*8)
	copy(padded, plaintext)
	if len(padded) == 8 {
		out := make([]byte, 16)
		copy(out, aiv)
		copy(out[8:], padded)
		b.Encrypt(out, out)
		return out, nil
	}
	return wrap(b, aiv, padded), nil
}

// UnwrapPad reverses WrapPad, checking the alternative IV, the length and
// the zero padding.
func UnwrapPad(b cipher.Block, wrapped []byte) ([]byte, error) {
	if b.BlockSize() != 16 {
		return nil, errBlockSize
	}
	if len(wrapped) < 16 || len(wrapped)%8 != 0 {
		return nil, ErrInputLength
	}
	var a, p []byte
	if len(wrapped) == 16 {
		out := make([]byte, 16)
		b.Decrypt(out, wrapped)
		a, p = out[:8], out[8:]
	} else {
		a, p = unwrap(b, wrapped)
	}
	ok := subtle.ConstantTimeCompare(a[:4], []byte{0xA6, 0x59, 0x59, 0xA6})
	mli := int(binary.BigEndian.Uint32(a[4:]))
	if ok != 1 || mli > len(p) || mli <= len(p)-8 {
		return nil, ErrIntegrity
	}
	var pad byte
	for _, c := range p[mli:] {
		pad |= c
	}
	if pad != 0 {
		return nil, ErrIntegrity
	}
	return p[:mli], nil
}

// wrap is the RFC 3394 §2.2.1 wrapping process with initial value iv.
func wrap(b cipher.Block, iv, plaintext []byte) []byte {
	n := len(plaintext) / 8
	out := make([]byte, 8+len(plaintext))
	copy(out[8:], plaintext)
	a := make([]byte, 8)
	copy(a, iv)
	buf := make([]byte, 16)
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			copy(buf, a)
			copy(buf[8:], out[8*i:8*i+8])
			b.Encrypt(buf, buf)
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a, binary.BigEndian.Uint64(buf[:8])^t)
			copy(out[8*i:], buf[8:])
		}
	}
	copy(out, a)
	return out
}

// unwrap is the RFC 3394 §2.2.2 unwrapping process; it returns the
// recovered initial value and the plaintext.
func unwrap(b cipher.Block, wrapped []byte) (iv, plaintext []byte) {
	n := len(wrapped)/8 - 1
	r := make([]byte, len(wrapped))
	copy(r, wrapped)
	a := r[:8]
	buf := make([]byte, 16)
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(buf, binary.BigEndian.Uint64(a)^t)
			copy(buf[8:], r[8*i:8*i+8])
			b.Decrypt(buf, buf)
			copy(a, buf[:8])
			copy(r[8*i:], buf[8:])
		}
	}
	return a, r[8:]
}
