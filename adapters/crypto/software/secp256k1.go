package software

// secp256k1 (KMIP Recommended Curve SECP256K1). Go's crypto/ecdsa signs only
// on the NIST curves (on any other elliptic.Curve it falls back to generic,
// variable-time code), so keys on this curve sign, verify and are generated
// with github.com/decred/dcrd/dcrec/secp256k1/v4, a constant-time
// implementation. domain/keyformat reads and writes the ASN.1 forms; keys
// travel through the engine as *ecdsa.PublicKey on keyformat.Secp256k1().

import (
	"crypto"
	"crypto/ecdsa"
	"fmt"
	"io"
	"math/big"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// k1Signer is a secp256k1 private key as a crypto.Signer: Sign returns an
// ASN.1 DER ECDSA signature with an RFC 6979 deterministic nonce, so the
// random source is not used.
type k1Signer struct {
	priv *secp256k1.PrivateKey
	pub  *ecdsa.PublicKey
}

var _ crypto.Signer = k1Signer{}

func (k k1Signer) Public() crypto.PublicKey { return k.pub }

// Sign signs digest (any length: ECDSA uses its leftmost 256 bits).
func (k k1Signer) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	return k1ecdsa.Sign(k.priv, digest).Serialize(), nil
}

// newK1Signer wraps a 32-byte private scalar, deriving its public point.
func newK1Signer(d []byte) k1Signer {
	priv := secp256k1.PrivKeyFromBytes(d)
	pk := priv.PubKey()
	//lint:ignore SA1019 secp256k1 is neither a NIST curve nor in crypto/ecdh: raw big.Int coordinates are the only form Go's ecdsa types give its keys
	return k1Signer{priv: priv, pub: &ecdsa.PublicKey{Curve: keyformat.Secp256k1(), X: pk.X(), Y: pk.Y()}}
}

// toK1Public converts a public key on keyformat.Secp256k1() to decred's form.
func toK1Public(pub *ecdsa.PublicKey) (*secp256k1.PublicKey, error) {
	q := make([]byte, 65)
	q[0] = 4
	//lint:ignore SA1019 secp256k1 is neither a NIST curve nor in crypto/ecdh: raw big.Int coordinates are the only form Go's ecdsa types give its keys
	pub.X.FillBytes(q[1:33])
	//lint:ignore SA1019 secp256k1 is neither a NIST curve nor in crypto/ecdh: raw big.Int coordinates are the only form Go's ecdsa types give its keys
	pub.Y.FillBytes(q[33:])
	return secp256k1.ParsePubKey(q)
}

// verifyK1 checks a DER ECDSA signature over digest; anything that is not
// one is simply invalid.
func verifyK1(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	pk, err := toK1Public(pub)
	if err != nil {
		return false
	}
	s, err := k1ecdsa.ParseDERSignature(sig)
	if err != nil {
		return false
	}
	return s.Verify(digest, pk)
}

// parseK1 decodes secp256k1 material in format (PKCS#8 or ECPrivateKey for
// private keys, X.509 SubjectPublicKeyInfo for public keys). The private
// scalar never reaches keyformat's variable-time arithmetic: the public
// point is derived here and must match the embedded one.
func parseK1(format kmip.KeyFormatType, m []byte) (parsedKey, bool) {
	switch format {
	case kmip.KeyFormatTypePKCS_8, kmip.KeyFormatTypeECPrivateKey:
		d, q, err := keyformat.Secp256k1Private(format, m)
		if err != nil {
			return parsedKey{}, false
		}
		defer clear(d)
		s := newK1Signer(d)
		if q != nil {
			embedded, err := secp256k1.ParsePubKey(q)
			if err != nil || !embedded.IsEqual(s.priv.PubKey()) {
				return parsedKey{}, false
			}
		}
		return parsedKey{priv: s, pub: s.pub}, true
	case kmip.KeyFormatTypeX_509:
		k, err := keyformat.Decode(format, kmip.Bytes(kmip.TagKeyMaterial, m))
		if err != nil || k.Kind != keyformat.ECPublic || !keyformat.IsSecp256k1(k.ECPublic.Curve) {
			return parsedKey{}, false
		}
		return parsedKey{pub: k.ECPublic}, true
	}
	return parsedKey{}, false
}

// generateK1 returns a secp256k1 key pair (PKCS#8 and X.509), the scalar
// drawn from the engine's generator by rejection sampling in [1, n-1].
func (e *Engine) generateK1(length int) (ports.KeyPair, error) {
	if length != 0 && length != 256 {
		return ports.KeyPair{}, fmt.Errorf("%w: %d bits for curve secp256k1", ports.ErrInvalidLength, length)
	}
	var d [32]byte
	defer clear(d[:])
	var s secp256k1.ModNScalar
	for {
		if err := e.readRandom(d[:]); err != nil {
			return ports.KeyPair{}, err
		}
		if overflow := s.SetBytes(&d); overflow == 0 && !s.IsZero() {
			break
		}
	}
	s.Zero()
	k := newK1Signer(d[:])
	defer k.priv.Zero()
	//lint:ignore SA1019 secp256k1 is neither a NIST curve nor in crypto/ecdh: raw big.Int coordinates are the only form Go's ecdsa types give its keys
	priv := &ecdsa.PrivateKey{PublicKey: *k.pub, D: new(big.Int).SetBytes(d[:])}
	p8, err := keyformat.Encode(keyformat.Key{Kind: keyformat.ECPrivate, ECPrivate: priv}, kmip.KeyFormatTypePKCS_8, keyformat.Uncompressed)
	if err != nil {
		return ports.KeyPair{}, err
	}
	x509, err := keyformat.Encode(keyformat.Key{Kind: keyformat.ECPublic, ECPublic: k.pub}, kmip.KeyFormatTypeX_509, keyformat.Uncompressed)
	if err != nil {
		return ports.KeyPair{}, err
	}
	privDER, _ := p8.AsBytes()
	pubDER, _ := x509.AsBytes()
	return ports.KeyPair{
		Private: ports.Key{Material: privDER, Format: uint32(kmip.KeyFormatTypePKCS_8)},
		Public:  ports.Key{Material: pubDER, Format: uint32(kmip.KeyFormatTypeX_509)},
	}, nil
}
