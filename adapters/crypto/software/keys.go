package software

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// RSA modulus lengths GenerateKeyPair accepts, in bits (multiples of 8).
const (
	minRSABits = 512
	maxRSABits = 4096
)

// Bounds on keys a client registers: crypto/rsa has no upper modulus bound
// and RSA costs grow with its cube, so larger keys are refused before any
// operation (16384 bits is OpenSSL's OPENSSL_RSA_MAX_MODULUS_BITS), and
// material no key of that size needs is refused before parsing.
const (
	maxUsableRSABits = 16384
	maxKeyMaterial   = 64 << 10
)

// GenerateKeyPair creates an RSA, EC (ECDSA/ECDH) or Ed25519 key pair.
//
// RSA halves are PKCS#1 (RSAPrivateKey, RSAPublicKey), as PyKMIP's engine
// returns them and KMIP clients expect. EC private keys are PKCS#8 and
// Ed25519 private keys PKCS#8 (RFC 8410); their public keys are X.509
// SubjectPublicKeyInfo (secp256k1 included, see secp256k1.go). Each half's
// Format says which.
//
// Go refuses RSA keys under 1024 bits unless the process runs with
// GODEBUG=rsa1024min=0; without it such lengths answer ErrUnsupported.
func (e *Engine) GenerateKeyPair(ctx context.Context, spec ports.KeyPairSpec) (ports.KeyPair, error) {
	if err := ctx.Err(); err != nil {
		return ports.KeyPair{}, err
	}
	alg := kmip.CryptographicAlgorithm(spec.Algorithm)
	switch alg {
	case kmip.CryptographicAlgorithmRSA:
		if spec.Length < minRSABits || spec.Length > maxRSABits || spec.Length%8 != 0 {
			return ports.KeyPair{}, fmt.Errorf("%w: %d-bit RSA (allowed: %d to %d in steps of 8)", ports.ErrInvalidLength, spec.Length, minRSABits, maxRSABits)
		}
		k, err := e.generateRSA(ctx, spec.Length)
		if err != nil {
			if strings.Contains(err.Error(), "insecure") {
				return ports.KeyPair{}, fmt.Errorf("%w: %d-bit RSA keys (Go refuses RSA under 1024 bits unless GODEBUG=rsa1024min=0)", ports.ErrUnsupported, spec.Length)
			}
			return ports.KeyPair{}, err
		}
		return ports.KeyPair{
			Private: ports.Key{Material: x509.MarshalPKCS1PrivateKey(k), Format: uint32(kmip.KeyFormatTypePKCS_1)},
			Public:  ports.Key{Material: x509.MarshalPKCS1PublicKey(&k.PublicKey), Format: uint32(kmip.KeyFormatTypePKCS_1)},
		}, nil
	case kmip.CryptographicAlgorithmEC, kmip.CryptographicAlgorithmECDSA, kmip.CryptographicAlgorithmECDH:
		if kmip.RecommendedCurve(spec.Curve) == kmip.RecommendedCurveSECP256K1 {
			return e.generateK1(spec.Length)
		}
		curve, err := kmipparams.Curve(kmip.RecommendedCurve(spec.Curve), spec.Length)
		if err != nil {
			return ports.KeyPair{}, err
		}
		k, err := e.generateECDSA(curve)
		if err != nil {
			return ports.KeyPair{}, err
		}
		return marshalPair(k, &k.PublicKey)
	case kmip.CryptographicAlgorithmEd25519:
		if spec.Length != 0 && spec.Length != 256 && spec.Length != 255 {
			return ports.KeyPair{}, fmt.Errorf("%w: %d-bit Ed25519 (allowed: 256)", ports.ErrInvalidLength, spec.Length)
		}
		if spec.Curve != 0 && kmip.RecommendedCurve(spec.Curve) != kmip.RecommendedCurveCURVE25519 {
			return ports.KeyPair{}, fmt.Errorf("%w: Ed25519 on curve %s", ports.ErrInvalidInput, kmip.RecommendedCurve(spec.Curve))
		}
		pub, priv, err := e.generateEd25519()
		if err != nil {
			return ports.KeyPair{}, err
		}
		return marshalPair(priv, pub)
	}
	return ports.KeyPair{}, fmt.Errorf("%w: key pair algorithm %s", ports.ErrUnsupported, alg)
}

func marshalPair(priv, pub any) (ports.KeyPair, error) {
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return ports.KeyPair{}, err
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ports.KeyPair{}, err
	}
	return ports.KeyPair{
		Private: ports.Key{Material: p8, Format: uint32(kmip.KeyFormatTypePKCS_8)},
		Public:  ports.Key{Material: spki, Format: uint32(kmip.KeyFormatTypeX_509)},
	}, nil
}

// parsedKey is a key handle's material decoded: priv is nil for a public key.
type parsedKey struct {
	priv crypto.Signer
	pub  crypto.PublicKey
}

