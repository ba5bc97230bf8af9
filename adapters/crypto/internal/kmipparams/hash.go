package kmipparams

import (
	"crypto"
	_ "crypto/md5" // links in every hash goHashes names
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha3"
	_ "crypto/sha512"
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// goHashes maps KMIP Hashing Algorithms to Go hashes; the imports above
// make every one available.
var goHashes = map[kmip.HashingAlgorithm]crypto.Hash{
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

// Hash looks a required KMIP Hashing Algorithm up in an engine's table
// (what the engine knows about each hash it supports): zero is
// ErrInvalidInput, an algorithm the table lacks ErrUnsupported.
func Hash[H any](table map[kmip.HashingAlgorithm]H, alg uint32) (H, error) {
	var zero H
	if alg == 0 {
		return zero, fmt.Errorf("%w: a hashing algorithm is required", ports.ErrInvalidInput)
	}
	h, ok := table[kmip.HashingAlgorithm(alg)]
	if !ok {
		return zero, fmt.Errorf("%w: hashing algorithm %s", ports.ErrUnsupported, kmip.HashingAlgorithm(alg))
	}
	return h, nil
}

// HashOr is Hash, or def when alg is zero (an optional Hashing Algorithm
// with a default, such as SHA-1 for OAEP).
func HashOr[H any](table map[kmip.HashingAlgorithm]H, alg uint32, def H) (H, error) {
	if alg == 0 {
		return def, nil
	}
	return Hash(table, alg)
}

// GoHash is Hash over the Go standard library's hashes: MD5, SHA-1, SHA-2
// (including SHA-512/224 and SHA-512/256) and SHA-3.
func GoHash(alg uint32) (crypto.Hash, error) {
	return Hash(goHashes, alg)
}

// GoHashOr is GoHash, or def when alg is zero.
func GoHashOr(alg uint32, def crypto.Hash) (crypto.Hash, error) {
	return HashOr(goHashes, alg, def)
}
