package kmipparams

import (
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// RSAPadding reads RSA encryption's Padding Method: PKCS#1 v1.5 (oaep
// false), or OAEP with its hash (Hashing Algorithm, default SHA-1 as RFC
// 8017 defines) and MGF1 hash (Mask Generator Hashing Algorithm, default
// the OAEP hash), looked up with hash (the engine's Hash). No padding is
// ErrInvalidInput; another padding, or a mask generator other than MGF1,
// ErrUnsupported. The OAEP label is p.PSource as given.
func RSAPadding[H any](p ports.CryptoParams, hash func(alg uint32) (H, error)) (oaep bool, h, mgf H, err error) {
	switch kmip.PaddingMethod(p.PaddingMethod) {
	case kmip.PaddingMethodPKCS1V1_5:
		return false, h, mgf, nil
	case kmip.PaddingMethodOAEP:
	case 0:
		return false, h, mgf, fmt.Errorf("%w: RSA encryption needs a padding method (OAEP or PKCS1 v1.5)", ports.ErrInvalidInput)
	default:
		return false, h, mgf, fmt.Errorf("%w: RSA padding method %s", ports.ErrUnsupported, kmip.PaddingMethod(p.PaddingMethod))
	}
	if p.MaskGenerator != 0 && kmip.MaskGenerator(p.MaskGenerator) != kmip.MaskGeneratorMGF1 {
		return false, h, mgf, fmt.Errorf("%w: mask generator %s", ports.ErrUnsupported, kmip.MaskGenerator(p.MaskGenerator))
	}
	alg := p.HashingAlgorithm
	if alg == 0 {
		alg = uint32(kmip.HashingAlgorithmSHA_1)
	}
	if h, err = hash(alg); err != nil {
		return false, h, mgf, err
	}
	mgf = h
	if p.MaskGeneratorHashingAlgorithm != 0 {
		if mgf, err = hash(p.MaskGeneratorHashingAlgorithm); err != nil {
			return false, h, mgf, err
		}
	}
	return true, h, mgf, nil
}

// MaxRandom caps one request for random bytes (1 MiB).
const MaxRandom = 1 << 20

// RandomLength checks a request for n random bytes: 0 to MaxRandom, else
// ErrInvalidLength.
func RandomLength(n int) error {
	if n < 0 || n > MaxRandom {
		return fmt.Errorf("%w: %d random bytes", ports.ErrInvalidLength, n)
	}
	return nil
}
