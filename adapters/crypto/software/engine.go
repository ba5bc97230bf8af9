// Package software is the crypto engine built on Go's standard library (and
// golang.org/x/crypto where the standard library lacks a cipher). Keys it
// generates are handed out as bytes; it keeps no state.
package software

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Engine is the software crypto engine. The zero value is ready to use.
type Engine struct{}

var _ ports.CryptoEngine = (*Engine)(nil)

// New returns a software engine.
func New() *Engine { return &Engine{} }

// Name returns "software".
func (*Engine) Name() string { return "software" }

// symmetricLengths lists the key lengths, in bits, each symmetric algorithm
// accepts. 3DES lengths count either every key bit (64, 128, 192) or only
// the effective ones (112, 168), as KMIP clients use both.
var symmetricLengths = map[kmip.CryptographicAlgorithm][]int{
	kmip.CryptographicAlgorithmAES:  {128, 192, 256},
	kmip.CryptographicAlgorithmDES3: {64, 112, 128, 168, 192},
	kmip.CryptographicAlgorithmDES:  {56, 64},
	// Camellia, IDEA, CAST5, Blowfish, RC4 and HMAC keys come with issue 4's ciphers.
}

// GenerateSymmetricKey returns fresh random key material of the requested length.
// 3DES keys have their parity bits set as FIPS 46-3 requires.
func (e *Engine) GenerateSymmetricKey(ctx context.Context, spec ports.SymmetricKeySpec) (ports.Key, error) {
	if err := ctx.Err(); err != nil {
		return ports.Key{}, err
	}
	alg := kmip.CryptographicAlgorithm(spec.Algorithm)
	lengths, ok := symmetricLengths[alg]
	if !ok {
		return ports.Key{}, fmt.Errorf("%w: symmetric algorithm %s", ports.ErrUnsupported, alg)
	}
	valid := false
	for _, l := range lengths {
		valid = valid || l == spec.Length
	}
	if !valid {
		return ports.Key{}, fmt.Errorf("%w: %d bits for %s (allowed: %v)", ports.ErrInvalidLength, spec.Length, alg, lengths)
	}
	key := make([]byte, keyBytes(alg, spec.Length))
	if _, err := rand.Read(key); err != nil {
		return ports.Key{}, err
	}
	if alg == kmip.CryptographicAlgorithmDES3 || alg == kmip.CryptographicAlgorithmDES {
		setOddParity(key)
	}
	return ports.Key{Material: key}, nil
}

// RandomBytes returns n bytes from crypto/rand.
func (e *Engine) RandomBytes(ctx context.Context, n int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("%w: %d random bytes", ports.ErrInvalidLength, n)
	}
	b := make([]byte, n)
	_, err := rand.Read(b)
	return b, err
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

// keyBytes is the size of the key material for a length in bits; DES
// lengths given in effective bits (56, 112, 168) include the parity bits.
func keyBytes(alg kmip.CryptographicAlgorithm, bits int) int {
	if alg == kmip.CryptographicAlgorithmDES3 || alg == kmip.CryptographicAlgorithmDES {
		switch bits {
		case 56:
			return 8
		case 112:
			return 16
		case 168:
			return 24
		}
	}
	return bits / 8
}
