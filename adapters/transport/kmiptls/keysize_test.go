//go:debug rsa1024min=0

package kmiptls

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// This test binary runs as kmipd does (rsa1024min=0, cmd/kmipd/main.go):
// Go itself would accept RSA keys under 1024 bits, so only the explicit
// minimums of keysize.go keep weak client certificates out.

// issueWithKey signs a clientAuth certificate for cn over key's public half
// with the test PKI's CA and writes it with its key under dir.
func issueWithKey(t *testing.T, dir, cn string, key crypto.Signer) (certPath, keyPath string) {
	t.Helper()
	ca, caKey, err := loadCA(pki(t))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, cn+".pem"), filepath.Join(dir, cn+".key")
	if err := writeCertAndKey(certPath, keyPath, der, key); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

func rsaKey(t *testing.T, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestWeakClientKeysRefused: a client certificate with an RSA key under
// 2048 bits or an EC key under 256 bits is refused at the handshake, while
// RSA-2048, P-256 and Ed25519 certificates are served.
func TestWeakClientKeysRefused(t *testing.T) {
	dir := t.TempDir()
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ts := startServer(t, nil, nil)
	for name, key := range map[string]crypto.Signer{
		"rsa512": rsaKey(t, 512), "rsa1024": rsaKey(t, 1024), "p224": ecKey(t, elliptic.P224()),
	} {
		t.Run(name, func(t *testing.T) {
			cert, k := issueWithKey(t, dir, name, key)
			assertRefused(t, ts, clientConfig(t, cert, k))
		})
	}
	for name, key := range map[string]crypto.Signer{
		"rsa2048": rsaKey(t, 2048), "p256": ecKey(t, elliptic.P256()), "ed25519": ed,
	} {
		t.Run(name, func(t *testing.T) {
			cert, k := issueWithKey(t, dir, name, key)
			c, err := dial(t, ts.addr, clientConfig(t, cert, k))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := roundTrip(c, testRequest); err != nil {
				t.Fatalf("a %s client certificate was not served: %v", name, err)
			}
		})
	}
}

// TestCheckPeerKeys names the weak certificate, and accepts a set of chains
// when one of them is strong throughout.
func TestCheckPeerKeys(t *testing.T) {
	weak := &x509.Certificate{Subject: pkix.Name{CommonName: "weak"}, PublicKey: &rsaKey(t, 512).PublicKey}
	strong := &x509.Certificate{Subject: pkix.Name{CommonName: "strong"}, PublicKey: ecKey(t, elliptic.P384()).Public()}
	err := CheckPeerKeys([][]*x509.Certificate{{strong, weak}})
	if err == nil || !strings.Contains(err.Error(), `"weak"`) || !strings.Contains(err.Error(), "512-bit RSA") {
		t.Errorf("weak chain: %v", err)
	}
	if err := CheckPeerKeys([][]*x509.Certificate{{strong, weak}, {strong}}); err != nil {
		t.Errorf("a strong chain among others was refused: %v", err)
	}
	if CheckPeerKeys(nil) == nil {
		t.Error("no chain accepted")
	}
	if got := HandshakeCause(errorString("remote error: client certificate refused: x")); got != "client_refused" {
		t.Errorf("cause %q", got)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
