package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/kmipd/kmipd/app"
)

// CAConfig is the [ca] table: the certificate authority Certify and
// Re-certify issue with. Without it kmipd offers neither operation.
type CAConfig struct {
	// CertificatePath is a PEM file holding the CA certificate (its first
	// certificate); CertificateID instead names a Certificate object
	// already in kmipd. One of them is required.
	CertificatePath string `toml:"certificate_path"`
	CertificateID   string `toml:"certificate_id"`
	// KeyPath is a PEM file holding the CA's private key (PKCS#8, PKCS#1
	// or SEC 1, unencrypted); KeyID instead names an Active Private Key
	// object in kmipd, which signs through the crypto engine (an HSM key
	// too). One of them is required.
	KeyPath string `toml:"key_path"`
	KeyID   string `toml:"key_id"`
	// Validity is how long an issued certificate is valid (default 8760h,
	// one year), never beyond the CA certificate.
	Validity duration `toml:"validity"`
}

// set reports whether the [ca] table configures a CA at all.
func (c *CAConfig) set() bool {
	return c.CertificatePath != "" || c.CertificateID != "" || c.KeyPath != "" || c.KeyID != ""
}

// check validates the [ca] table: either nothing, or one certificate and
// one key, and a positive validity.
func (c *CAConfig) check() error {
	if !c.set() {
		if c.Validity != 0 {
			return keyErr("ca.validity", "needs a CA: set ca.certificate_path or ca.certificate_id, and ca.key_path or ca.key_id")
		}
		return nil
	}
	switch {
	case c.CertificatePath != "" && c.CertificateID != "":
		return keyErr("ca.certificate_id", "set ca.certificate_path or ca.certificate_id, not both")
	case c.CertificatePath == "" && c.CertificateID == "":
		return keyErr("ca.certificate_path", "required with a CA key (or ca.certificate_id)")
	case c.KeyPath != "" && c.KeyID != "":
		return keyErr("ca.key_id", "set ca.key_path or ca.key_id, not both")
	case c.KeyPath == "" && c.KeyID == "":
		return keyErr("ca.key_path", "required with a CA certificate (or ca.key_id)")
	case c.Validity < 0:
		return keyErr("ca.validity", "%s is not a positive duration", time.Duration(c.Validity))
	}
	if c.Validity == 0 {
		c.Validity = duration(app.DefaultCAValidity)
	}
	return nil
}

// load reads the CA's files; nil when no CA is configured. A key file is
// never quoted in an error.
func (c *CAConfig) load() (*app.CA, error) {
	if !c.set() {
		return nil, nil
	}
	ca := &app.CA{KeyID: c.KeyID, CertificateID: c.CertificateID, Validity: time.Duration(c.Validity)}
	if c.CertificatePath != "" {
		cert, err := readCertFile(c.CertificatePath)
		if err != nil {
			return nil, &ConfigError{Key: "ca.certificate_path", Value: c.CertificatePath, Err: err}
		}
		ca.Certificate = cert
	}
	if c.KeyPath != "" {
		key, err := readKeyFile(c.KeyPath)
		if err != nil {
			return nil, &ConfigError{Key: "ca.key_path", Value: c.KeyPath, Err: err}
		}
		ca.Signer = key
	}
	return ca, nil
}

// checkCA asks the service whether the configured CA can issue (its
// objects present, the key the certificate's), naming the key at fault.
func checkCA(ctx context.Context, c *CAConfig, svc *app.Service) error {
	err := svc.CheckCA(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, app.ErrCAKey) && c.KeyID != "":
		return &ConfigError{Key: "ca.key_id", Value: c.KeyID, Err: err}
	case errors.Is(err, app.ErrCAKey):
		return &ConfigError{Key: "ca.key_path", Value: c.KeyPath, Err: err}
	case c.CertificateID != "":
		return &ConfigError{Key: "ca.certificate_id", Value: c.CertificateID, Err: err}
	}
	return &ConfigError{Key: "ca.certificate_path", Value: c.CertificatePath, Err: err}
}

// readCertFile reads the first certificate of a PEM file.
func readCertFile(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			return nil, errors.New("no PEM CERTIFICATE in the file")
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
}

// readKeyFile reads the first private key of a PEM file.
func readKeyFile(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			return nil, errors.New("no unencrypted PEM private key in the file")
		}
		var key any
		switch blk.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(blk.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("the %s does not parse", blk.Type)
		}
		switch k := key.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return k.(crypto.Signer), nil
		}
		return nil, fmt.Errorf("a %T cannot sign certificates", key)
	}
}
