package software

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/subtle"
	"fmt"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/adapters/crypto/software/internal/cmac"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// MAC computes an HMAC or a CMAC (NIST SP 800-38B). The algorithm is the
// Cryptographic Parameters' Cryptographic Algorithm when given, else their
// Hashing Algorithm (HMAC with that hash), else the key's algorithm: an
// HMAC_* key gives HMAC, a block cipher key (AES, 3DES, Blowfish, Camellia,
// CAST5, IDEA) gives CMAC over that cipher.
func (e *Engine) MAC(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, data []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(key.Material) == 0 {
		return nil, fmt.Errorf("%w: key %q has no material", ports.ErrInvalidInput, key.ID)
	}
	alg := kmip.CryptographicAlgorithm(p.CryptographicAlgorithm)
	if alg == 0 && p.HashingAlgorithm != 0 {
		h, err := kmipparams.GoHash(p.HashingAlgorithm)
		if err != nil {
			return nil, err
		}
		return hmacSum(h, key.Material, data), nil
	}
	if alg == 0 {
		alg = kmip.CryptographicAlgorithm(key.Algorithm)
	}
	if h, ok := hmacHashes[alg]; ok {
		return hmacSum(h, key.Material, data), nil
	}
	switch alg {
	case kmip.CryptographicAlgorithmAES, kmip.CryptographicAlgorithmDES3, kmip.CryptographicAlgorithmBlowfish,
		kmip.CryptographicAlgorithmCamellia, kmip.CryptographicAlgorithmCAST5, kmip.CryptographicAlgorithmIDEA:
		if ka := kmip.CryptographicAlgorithm(key.Algorithm); ka != 0 && ka != alg {
			return nil, fmt.Errorf("%w: CMAC-%s with a %s key", ports.ErrInvalidInput, alg, ka)
		}
		b, err := newBlock(alg, key.Material)
		if err != nil {
			return nil, err
		}
		return cmac.Sum(b, data)
	case 0:
		return nil, fmt.Errorf("%w: no MAC algorithm for key %q", ports.ErrInvalidInput, key.ID)
	}
	return nil, fmt.Errorf("%w: MAC algorithm %s", ports.ErrUnsupported, alg)
}

// VerifyMAC recomputes the MAC and compares it in constant time with the
// full-length MAC (a truncated MAC does not verify).
func (e *Engine) VerifyMAC(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, data, mac []byte) (bool, error) {
	want, err := e.MAC(ctx, key, p, data)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(want, mac) == 1, nil
}

func hmacSum(h crypto.Hash, key, data []byte) []byte {
	m := hmac.New(h.New, key)
	m.Write(data)
	return m.Sum(nil)
}
