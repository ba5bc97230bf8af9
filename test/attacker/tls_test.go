package attacker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// clientConfig presents certFile/keyFile and trusts the server's CA.
func clientConfig(t *testing.T, srv *harness.Server, certFile, keyFile string) *tls.Config {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(srv.PKI.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: srv.Host, MinVersion: tls.VersionTLS12}
}

// served reports whether a client with cfg gets a Query answered.
func served(t *testing.T, srv *harness.Server, cfg *tls.Config) bool {
	t.Helper()
	c, err := kmipclient.Dial(context.Background(), srv.Addr, cfg)
	if err != nil {
		return false
	}
	defer c.Close()
	c.Major, c.Minor = 1, 4
	_, err = c.Call(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))
	return err == nil
}

// A CA certificate the trusted CA signed, with the clientAuth usage and
// alice's name, does not log in as alice.
func TestCACertificateCannotAuthenticate(t *testing.T) {
	tg := start(t, harness.Options{})
	dir := filepath.Join(tg.srv.Dir, "mallory")
	eku := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	caCert, caKey, err := kmiptls.IssueCert(tg.srv.PKI.DevPKI, dir, "sub-ca", kmiptls.CertOptions{CommonName: "alice", IsCA: true, ExtKeyUsage: eku})
	if err != nil {
		t.Fatal(err)
	}
	if served(t, tg.srv, clientConfig(t, tg.srv, caCert, caKey)) {
		t.Fatal("a CA:TRUE certificate named alice was served")
	}
	if !eventuallyLogged(t, tg.srv, "is a CA certificate (CA:TRUE)") {
		t.Errorf("the refusal is not logged:\n%s", tg.srv.LogContents(t))
	}
	leafCert, leafKey, err := kmiptls.IssueCert(tg.srv.PKI.DevPKI, dir, "leaf", kmiptls.CertOptions{CommonName: "carol", ExtKeyUsage: eku})
	if err != nil {
		t.Fatal(err)
	}
	if !served(t, tg.srv, clientConfig(t, tg.srv, leafCert, leafKey)) {
		t.Fatal("a leaf certificate of the same CA was refused")
	}
}

// setCRLPath rewrites the server's configuration with server.crl_path.
func setCRLPath(t *testing.T, srv *harness.Server, path string) {
	t.Helper()
	b, err := os.ReadFile(srv.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if i := strings.Index(text, "\ncrl_path = "); i >= 0 {
		end := strings.Index(text[i+1:], "\n")
		text = text[:i] + text[i+1+end:]
	}
	text = strings.Replace(text, "[server]\n", "[server]\ncrl_path = \""+path+"\"\n", 1)
	if err := os.WriteFile(srv.ConfigPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// server.crl_path: a missing or foreign CRL is a configuration error; a CRL
// written while kmipd serves revokes bob within the poll interval, on his
// open connection too, and leaves alice served; a bad new CRL keeps bob out.
func TestRevokedCertificateRefused(t *testing.T) {
	tg := start(t, harness.Options{})
	srv := tg.srv
	bobTLS := srv.ClientTLSConfig(t, "bob")
	bobCert := filepath.Join(srv.Dir, "clients", "bob", "client-bob.pem")
	if _, err := os.Stat(bobCert); err != nil {
		t.Fatalf("bob's certificate: %v", err)
	}
	srv.Stop(t)

	crlPath := filepath.Join(srv.Dir, "ca.crl")
	setCRLPath(t, srv, crlPath)
	r := harness.Run(t, srv.Dir, "-config", srv.ConfigPath)
	if r.ExitCode != 78 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "kmipd: server.crl_path \""+crlPath+"\"") {
		t.Errorf("missing CRL file: exit %d, stderr %q; want 78 and one line naming server.crl_path", r.ExitCode, r.Stderr)
	}
	other, err := kmiptls.GenerateDevPKI(filepath.Join(srv.Dir, "other-pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := kmiptls.WriteCRL(other, crlPath, time.Time{}); err != nil {
		t.Fatal(err)
	}
	r = harness.Run(t, srv.Dir, "-config", srv.ConfigPath)
	if r.ExitCode != 78 || !strings.Contains(r.Stderr, "server.crl_path") || !strings.Contains(r.Stderr, "not signed by a CA of ca_path") {
		t.Errorf("CRL of another CA: exit %d, stderr %q; want 78 naming server.crl_path", r.ExitCode, r.Stderr)
	}

	if err := kmiptls.WriteCRL(srv.PKI.DevPKI, crlPath, time.Time{}); err != nil {
		t.Fatal(err)
	}
	srv.Restart(t)
	alice := srv.Dial(t, "alice", 1, 4)
	bob := srv.Dial(t, "bob", 1, 4)
	key := createAES(t, alice, "shared", kmip.CryptographicUsageMaskEncrypt)
	harness.Call(t, bob, kmip.OperationGet, uid(key))

	if err := kmiptls.WriteCRL(srv.PKI.DevPKI, crlPath, time.Time{}, bobCert); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for served(t, srv, bobTLS) {
		if time.Now().After(deadline) {
			t.Fatal("bob still served 15s after his certificate was revoked")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := bob.Call(kmip.OperationGet, uid(key)); err == nil {
		t.Error("bob's connection opened before the revocation still served")
	}
	harness.Call(t, alice, kmip.OperationGet, uid(key))
	if log := srv.LogContents(t); !strings.Contains(log, "client certificate revoked") {
		t.Errorf("the revocation is not logged:\n%s", log)
	}

	if err := os.WriteFile(crlPath, []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(15 * time.Second)
	for !strings.Contains(srv.LogContents(t), "CRL file refused") {
		if time.Now().After(deadline) {
			t.Fatal("a bad CRL file is not reported within 15s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if served(t, srv, bobTLS) {
		t.Error("bob served again after the CRL file was replaced by a bad one")
	}
	harness.Call(t, alice, kmip.OperationGet, uid(key))
}
