// Package software is the crypto engine built on Go's standard library (and
// golang.org/x/crypto where the standard library lacks a cipher). Keys it
// generates are handed out as bytes; it keeps no state.
package software

import (
	"context"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/adapters/crypto/software/internal/x931"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Engine is the software crypto engine. The zero value is ready to use
// and draws from crypto/rand; NewWithOptions (rng.go) selects X9.31.
type Engine struct {
	x931 *x931.Generator // nil: crypto/rand
}

var (
	_ ports.CryptoEngine     = (*Engine)(nil)
	_ ports.Cipher           = (*Engine)(nil)
	_ ports.Signer           = (*Engine)(nil)
	_ ports.MACer            = (*Engine)(nil)
	_ ports.KeyPairGenerator = (*Engine)(nil)
	_ ports.Deriver          = (*Engine)(nil)
	_ ports.Hasher           = (*Engine)(nil)
	_ ports.RandomSeeder     = (*Engine)(nil)
	_ ports.KeyWrapper       = (*Engine)(nil)
)

// New returns a software engine.
func New() *Engine { return &Engine{} }

// Name returns "software".
func (*Engine) Name() string { return "software" }

// GenerateSymmetricKey returns fresh random key material of the requested
// length (see symmetricKeyLength for the lengths each algorithm accepts).
// DES and 3DES keys have their parity bits set as FIPS 46-3 requires.
func (e *Engine) GenerateSymmetricKey(ctx context.Context, spec ports.SymmetricKeySpec) (ports.Key, error) {
	if err := ctx.Err(); err != nil {
		return ports.Key{}, err
	}
	alg := kmip.CryptographicAlgorithm(spec.Algorithm)
	n, err := symmetricKeyBytes(alg, spec.Length)
	if err != nil {
		return ports.Key{}, err
	}
	key := make([]byte, n)
	if err := e.readRandom(key); err != nil {
		return ports.Key{}, err
	}
	if alg == kmip.CryptographicAlgorithmDES3 || alg == kmip.CryptographicAlgorithmDES {
		setOddParity(key)
	}
	return ports.Key{Material: key, Format: uint32(kmip.KeyFormatTypeRaw)}, nil
}

// RandomBytes returns n bytes from the engine's generator.
func (e *Engine) RandomBytes(ctx context.Context, n int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := kmipparams.RandomLength(n); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	err := e.readRandom(b)
	return b, err
}

// SeedRandom accepts seed material (KMIP 1.4 §4.36) and reports all of it
// used. Go's crypto/rand reads the operating system's CSPRNG, which cannot
// be seeded from user space and needs no seeding, so the seed is discarded:
// KMIP lets a server use as much of the seed as it chooses, and mixing
// client-chosen bytes into nothing is the one choice that cannot weaken it.
func (e *Engine) SeedRandom(ctx context.Context, seed []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return len(seed), nil
}

// setOddParity sets the low bit of each byte so every byte has odd parity (DES keys).
func setOddParity(k []byte) {
	for i, b := range k {
		b &^= 1
		ones := 0
		for x := b; x != 0; x >>= 1 {
			ones += int(x & 1)
		}
		if ones%2 == 0 {
			b |= 1
		}
		k[i] = b
	}
}
