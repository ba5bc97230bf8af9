package app

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Why the configured CA cannot issue now: its certificate (ErrCACertificate)
// or its key (ErrCAKey). Clients see General Failure; the log says which.
var (
	ErrCACertificate = fmt.Errorf("%w: its certificate", errCANotUsable)
	ErrCAKey         = fmt.Errorf("%w: its key", errCANotUsable)
	errCANotUsable   = errors.New("the configured CA cannot issue")
)

// configured reports whether ca names both a certificate and a key.
func (ca *CA) configured() bool {
	return ca != nil && (ca.Certificate != nil || ca.CertificateID != "") && (ca.Signer != nil || ca.KeyID != "")
}

// CheckCA reports whether the configured CA can issue: its certificate (a
// file's, or the Certificate object CertificateID) is a CA certificate and
// its key (a file's, or the Private Key object KeyID, which must be Active)
// is there for the crypto engine to sign with, and signs for that
// certificate. kmipd checks it at startup.
func (s *Service) CheckCA(ctx context.Context) error {
	cert, signer, err := s.caFor(ctx)
	if err != nil {
		return err
	}
	if !cert.IsCA || cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return fmt.Errorf("%w: %q is not a CA certificate that may sign certificates", ErrCACertificate, cert.Subject)
	}
	// x509 checks the signature of what it creates against the issuer's
	// public key: a key that is not the certificate's fails here.
	probe := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: cert.NotBefore, NotAfter: cert.NotAfter}
	if _, err := x509.CreateCertificate(rand.Reader, probe, cert, cert.PublicKey, signer); err != nil {
		return fmt.Errorf("%w: it cannot sign for the CA certificate %q: %w", ErrCAKey, cert.Subject, err)
	}
	return nil
}

// caFor returns the CA certificate and a signer for its key as they are now.
func (s *Service) caFor(ctx context.Context) (*x509.Certificate, crypto.Signer, error) {
	ca := s.cfg.CA
	cert, err := s.caCertificate(ctx)
	if err != nil {
		return nil, nil, err
	}
	if ca.Signer != nil {
		return cert, ca.Signer, nil
	}
	signer, err := s.engineSigner(ctx, ca.KeyID, cert.PublicKey)
	return cert, signer, err
}

// caCertificate returns the configured CA's certificate as it is now: the
// configured file's, or the Certificate object CertificateID.
func (s *Service) caCertificate(ctx context.Context) (*x509.Certificate, error) {
	ca := s.cfg.CA
	if ca.Certificate != nil {
		return ca.Certificate, nil
	}
	obj, err := s.cfg.Store.Get(ctx, ca.CertificateID)
	if err != nil {
		return nil, fmt.Errorf("%w: CA certificate object %s: %w", ErrCACertificate, ca.CertificateID, err)
	}
	der, _ := obj.Payload.Child(kmip.TagCertificateValue).AsBytes()
	if obj.Type != uint32(kmip.ObjectTypeCertificate) || der == nil {
		return nil, fmt.Errorf("%w: object %s is not a certificate", ErrCACertificate, ca.CertificateID)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: object %s is not an X.509 certificate", ErrCACertificate, ca.CertificateID)
	}
	return cert, nil
}

// engineSigner returns a signer for the Private Key object id through the
// crypto engine, so that a CA key kept in an HSM signs there; the key must
// be Active.
func (s *Service) engineSigner(ctx context.Context, id string, pub crypto.PublicKey) (crypto.Signer, error) {
	obj, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%w: CA key object %s: %w", ErrCAKey, id, err)
	}
	if obj.Type != uint32(kmip.ObjectTypePrivateKey) || obj.State != domain.Active {
		return nil, fmt.Errorf("%w: object %s is not an Active private key", ErrCAKey, id)
	}
	h, err := keyHandle(obj)
	if err == nil && h.Material == nil && h.Ref != "" {
		if _, ok := s.keeper(); !ok {
			err = errNotKept
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: CA key object %s: %w", ErrCAKey, id, err)
	}
	eng, ok := s.cfg.Crypto.(ports.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: the crypto engine cannot sign", ErrCAKey)
	}
	return &engineCASigner{ctx: ctx, eng: eng, key: h, pub: pub}, nil
}

// engineCASigner is a crypto.Signer whose key the crypto engine holds.
type engineCASigner struct {
	ctx context.Context
	eng ports.Signer
	key ports.KeyHandle
	pub crypto.PublicKey
}

func (e *engineCASigner) Public() crypto.PublicKey { return e.pub }

// hashAlgorithms maps the hashes x509 signs certificates with to KMIP's.
var hashAlgorithms = map[crypto.Hash]kmip.HashingAlgorithm{
	crypto.SHA256: kmip.HashingAlgorithmSHA_256, crypto.SHA384: kmip.HashingAlgorithmSHA_384,
	crypto.SHA512: kmip.HashingAlgorithmSHA_512,
}

// Sign signs digest (or, for Ed25519, the message) as x509 asks.
func (e *engineCASigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	var p ports.CryptoParams
	digested := opts.HashFunc() != 0
	if digested {
		h, ok := hashAlgorithms[opts.HashFunc()]
		if !ok {
			return nil, fmt.Errorf("%w: hash %s", ports.ErrUnsupported, opts.HashFunc())
		}
		p.HashingAlgorithm = uint32(h)
	}
	switch e.pub.(type) {
	case *rsa.PublicKey:
		p.CryptographicAlgorithm = uint32(kmip.CryptographicAlgorithmRSA)
		p.PaddingMethod = uint32(kmip.PaddingMethodPKCS1V1_5)
		if _, pss := opts.(*rsa.PSSOptions); pss {
			p.PaddingMethod = uint32(kmip.PaddingMethodPSS)
		}
	}
	return e.eng.Sign(e.ctx, e.key, p, digest, digested)
}
