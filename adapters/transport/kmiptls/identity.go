package kmiptls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

var oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}

// Authenticator is kmipd's one authentication sequence for a client on a
// verified TLS connection, whatever carries its messages (TTLV on the KMIP
// port, HTTPS): client certificate → identity (Identity) → third-party
// authentication and groups (Authenticate). Both listeners call it; neither
// reimplements a step.
type Authenticator struct {
	// RequireClientAuthEKU demands the clientAuth extended key usage in
	// the client certificate (see Server.RequireClientAuthEKU).
	RequireClientAuthEKU bool
	// CRL, when set, refuses a chain holding a revoked certificate.
	CRL *CRL
	// ThirdParty, when set, is asked whether the client its certificate
	// identifies may be served and returns the principal to serve (with
	// groups); nil serves the certificate's identity without groups.
	// The request is the decoded message, whose header may carry
	// credentials (KMIP 1.4 §6.1).
	ThirdParty func(ctx context.Context, who domain.Principal, req *kmip.Item) (domain.Principal, error)
}

// ServerConfig returns a copy of base that allows TLS 1.2 or later only and
// checks the client's identity (Identity) during the handshake, so a refused
// client gets a TLS alert. It refuses a base that would let a client in
// without a certificate verified against ClientCAs.
func (a Authenticator) ServerConfig(base *tls.Config) (*tls.Config, error) {
	switch {
	case base == nil:
		return nil, errors.New("kmiptls: Server.TLSConfig is nil")
	case base.ClientAuth != tls.RequireAndVerifyClientCert:
		return nil, errors.New("kmiptls: Server.TLSConfig.ClientAuth must be tls.RequireAndVerifyClientCert")
	case base.ClientCAs == nil:
		// A nil pool would verify client certificates against the
		// system roots.
		return nil, errors.New("kmiptls: Server.TLSConfig.ClientCAs is nil")
	case base.GetConfigForClient != nil:
		// Its configurations would bypass the checks added here.
		return nil, errors.New("kmiptls: Server.TLSConfig.GetConfigForClient is not supported")
	case base.MaxVersion != 0 && base.MaxVersion < tls.VersionTLS12:
		return nil, errors.New("kmiptls: Server.TLSConfig.MaxVersion is below TLS 1.2")
	}
	cfg := base.Clone()
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
	next := cfg.VerifyConnection
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if next != nil {
			if err := next(cs); err != nil {
				return err
			}
		}
		if err := CheckPeerKeys(cs.VerifiedChains); err != nil {
			return fmt.Errorf("client certificate refused: %w", err)
		}
		_, err := a.Identity(cs)
		return err
	}
	return cfg, nil
}

// Identity derives the client's principal from the leaf of its verified
// certificate chain (restored from the session on resumption): the one
// subject common name, not a CA certificate, if RequireClientAuthEKU the
// clientAuth usage, and no certificate of the chain revoked by the CRL.
func (a Authenticator) Identity(cs tls.ConnectionState) (domain.Principal, error) {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return domain.Principal{}, errors.New("no verified client certificate")
	}
	leaf := cs.VerifiedChains[0][0]
	var cns []string
	for _, n := range leaf.Subject.Names {
		if n.Type.Equal(oidCommonName) {
			v, _ := n.Value.(string)
			cns = append(cns, v)
		}
	}
	switch {
	case len(cns) == 0 || cns[0] == "":
		return domain.Principal{}, errors.New("client certificate has no subject common name")
	case len(cns) > 1:
		return domain.Principal{}, errors.New("client certificate has several subject common names")
	}
	if leaf.IsCA {
		// A CA certificate identifies an issuer, not a client: whoever
		// holds an intermediate CA's key could otherwise log in as it.
		return domain.Principal{}, fmt.Errorf("client certificate %q is a CA certificate (CA:TRUE)", cns[0])
	}
	if a.RequireClientAuthEKU && !hasClientAuth(leaf) {
		return domain.Principal{}, fmt.Errorf("client certificate %q lacks the clientAuth extended key usage", cns[0])
	}
	if err := a.Revoked(cs); err != nil {
		return domain.Principal{}, err
	}
	return domain.Principal{Name: cns[0]}, nil
}

// Revoked returns the CRL's verdict on every verified chain of cs (nil
// without a CRL).
func (a Authenticator) Revoked(cs tls.ConnectionState) error {
	if a.CRL == nil {
		return nil
	}
	for _, chain := range cs.VerifiedChains {
		if err := a.CRL.Check(chain); err != nil {
			return err
		}
	}
	return nil
}

// Authenticate runs third-party authentication for one request of who (the
// principal Identity returned) and returns ctx carrying the principal the
// request runs as (ports.WithPeer). An error refuses the request.
func (a Authenticator) Authenticate(ctx context.Context, who domain.Principal, req *kmip.Item) (context.Context, error) {
	if a.ThirdParty == nil {
		return ports.WithPeer(ctx, who), nil
	}
	p, err := a.ThirdParty(ctx, who, req)
	if err != nil {
		return ctx, err
	}
	return ports.WithPeer(ctx, p), nil
}

func hasClientAuth(c *x509.Certificate) bool {
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageClientAuth {
			return true
		}
	}
	return false
}
