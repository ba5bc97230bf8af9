package software

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/ports"
)

// rsaPadding is the RSA encryption padding: PKCS#1 v1.5, or OAEP with its
// hash (default SHA-1, as RFC 8017 defines), MGF1 hash (default the same)
// and label (P Source).
type rsaPadding struct {
	oaep bool
	opts rsa.OAEPOptions
}

// rsaPaddingFor reads the padding with kmipparams.RSAPadding.
func rsaPaddingFor(p ports.CryptoParams) (rsaPadding, error) {
	oaep, h, mgf, err := kmipparams.RSAPadding(p, kmipparams.GoHash)
	if err != nil || !oaep {
		return rsaPadding{}, err
	}
	return rsaPadding{oaep: true, opts: rsa.OAEPOptions{Hash: h, MGFHash: mgf, Label: p.PSource}}, nil
}

func rsaPublic(key ports.KeyHandle) (*rsa.PublicKey, error) {
	pk, err := parseKey(key)
	if err != nil {
		return nil, err
	}
	pub, ok := pk.pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: key %q is not an RSA key", ports.ErrInvalidInput, key.ID)
	}
	return pub, nil
}

func rsaPrivate(key ports.KeyHandle) (*rsa.PrivateKey, error) {
	s, err := privateKey(key)
	if err != nil {
		return nil, err
	}
	priv, ok := s.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: key %q is not an RSA key", ports.ErrInvalidInput, key.ID)
	}
	return priv, nil
}

// rsaEncrypt encrypts with the public key (of a public or private key handle).
func rsaEncrypt(key ports.KeyHandle, p ports.CryptoParams, data []byte) ([]byte, error) {
	pad, err := rsaPaddingFor(p)
	if err != nil {
		return nil, err
	}
	pub, err := rsaPublic(key)
	if err != nil {
		return nil, err
	}
	var out []byte
	if pad.oaep {
		out, err = rsa.EncryptOAEPWithOptions(rand.Reader, pub, data, &pad.opts)
	} else {
		//lint:ignore SA1019 KMIP Padding Method PKCS1 v1.5 (1.4 §9.1.3.2.15) is a client's choice for RSA Encrypt and Decrypt, kept for interoperability
		out, err = rsa.EncryptPKCS1v15(rand.Reader, pub, data)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: RSA encryption: %v", ports.ErrInvalidInput, err)
	}
	return out, nil
}

// rsaDecrypt decrypts with the private key; a padding check failing is
// ErrCryptoFailure, as for any integrity check.
func rsaDecrypt(key ports.KeyHandle, p ports.CryptoParams, data []byte) ([]byte, error) {
	pad, err := rsaPaddingFor(p)
	if err != nil {
		return nil, err
	}
	priv, err := rsaPrivate(key)
	if err != nil {
		return nil, err
	}
	if len(data) != priv.Size() {
		return nil, fmt.Errorf("%w: RSA ciphertext of %d bytes (want %d)", ports.ErrInvalidInput, len(data), priv.Size())
	}
	var out []byte
	if pad.oaep {
		out, err = priv.Decrypt(nil, data, &pad.opts)
	} else {
		//lint:ignore SA1019 KMIP Padding Method PKCS1 v1.5 (1.4 §9.1.3.2.15) is a client's choice for RSA Encrypt and Decrypt, kept for interoperability; a failed check is a generic Cryptographic Failure
		out, err = rsa.DecryptPKCS1v15(nil, priv, data)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: RSA decryption failed", ports.ErrCryptoFailure)
	}
	return out, nil
}
