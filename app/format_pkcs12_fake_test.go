package app

import (
	"context"
	"crypto"
	"crypto/x509"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// EncodePKCS12 lets the fake engine build real PFX files (the test decodes
// them), for PKCS#1 and PKCS#8 private keys.
func (fakeCrypto) EncodePKCS12(_ context.Context, key ports.KeyHandle, chain [][]byte, password string) ([]byte, error) {
	var priv crypto.PrivateKey
	var err error
	if kmip.KeyFormatType(key.Format) == kmip.KeyFormatTypePKCS_1 {
		priv, err = x509.ParsePKCS1PrivateKey(key.Material)
	} else {
		priv, err = x509.ParsePKCS8PrivateKey(key.Material)
	}
	if err != nil {
		return nil, ports.ErrInvalidInput
	}
	var certs []*x509.Certificate
	for _, der := range chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, ports.ErrInvalidInput
		}
		certs = append(certs, c)
	}
	return pkcs12.Modern.Encode(priv, certs[0], certs[1:], password)
}
