package kmiptls

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
)

// The default TLS 1.2 suites leave out CBC with SHA-1, which Go would offer;
// naming such a suite in tls_cipher_suites brings it back.
func TestDefaultSuitesRefuseSHA1CBC(t *testing.T) {
	for _, id := range DefaultCipherSuites {
		if name := tls.CipherSuiteName(id); strings.Contains(name, "_CBC_") || strings.HasSuffix(name, "_SHA") {
			t.Errorf("default suite %s is CBC or has a SHA-1 MAC", name)
		}
	}
	sha1CBC := func() *tls.Config {
		c := adminConfig(t)
		c.MaxVersion = tls.VersionTLS12
		c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
		return c
	}
	ts := startServer(t, nil, nil)
	if c, err := dial(t, ts.addr, sha1CBC()); err == nil {
		t.Errorf("TLS 1.2 handshake with ECDHE-ECDSA-AES128-SHA succeeded by default (suite %s)",
			tls.CipherSuiteName(c.ConnectionState().CipherSuite))
	}
	aead := adminConfig(t)
	aead.MaxVersion = tls.VersionTLS12
	if c, err := dial(t, ts.addr, aead); err != nil {
		t.Fatalf("TLS 1.2 with the defaults: %v", err)
	} else if _, err := roundTrip(c, testRequest); err != nil {
		t.Fatal(err)
	}

	p := pki(t)
	cfg, _, err := NewTLSConfig(TLSOptions{CertFile: p.ServerCert, KeyFile: p.ServerKey, CAFile: p.CACert,
		CipherSuites: []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA"}})
	if err != nil {
		t.Fatal(err)
	}
	old := startServer(t, nil, func(s *Server) { s.TLSConfig = cfg })
	c, err := dial(t, old.addr, sha1CBC())
	if err != nil {
		t.Fatalf("explicitly configured ECDHE-ECDSA-AES128-SHA refused: %v", err)
	}
	if _, err := roundTrip(c, testRequest); err != nil {
		t.Fatal(err)
	}
}

// A certificate with CA:TRUE, even one the trusted CA signed with the
// clientAuth usage, does not authenticate a client.
func TestCACertificateIsNoClient(t *testing.T) {
	p := pki(t)
	dir := t.TempDir()
	caCert, caKey, err := IssueCert(p, dir, "sub-ca", CertOptions{CommonName: "mallory", IsCA: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	leafCert, leafKey, err := IssueCert(p, dir, "leaf", CertOptions{CommonName: "mallory",
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	for _, eku := range []bool{true, false} {
		ts := startServer(t, nil, func(s *Server) { s.RequireClientAuthEKU = eku })
		assertRefused(t, ts, clientConfig(t, caCert, caKey))
		c, err := dial(t, ts.addr, clientConfig(t, leafCert, leafKey))
		if err != nil {
			t.Fatalf("the same name in a leaf certificate: %v", err)
		}
		if _, err := roundTrip(c, testRequest); err != nil {
			t.Fatalf("the same name in a leaf certificate: %v", err)
		}
	}
}
