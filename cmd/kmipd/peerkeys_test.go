package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// selfSignedTLS is a TLS certificate for 127.0.0.1 over key, and a pool
// trusting it.
func selfSignedTLS(t *testing.T, key crypto.Signer) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "slugs"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestSLUGSClientRefusesWeakServerKeys: kmipd lifts Go's RSA minimum
// (main.go), so the HTTP client it asks SLUGS services with enforces the
// peer-certificate minimums itself: a 1024-bit RSA server certificate is
// refused, a P-256 one is not.
func TestSLUGSClientRefusesWeakServerKeys(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	strong, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, c := range map[string]struct {
		key    crypto.Signer
		refuse bool
	}{"rsa1024": {weak, true}, "p256": {strong, false}} {
		t.Run(name, func(t *testing.T) {
			cert, pool := selfSignedTLS(t, c.key)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			srv.StartTLS()
			defer srv.Close()
			cl := peerKeyHTTPClient(5 * time.Second)
			cl.Transport.(*http.Transport).TLSClientConfig.RootCAs = pool
			resp, err := cl.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
			switch {
			case c.refuse && (err == nil || !strings.Contains(err.Error(), "1024-bit RSA")):
				t.Errorf("weak SLUGS server: %v, want a refusal naming the key", err)
			case !c.refuse && err != nil:
				t.Errorf("strong SLUGS server refused: %v", err)
			}
		})
	}
}
