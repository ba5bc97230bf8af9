package software

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/kmipd/kmipd/adapters/crypto/software/internal/x931"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// RNG names accepted in Options.RNG.
const (
	RNGOS         = "os"           // crypto/rand (the operating system's CSPRNG)
	RNGX931AES256 = "x9.31-aes256" // ANSI X9.31 A.2.4 with AES-256, keyed from crypto/rand
)

// Options configure an engine.
type Options struct {
	// RNG selects where generated key material and RNG Retrieve output come
	// from: "os" (default) or "x9.31-aes256".
	RNG string
}

// NewWithOptions returns a software engine configured by o.
func NewWithOptions(o Options) (*Engine, error) {
	switch o.RNG {
	case "", RNGOS:
		return &Engine{}, nil
	case RNGX931AES256:
		return &Engine{x931: x931.New()}, nil
	}
	return nil, fmt.Errorf("software engine: unknown rng %q (want %q or %q)", o.RNG, RNGOS, RNGX931AES256)
}

var _ ports.RNGDescriber = (*Engine)(nil)

// RNG describes the generator keys come from: ANSI X9.31 with AES-256 when
// configured, otherwise Unspecified (Go's crypto/rand does not name its
// algorithm).
func (e *Engine) RNG() ports.RNGInfo {
	if e.x931 != nil {
		return ports.RNGInfo{
			Algorithm:       uint32(kmip.RNGAlgorithmANSIX9_31),
			CryptoAlgorithm: uint32(kmip.CryptographicAlgorithmAES),
			Length:          256,
		}
	}
	return ports.RNGInfo{Algorithm: uint32(kmip.RNGAlgorithmUnspecified)}
}

var _ ports.RNGLister = (*Engine)(nil)

// RNGs lists the engine's generators: with X9.31, that one (key material,
// RNG Retrieve) and crypto/rand, which still supplies IVs, nonces, padding
// and signature randomness; otherwise crypto/rand alone.
func (e *Engine) RNGs() []ports.RNGInfo {
	os := ports.RNGInfo{Algorithm: uint32(kmip.RNGAlgorithmUnspecified)}
	if e.x931 != nil {
		return []ports.RNGInfo{e.RNG(), os}
	}
	return []ports.RNGInfo{os}
}

// random is the reader key material is drawn from.
func (e *Engine) random() io.Reader {
	if e.x931 != nil {
		return e.x931
	}
	return rand.Reader
}

// readRandom fills b from the engine's generator.
func (e *Engine) readRandom(b []byte) error {
	_, err := io.ReadFull(e.random(), b)
	return err
}

// generateRSA returns an RSA key. With the OS generator it is Go's
// rsa.GenerateKey. Since Go 1.26 rsa.GenerateKey ignores its reader, so
// with X9.31 the two primes are searched here from generator output
// (candidates with the two top bits set, probable-prime tested, |p - q|
// large), e = 65537,
// and the key is validated by crypto/rsa. The search stops with ctx's error
// when ctx ends.
func (e *Engine) generateRSA(ctx context.Context, bits int) (*rsa.PrivateKey, error) {
	if e.x931 == nil {
		return rsa.GenerateKey(rand.Reader, bits)
	}
	if bits < 1024 {
		return nil, errors.New("crypto/rsa: 1024-bit keys are insecure")
	}
	e65537 := big.NewInt(65537)
	one := big.NewInt(1)
	for {
		p, err := e.prime(ctx, bits-bits/2)
		if err != nil {
			return nil, err
		}
		q, err := e.prime(ctx, bits/2)
		if err != nil {
			return nil, err
		}
		// FIPS 186-5 A.1.3: |p - q| > 2^(nlen/2 - 100).
		if new(big.Int).Sub(p, q).CmpAbs(new(big.Int).Lsh(one, uint(bits/2-100))) <= 0 {
			continue
		}
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != bits {
			continue
		}
		pm, qm := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
		phi := new(big.Int).Mul(pm, qm)
		d := new(big.Int).ModInverse(e65537, phi)
		if d == nil {
			continue
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
		if err := k.Validate(); err != nil {
			return nil, err
		}
		k.Precompute()
		return k, nil
	}
}

// prime returns a probable prime of exactly bits bits from the generator
// (top two bits set so that the product of two has the full length); it
// checks ctx before each candidate.
func (e *Engine) prime(ctx context.Context, bits int) (*big.Int, error) {
	buf := make([]byte, (bits+7)/8)
	defer clear(buf)
	p := new(big.Int)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := e.readRandom(buf); err != nil {
			return nil, err
		}
		if extra := uint(len(buf)*8 - bits); extra > 0 {
			buf[0] &= byte(0xff >> extra)
		}
		p.SetBytes(buf)
		p.SetBit(p, bits-1, 1)
		p.SetBit(p, bits-2, 1)
		p.SetBit(p, 0, 1)
		if p.ProbablyPrime(32) {
			return p, nil
		}
	}
}

// generateECDSA returns an EC key. With X9.31 the private scalar is drawn
// from the generator by rejection sampling in [1, n-1] (FIPS 186-5 A.4.2)
// because ecdsa.GenerateKey ignores its reader since Go 1.26.
func (e *Engine) generateECDSA(curve elliptic.Curve) (*ecdsa.PrivateKey, error) {
	if e.x931 == nil {
		return ecdsa.GenerateKey(curve, rand.Reader)
	}
	n := curve.Params().N
	size := (n.BitLen() + 7) / 8
	buf := make([]byte, size)
	defer clear(buf)
	d := new(big.Int)
	for {
		if err := e.readRandom(buf); err != nil {
			return nil, err
		}
		if extra := uint(size*8 - n.BitLen()); extra > 0 {
			buf[0] &= byte(0xff >> extra)
		}
		d.SetBytes(buf)
		if d.Sign() > 0 && d.Cmp(n) < 0 {
			break
		}
	}
	d.FillBytes(buf)
	return ecdsa.ParseRawPrivateKey(curve, buf)
}

// generateEd25519 returns an Ed25519 key from a 32-byte seed drawn from the
// engine's generator (RFC 8032 §5.1.5).
func (e *Engine) generateEd25519() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	if e.x931 == nil {
		return ed25519.GenerateKey(rand.Reader)
	}
	seed := make([]byte, ed25519.SeedSize)
	defer clear(seed)
	if err := e.readRandom(seed); err != nil {
		return nil, nil, err
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return priv.Public().(ed25519.PublicKey), priv, nil
}
