package software

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/adapters/crypto/software/internal/keywrap"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// WrapKey wraps target.Material (KMIP 1.4 §2.1.5, Encrypt wrapping):
//
//   - with a symmetric key (AES, or any 128-bit block cipher): Block Cipher
//     Mode NISTKeyWrap (RFC 3394, the default) or AESKeyWrapPadding (RFC
//     5649);
//   - with an RSA public key (or the public half of a private one): OAEP
//     (the default; hash SHA-1 unless given) or PKCS#1 v1.5.
func (e *Engine) WrapKey(ctx context.Context, wrapping ports.KeyHandle, p ports.CryptoParams, target ports.KeyHandle) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(target.Material) == 0 {
		return nil, fmt.Errorf("%w: key %q to wrap has no material", ports.ErrInvalidInput, target.ID)
	}
	alg, err := kmipparams.OperationAlgorithm(wrapping, p, chachaFamily)
	if err != nil {
		return nil, err
	}
	if alg == kmip.CryptographicAlgorithmRSA {
		return rsaEncrypt(wrapping, kmipparams.RSAWrapParams(p), target.Material)
	}
	b, err := keyWrapBlock(alg, wrapping)
	if err != nil {
		return nil, err
	}
	var out []byte
	switch kmip.BlockCipherMode(p.BlockCipherMode) {
	case kmip.BlockCipherModeNISTKeyWrap, 0:
		out, err = keywrap.Wrap(b, target.Material)
	case kmip.BlockCipherModeAESKeyWrapPadding:
		out, err = keywrap.WrapPad(b, target.Material)
	default:
		return nil, fmt.Errorf("%w: key wrapping with block cipher mode %s", ports.ErrUnsupported, kmip.BlockCipherMode(p.BlockCipherMode))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ports.ErrInvalidInput, err)
	}
	return out, nil
}

// UnwrapKey reverses WrapKey; an integrity failure (wrong key, tampered
// data) is ErrCryptoFailure.
func (e *Engine) UnwrapKey(ctx context.Context, wrapping ports.KeyHandle, p ports.CryptoParams, wrapped []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	alg, err := kmipparams.OperationAlgorithm(wrapping, p, chachaFamily)
	if err != nil {
		return nil, err
	}
	if alg == kmip.CryptographicAlgorithmRSA {
		return rsaDecrypt(wrapping, kmipparams.RSAWrapParams(p), wrapped)
	}
	b, err := keyWrapBlock(alg, wrapping)
	if err != nil {
		return nil, err
	}
	var out []byte
	switch kmip.BlockCipherMode(p.BlockCipherMode) {
	case kmip.BlockCipherModeNISTKeyWrap, 0:
		out, err = keywrap.Unwrap(b, wrapped)
	case kmip.BlockCipherModeAESKeyWrapPadding:
		out, err = keywrap.UnwrapPad(b, wrapped)
	default:
		return nil, fmt.Errorf("%w: key unwrapping with block cipher mode %s", ports.ErrUnsupported, kmip.BlockCipherMode(p.BlockCipherMode))
	}
	switch {
	case errors.Is(err, keywrap.ErrIntegrity):
		return nil, fmt.Errorf("%w: key unwrap integrity check", ports.ErrCryptoFailure)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ports.ErrInvalidInput, err)
	}
	return out, nil
}

// keyWrapBlock is the wrapping key's block cipher for AES Key Wrap, which
// needs a 128-bit block (RFC 3394 §2): 64-bit ciphers are ErrUnsupported.
func keyWrapBlock(alg kmip.CryptographicAlgorithm, wrapping ports.KeyHandle) (cipher.Block, error) {
	b, err := newBlock(alg, wrapping.Material)
	if err != nil {
		return nil, err
	}
	if b.BlockSize() != 16 {
		return nil, fmt.Errorf("%w: key wrapping with %s (AES Key Wrap needs a 128-bit block cipher)", ports.ErrUnsupported, alg)
	}
	return b, nil
}
