package kmipparams

import (
	"crypto/elliptic"
	"fmt"
	"slices"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// OperationAlgorithm is the algorithm an operation runs: the Cryptographic
// Parameters' when given, else the key's. A parameter naming an algorithm
// the key is not for is ErrInvalidInput, unless both are in one of the
// families: groups of algorithms whose keys serve one another in the
// calling engine (the software engine passes ChaCha20 with
// ChaCha20-Poly1305). Neither naming one is ErrInvalidInput.
func OperationAlgorithm(key ports.KeyHandle, p ports.CryptoParams, families ...[]kmip.CryptographicAlgorithm) (kmip.CryptographicAlgorithm, error) {
	ka, pa := kmip.CryptographicAlgorithm(key.Algorithm), kmip.CryptographicAlgorithm(p.CryptographicAlgorithm)
	switch {
	case pa == 0 && ka == 0:
		return 0, fmt.Errorf("%w: no cryptographic algorithm for key %q", ports.ErrInvalidInput, key.ID)
	case pa == 0:
		return ka, nil
	case ka == 0 || ka == pa:
		return pa, nil
	}
	for _, f := range families {
		if slices.Contains(f, ka) && slices.Contains(f, pa) {
			return pa, nil
		}
	}
	return 0, fmt.Errorf("%w: key %q is a %s key, not %s", ports.ErrInvalidInput, key.ID, ka, pa)
}

// RSAWrapParams returns p with RSA key transport's default padding: OAEP
// when no Padding Method is given (KMIP 1.4 §2.1.5 leaves it to the
// server; OAEP is the one that is safe for keys).
func RSAWrapParams(p ports.CryptoParams) ports.CryptoParams {
	if p.PaddingMethod == 0 {
		p.PaddingMethod = uint32(kmip.PaddingMethodOAEP)
	}
	return p
}

// Curve chooses the NIST curve (P-224, P-256, P-384, P-521) by Recommended
// Curve, or by Cryptographic Length when the curve is absent. A length
// that contradicts the curve, or matches none, is ErrInvalidLength; any
// other curve is ErrUnsupported.
func Curve(c kmip.RecommendedCurve, length int) (elliptic.Curve, error) {
	var curve elliptic.Curve
	switch c {
	case kmip.RecommendedCurveP_224:
		curve = elliptic.P224()
	case kmip.RecommendedCurveP_256:
		curve = elliptic.P256()
	case kmip.RecommendedCurveP_384:
		curve = elliptic.P384()
	case kmip.RecommendedCurveP_521:
		curve = elliptic.P521()
	case 0:
		switch length {
		case 224:
			return elliptic.P224(), nil
		case 256:
			return elliptic.P256(), nil
		case 384:
			return elliptic.P384(), nil
		case 521:
			return elliptic.P521(), nil
		}
		return nil, fmt.Errorf("%w: %d-bit EC key (allowed: 224, 256, 384, 521)", ports.ErrInvalidLength, length)
	default:
		return nil, fmt.Errorf("%w: curve %s", ports.ErrUnsupported, c)
	}
	if length != 0 && length != curve.Params().BitSize {
		return nil, fmt.Errorf("%w: %d bits for curve %s", ports.ErrInvalidLength, length, curve.Params().Name)
	}
	return curve, nil
}
