package software

import (
	"context"
	"crypto/x509"
	"fmt"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/kmipd/kmipd/ports"
)

var _ ports.PKCS12Encoder = (*Engine)(nil)

// EncodePKCS12 encodes key and chain as a PFX with go-pkcs12's modern
// profile: AES-256-CBC keyed by PBKDF2, integrity by HMAC-SHA-256.
func (e *Engine) EncodePKCS12(ctx context.Context, key ports.KeyHandle, chain [][]byte, password string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: PKCS#12 needs the key's certificate", ports.ErrInvalidInput)
	}
	priv, err := privateKey(key)
	if err != nil {
		return nil, err
	}
	certs := make([]*x509.Certificate, len(chain))
	for i, der := range chain {
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("%w: certificate %d of the chain is not X.509", ports.ErrInvalidInput, i)
		}
	}
	pfx, err := pkcs12.Modern.Encode(priv, certs[0], certs[1:], password)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS#12 encoding: %v", ports.ErrUnsupported, err)
	}
	return pfx, nil
}
