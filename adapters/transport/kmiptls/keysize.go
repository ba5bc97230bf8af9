package kmiptls

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// Minimum key sizes of a peer's certificates. kmipd lifts Go's own RSA
// minimum (1024 bits) so that its crypto engine can serve the legacy
// RSA-512 keys KMIP 1.x clients ask for; its TLS sets these explicit
// minimums instead, higher than Go's.
const (
	MinPeerRSABits = 2048
	MinPeerECBits  = 256
)

// CheckPeerKeys accepts verified certificate chains when at least one of
// them holds only keys of at least the minimum sizes (RSA MinPeerRSABits, EC
// MinPeerECBits, Ed25519); otherwise the error names the weak certificate
// and its key.
func CheckPeerKeys(chains [][]*x509.Certificate) error {
	if len(chains) == 0 {
		return errors.New("no verified certificate chain")
	}
	var first error
	for _, chain := range chains {
		err := checkChainKeys(chain)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func checkChainKeys(chain []*x509.Certificate) error {
	for _, cert := range chain {
		if err := checkKeySize(cert.PublicKey); err != nil {
			return fmt.Errorf("certificate %q: %w", cert.Subject.CommonName, err)
		}
	}
	return nil
}

func checkKeySize(pub any) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < MinPeerRSABits {
			return fmt.Errorf("%d-bit RSA key (at least %d bits required)", n, MinPeerRSABits)
		}
	case *ecdsa.PublicKey:
		if n := k.Curve.Params().BitSize; n < MinPeerECBits {
			return fmt.Errorf("%d-bit EC key (at least %d bits required)", n, MinPeerECBits)
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("%T keys are not accepted", pub)
	}
	return nil
}

// VerifyPeerKeys is a tls.Config VerifyConnection hook applying
// CheckPeerKeys to the chains the handshake verified.
func VerifyPeerKeys(cs tls.ConnectionState) error {
	return CheckPeerKeys(cs.VerifiedChains)
}
