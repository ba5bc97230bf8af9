package software

import (
	"context"
	"crypto"
	_ "crypto/md5" // registers crypto.MD5
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha3"
	_ "crypto/sha512"
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// hashes maps KMIP Hashing Algorithms to Go hashes.
var hashes = map[kmip.HashingAlgorithm]crypto.Hash{
	kmip.HashingAlgorithmMD5:         crypto.MD5,
	kmip.HashingAlgorithmSHA_1:       crypto.SHA1,
	kmip.HashingAlgorithmSHA_224:     crypto.SHA224,
	kmip.HashingAlgorithmSHA_256:     crypto.SHA256,
	kmip.HashingAlgorithmSHA_384:     crypto.SHA384,
	kmip.HashingAlgorithmSHA_512:     crypto.SHA512,
	kmip.HashingAlgorithmSHA_512_224: crypto.SHA512_224,
	kmip.HashingAlgorithmSHA_512_256: crypto.SHA512_256,
	kmip.HashingAlgorithmSHA3_224:    crypto.SHA3_224,
	kmip.HashingAlgorithmSHA3_256:    crypto.SHA3_256,
	kmip.HashingAlgorithmSHA3_384:    crypto.SHA3_384,
	kmip.HashingAlgorithmSHA3_512:    crypto.SHA3_512,
}

// hmacHashes maps the HMAC Cryptographic Algorithms to their hash.
var hmacHashes = map[kmip.CryptographicAlgorithm]crypto.Hash{
	kmip.CryptographicAlgorithmHMAC_MD5:      crypto.MD5,
	kmip.CryptographicAlgorithmHMAC_SHA1:     crypto.SHA1,
	kmip.CryptographicAlgorithmHMAC_SHA224:   crypto.SHA224,
	kmip.CryptographicAlgorithmHMAC_SHA256:   crypto.SHA256,
	kmip.CryptographicAlgorithmHMAC_SHA384:   crypto.SHA384,
	kmip.CryptographicAlgorithmHMAC_SHA512:   crypto.SHA512,
	kmip.CryptographicAlgorithmHMAC_SHA3_224: crypto.SHA3_224,
	kmip.CryptographicAlgorithmHMAC_SHA3_256: crypto.SHA3_256,
	kmip.CryptographicAlgorithmHMAC_SHA3_384: crypto.SHA3_384,
	kmip.CryptographicAlgorithmHMAC_SHA3_512: crypto.SHA3_512,
}

// hashFor returns the Go hash of a KMIP Hashing Algorithm (ErrUnsupported
// for one the engine lacks, ErrInvalidInput for zero).
func hashFor(alg uint32) (crypto.Hash, error) {
	if alg == 0 {
		return 0, fmt.Errorf("%w: a hashing algorithm is required", ports.ErrInvalidInput)
	}
	h, ok := hashes[kmip.HashingAlgorithm(alg)]
	if !ok || !h.Available() {
		return 0, fmt.Errorf("%w: hashing algorithm %s", ports.ErrUnsupported, kmip.HashingAlgorithm(alg))
	}
	return h, nil
}

// hashOr returns hashFor(alg), or def when alg is zero.
func hashOr(alg uint32, def crypto.Hash) (crypto.Hash, error) {
	if alg == 0 {
		return def, nil
	}
	return hashFor(alg)
}

// Hash computes a message digest (KMIP 2.1 §6.1.25 Hash operation).
func (e *Engine) Hash(ctx context.Context, alg uint32, data []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := hashFor(alg)
	if err != nil {
		return nil, err
	}
	w := h.New()
	w.Write(data)
	return w.Sum(nil), nil
}
