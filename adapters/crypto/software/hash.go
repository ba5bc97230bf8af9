package software

import (
	"context"
	"crypto"
	_ "crypto/md5" // registers crypto.MD5
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha3"
	_ "crypto/sha512"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/domain/kmip"
)

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

// Hash computes a message digest (KMIP 2.1 §6.1.25 Hash operation).
func (e *Engine) Hash(ctx context.Context, alg uint32, data []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := kmipparams.GoHash(alg)
	if err != nil {
		return nil, err
	}
	w := h.New()
	w.Write(data)
	return w.Sum(nil), nil
}
