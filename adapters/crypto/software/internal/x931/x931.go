// Package x931 is the ANSI X9.31 Appendix A.2.4 random number generator
// with AES-256 as the block cipher, as specified in NIST's
// "NIST-Recommended Random Number Generator Based on ANSI X9.31 Appendix
// A.2.4 Using the 3-Key Triple DES and AES Algorithms" (Sharon Keller,
// 2005), §2.1 and §3:
//
//	I = E_K(DT)
//	R = E_K(I xor V)     (R is the output block)
//	V = E_K(R xor I)     (the next seed)
//
// where K is the AES-256 key, V the 128-bit seed and DT the 128-bit
// date/time vector, which changes for every output block. Here DT is a
// 64-bit wall-clock reading (nanoseconds) followed by a 64-bit counter, so
// no two blocks of one key share a DT.
//
// Generator keys itself from crypto/rand (fresh K, V and DT) when first used
// and again after every ReseedBlocks output blocks, and is safe for
// concurrent use.
package x931

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"time"
)

// KeySize is the AES-256 key length K in bytes.
const KeySize = 32

// BlockSize is the length of V, DT and each output block R.
const BlockSize = aes.BlockSize

// ReseedBlocks bounds how many output blocks one key and seed produce
// before the generator draws a fresh K, V and DT from crypto/rand (2^16
// blocks = 1 MiB).
const ReseedBlocks = 1 << 16

// Generator is an X9.31 AES-256 generator. The zero value is ready to use.
type Generator struct {
	mu      sync.Mutex
	block   cipher.Block
	v, dt   [BlockSize]byte
	used    int
	entropy io.Reader          // nil: crypto/rand
	nextDT  func(dt *[16]byte) // nil: clock and counter
	fixed   bool               // known-answer mode: never reseed
}

// New returns a generator that reseeds from crypto/rand.
func New() *Generator { return &Generator{} }

// NewFixed returns a generator with the given key, seed and initial date/time
// vector that increments DT by one (as a 128-bit big-endian integer) per
// block and never reseeds: the NIST RNGVS test configuration. It is for
// known-answer tests only.
func NewFixed(key []byte, v, dt [BlockSize]byte) (*Generator, error) {
	if len(key) != KeySize {
		return nil, errors.New("x931: key must be 32 bytes (AES-256)")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return &Generator{block: b, v: v, dt: dt, fixed: true, nextDT: incrementDT}, nil
}

// incrementDT adds one to dt as a 128-bit big-endian integer.
func incrementDT(dt *[16]byte) {
	for i := len(dt) - 1; i >= 0; i-- {
		dt[i]++
		if dt[i] != 0 {
			return
		}
	}
}

// clockDT sets dt to the current time (nanoseconds) and the next counter value.
func clockDT(dt *[16]byte) {
	binary.BigEndian.PutUint64(dt[:8], uint64(time.Now().UnixNano()))
	binary.BigEndian.PutUint64(dt[8:], binary.BigEndian.Uint64(dt[8:])+1)
}

// reseed draws a fresh K, V and DT counter from crypto/rand (g.mu held).
func (g *Generator) reseed() error {
	src := g.entropy
	if src == nil {
		src = rand.Reader
	}
	var buf [KeySize + 2*BlockSize]byte
	if _, err := io.ReadFull(src, buf[:]); err != nil {
		return err
	}
	defer clear(buf[:])
	b, err := aes.NewCipher(buf[:KeySize])
	if err != nil {
		return err
	}
	g.block = b
	copy(g.v[:], buf[KeySize:KeySize+BlockSize])
	copy(g.dt[:], buf[KeySize+BlockSize:])
	g.used = 0
	return nil
}

// next writes one output block R to r and advances V (g.mu held).
func (g *Generator) next(r *[BlockSize]byte) error {
	if !g.fixed && (g.block == nil || g.used >= ReseedBlocks) {
		if err := g.reseed(); err != nil {
			return err
		}
	}
	if !g.fixed || g.used > 0 {
		if g.nextDT != nil {
			g.nextDT(&g.dt)
		} else {
			clockDT(&g.dt)
		}
	}
	var i, t [BlockSize]byte
	g.block.Encrypt(i[:], g.dt[:]) // I = E_K(DT)
	xorBlock(&t, &i, &g.v)
	g.block.Encrypt(r[:], t[:]) // R = E_K(I xor V)
	xorBlock(&t, r, &i)
	g.block.Encrypt(g.v[:], t[:]) // V = E_K(R xor I)
	g.used++
	return nil
}

func xorBlock(dst, a, b *[BlockSize]byte) {
	for k := range dst {
		dst[k] = a[k] ^ b[k]
	}
}

// Read fills p with generator output; it implements io.Reader.
func (g *Generator) Read(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	var r [BlockSize]byte
	for n < len(p) {
		if err := g.next(&r); err != nil {
			return n, err
		}
		n += copy(p[n:], r[:])
	}
	clear(r[:])
	return n, nil
}
