package software

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// sigScheme is a resolved signature scheme; a zero hash is none (Ed25519,
// or ECDSA over a given digest).
type sigScheme = kmipparams.SigScheme[crypto.Hash]

// resolveSig resolves the scheme (kmipparams.ResolveSig) for the decoded
// key's family, which is authoritative.
func resolveSig(pub crypto.PublicKey, p ports.CryptoParams, digested bool) (sigScheme, error) {
	var family kmip.CryptographicAlgorithm
	switch pub.(type) {
	case *rsa.PublicKey:
		family = kmip.CryptographicAlgorithmRSA
	case *ecdsa.PublicKey:
		family = kmip.CryptographicAlgorithmECDSA
	case ed25519.PublicKey:
		family = kmip.CryptographicAlgorithmEd25519
	default:
		return sigScheme{}, fmt.Errorf("%w: signing with a %T key", ports.ErrUnsupported, pub)
	}
	return kmipparams.ResolveSig(family, p, digested, kmipparams.GoHash)
}

// pssOptions: the salt is Salt Length bytes when given, else the hash's
// size on signing and auto-detected on verifying; signing with a zero-length
// salt is ErrUnsupported (crypto/rsa cannot express it). MGF1 uses the message
// hash; a different Mask Generator Hashing Algorithm is not supported.
func pssOptions(p ports.CryptoParams, h crypto.Hash, signing bool) (*rsa.PSSOptions, error) {
	if p.MaskGeneratorHashingAlgorithm != 0 {
		if mh, err := kmipparams.GoHash(p.MaskGeneratorHashingAlgorithm); err != nil || mh != h {
			return nil, fmt.Errorf("%w: PSS with an MGF1 hash other than the message hash", ports.ErrUnsupported)
		}
	}
	o := &rsa.PSSOptions{Hash: h, SaltLength: rsa.PSSSaltLengthAuto}
	if signing {
		o.SaltLength = rsa.PSSSaltLengthEqualsHash
	}
	if p.SaltLengthSet {
		if p.SaltLength < 0 {
			return nil, fmt.Errorf("%w: salt length %d", ports.ErrInvalidInput, p.SaltLength)
		}
		// crypto/rsa reads SaltLength 0 as PSSSaltLengthAuto: signing
		// would use the longest salt, verifying accepts any (including
		// none), so only signing must refuse.
		if p.SaltLength == 0 && signing {
			return nil, fmt.Errorf("%w: PSS signatures with a zero-length salt", ports.ErrUnsupported)
		}
		o.SaltLength = p.SaltLength
	}
	return o, nil
}

// digestFor hashes data with s.Hash, or checks it is already a digest of
// that hash's size when digested.
func digestFor(s sigScheme, data []byte, digested bool) ([]byte, error) {
	if s.Hash == 0 {
		return data, nil
	}
	if digested {
		if len(data) != s.Hash.Size() {
			return nil, fmt.Errorf("%w: digested data of %d bytes for %s (want %d)", ports.ErrInvalidInput, len(data), s.Hash, s.Hash.Size())
		}
		return data, nil
	}
	w := s.Hash.New()
	w.Write(data)
	return w.Sum(nil), nil
}

// Sign signs data with a private RSA (PKCS#1 v1.5 or PSS), ECDSA (ASN.1 DER
// signature) or Ed25519 key. digested says data is the hash already; for
// Ed25519 that is HashEdDSA (Ed25519ph, RFC 8032) over a SHA-512 digest.
func (e *Engine) Sign(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, data []byte, digested bool) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	priv, err := privateKey(key)
	if err != nil {
		return nil, err
	}
	s, err := resolveSig(priv.Public(), p, digested)
	if err != nil {
		return nil, err
	}
	if k, ok := priv.(ed25519.PrivateKey); ok {
		if digested {
			if len(data) != 64 {
				return nil, fmt.Errorf("%w: Ed25519ph needs a 64-byte SHA-512 digest", ports.ErrInvalidInput)
			}
			return k.Sign(nil, data, &ed25519.Options{Hash: crypto.SHA512})
		}
		return ed25519.Sign(k, data), nil
	}
	d, err := digestFor(s, data, digested)
	if err != nil {
		return nil, err
	}
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if s.PSS {
			o, err := pssOptions(p, s.Hash, true)
			if err != nil {
				return nil, err
			}
			sig, err := rsa.SignPSS(rand.Reader, k, s.Hash, d, o)
			if err != nil {
				return nil, fmt.Errorf("%w: RSA-PSS: %v", ports.ErrInvalidInput, err)
			}
			return sig, nil
		}
		sig, err := rsa.SignPKCS1v15(rand.Reader, k, s.Hash, d)
		if err != nil {
			return nil, fmt.Errorf("%w: RSA PKCS#1 v1.5: %v", ports.ErrInvalidInput, err)
		}
		return sig, nil
	case *ecdsa.PrivateKey:
		return ecdsa.SignASN1(rand.Reader, k, d)
	}
	return nil, fmt.Errorf("%w: signing with a %T key", ports.ErrUnsupported, priv)
}

// Verify checks sig over data with the public half of key (a public or a
// private key); an invalid signature is (false, nil).
func (e *Engine) Verify(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, data []byte, digested bool, sig []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	pk, err := parseKey(key)
	if err != nil {
		return false, err
	}
	s, err := resolveSig(pk.pub, p, digested)
	if err != nil {
		return false, err
	}
	if k, ok := pk.pub.(ed25519.PublicKey); ok {
		o := &ed25519.Options{}
		if digested {
			if len(data) != 64 {
				return false, fmt.Errorf("%w: Ed25519ph needs a 64-byte SHA-512 digest", ports.ErrInvalidInput)
			}
			o.Hash = crypto.SHA512
		}
		return ed25519.VerifyWithOptions(k, data, sig, o) == nil, nil
	}
	d, err := digestFor(s, data, digested)
	if err != nil {
		return false, err
	}
	switch k := pk.pub.(type) {
	case *rsa.PublicKey:
		if s.PSS {
			o, err := pssOptions(p, s.Hash, false)
			if err != nil {
				return false, err
			}
			return rsaVerified(rsa.VerifyPSS(k, s.Hash, d, sig, o))
		}
		return rsaVerified(rsa.VerifyPKCS1v15(k, s.Hash, d, sig))
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, d, sig), nil
	}
	return false, fmt.Errorf("%w: verifying with a %T key", ports.ErrUnsupported, pk.pub)
}

// rsaVerified turns an RSA verification error into a result: Go reports a
// bad signature as rsa.ErrVerification.
func rsaVerified(err error) (bool, error) {
	if err == nil {
		return true, nil
	}
	if errors.Is(err, rsa.ErrVerification) {
		return false, nil
	}
	return false, fmt.Errorf("%w: RSA verification: %v", ports.ErrInvalidInput, err)
}