// parseKey decodes asymmetric key material. It tries the declared Key
// Format Type first and then every DER form a client may register (PKCS#1,
// PKCS#8, SEC 1 ECPrivateKey, X.509 SubjectPublicKeyInfo or certificate,
// raw Ed25519), so a mislabelled format still works. Transparent formats are
// TTLV structures that reach the engine only after the application has
// converted them, so they are not parsed here.
func parseKey(k ports.KeyHandle) (parsedKey, error) {
	if len(k.Material) == 0 {
		return parsedKey{}, fmt.Errorf("%w: key %q has no material", ports.ErrInvalidInput, k.ID)
	}
	if len(k.Material) > maxKeyMaterial {
		return parsedKey{}, fmt.Errorf("%w: key %q: %d bytes of asymmetric key material (at most %d)", ports.ErrInvalidLength, k.ID, len(k.Material), maxKeyMaterial)
	}
	m := k.Material
	tryPriv := func(p any, err error) (parsedKey, bool) {
		if err != nil {
			return parsedKey{}, false
		}
		s, ok := p.(crypto.Signer)
		if !ok {
			return parsedKey{}, false
		}
		return parsedKey{priv: s, pub: s.Public()}, true
	}
	tryPub := func(p any, err error) (parsedKey, bool) {
		if err != nil {
			return parsedKey{}, false
		}
		switch p.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			return parsedKey{pub: p}, true
		}
		return parsedKey{}, false
	}
	parsers := map[kmip.KeyFormatType][]func() (parsedKey, bool){
		kmip.KeyFormatTypePKCS_1: {
			func() (parsedKey, bool) { return tryPriv(x509.ParsePKCS1PrivateKey(m)) },
			func() (parsedKey, bool) { return tryPub(x509.ParsePKCS1PublicKey(m)) },
		},
		kmip.KeyFormatTypePKCS_8: {
			func() (parsedKey, bool) { return tryPriv(x509.ParsePKCS8PrivateKey(m)) },
		},
		kmip.KeyFormatTypeECPrivateKey: {
			func() (parsedKey, bool) { return tryPriv(x509.ParseECPrivateKey(m)) },
		},
		kmip.KeyFormatTypeX_509: {
			func() (parsedKey, bool) { return tryPub(x509.ParsePKIXPublicKey(m)) },
			func() (parsedKey, bool) {
				c, err := x509.ParseCertificate(m)
				if err != nil {
					return parsedKey{}, false
				}
				return tryPub(c.PublicKey, nil)
			},
		},
		kmip.KeyFormatTypeRaw: {
			func() (parsedKey, bool) {
				if kmip.CryptographicAlgorithm(k.Algorithm) != kmip.CryptographicAlgorithmEd25519 {
					return parsedKey{}, false
				}
				switch {
				case len(m) == ed25519.SeedSize && k.ObjectType == uint32(kmip.ObjectTypePrivateKey):
					return tryPriv(ed25519.NewKeyFromSeed(m), nil)
				case len(m) == ed25519.PrivateKeySize:
					// seed || public key: crypto/ed25519 signs with the
					// public half as given, so it must be the seed's.
					k := ed25519.NewKeyFromSeed(m[:ed25519.SeedSize])
					if subtle.ConstantTimeCompare(k[ed25519.SeedSize:], m[ed25519.SeedSize:]) != 1 {
						return parsedKey{}, false
					}
					return tryPriv(k, nil)
				case len(m) == ed25519.PublicKeySize:
					return tryPub(ed25519.PublicKey(m), nil)
				}
				return parsedKey{}, false
			},
		},
	}
	order := []kmip.KeyFormatType{kmip.KeyFormatType(k.Format)}
	for _, f := range []kmip.KeyFormatType{kmip.KeyFormatTypePKCS_1, kmip.KeyFormatTypePKCS_8, kmip.KeyFormatTypeECPrivateKey, kmip.KeyFormatTypeX_509, kmip.KeyFormatTypeRaw} {
		if f != order[0] {
			order = append(order, f)
		}
	}
	// crypto/x509 knows only the NIST curves; secp256k1 keys are read by
	// keyformat (see secp256k1.go).
	for _, f := range []kmip.KeyFormatType{kmip.KeyFormatTypePKCS_8, kmip.KeyFormatTypeECPrivateKey, kmip.KeyFormatTypeX_509} {
		parsers[f] = append(parsers[f], func() (parsedKey, bool) { return parseK1(f, m) })
	}
	for _, f := range order {
		for _, p := range parsers[f] {
			if pk, ok := p(); ok {
				if pub, ok := pk.pub.(*rsa.PublicKey); ok && pub.N.BitLen() > maxUsableRSABits {
					return parsedKey{}, fmt.Errorf("%w: key %q: %d-bit RSA key (at most %d)", ports.ErrInvalidLength, k.ID, pub.N.BitLen(), maxUsableRSABits)
				}
				return pk, nil
			}
		}
	}
	if rsaTooSmall(m) {
		return parsedKey{}, fmt.Errorf("%w: RSA keys under 1024 bits (Go refuses them unless GODEBUG=rsa1024min=0)", ports.ErrUnsupported)
	}
	return parsedKey{}, fmt.Errorf("%w: key %q: cannot decode %s key material", ports.ErrInvalidInput, k.ID, kmip.KeyFormatType(k.Format))
}

// rsaTooSmall reports whether m failed to parse only because Go refuses
// small RSA keys.
func rsaTooSmall(m []byte) bool {
	for _, err := range []error{
		func() error { _, err := x509.ParsePKCS1PrivateKey(m); return err }(),
		func() error { _, err := x509.ParsePKCS8PrivateKey(m); return err }(),
		func() error { _, err := x509.ParsePKCS1PublicKey(m); return err }(),
		func() error { _, err := x509.ParsePKIXPublicKey(m); return err }(),
	} {
		if err != nil && strings.Contains(err.Error(), "insecure") {
			return true
		}
	}
	return false
}

// privateKey decodes k and requires a private key.
func privateKey(k ports.KeyHandle) (crypto.Signer, error) {
	pk, err := parseKey(k)
	if err != nil {
		return nil, err
	}
	if pk.priv == nil {
		return nil, fmt.Errorf("%w: key %q is a public key; the operation needs the private key", ports.ErrInvalidInput, k.ID)
	}
	return pk.priv, nil
}
