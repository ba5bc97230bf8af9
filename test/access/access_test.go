// Package access tests kmipd's authentication and access control against the
// real binary (pykmip-server "Authentication", "Third-Party Integration",
// "Access Control"): identities from client certificates, the
// enable_tls_client_auth check, certificate-only operation without groups,
// and the refusal of clients no SLUGS service validates.
package access

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/auth/slugs/slugstest"
	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// dial connects as the holder of certFile/keyFile.
func dial(t *testing.T, srv *harness.Server, certFile, keyFile string) (*kmipclient.Client, error) {
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
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: srv.Host, MinVersion: tls.VersionTLS12}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := kmipclient.Dial(ctx, srv.Addr, cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}

// as connects with a certificate for cn carrying the clientAuth usage.
func as(t *testing.T, srv *harness.Server, cn string) *kmipclient.Client {
	t.Helper()
	c, err := kmipclient.Dial(context.Background(), srv.Addr, srv.ClientTLSConfig(t, cn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func issue(t *testing.T, srv *harness.Server, name string, o kmiptls.CertOptions) (string, string) {
	t.Helper()
	cert, key, err := kmiptls.IssueCert(srv.PKI.DevPKI, filepath.Join(srv.Dir, "certs"), name, o)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// create makes an AES key, under policy when not empty, and returns its id.
func create(t *testing.T, c *kmipclient.Client, policy string) string {
	t.Helper()
	payload := kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "")
	if policy != "" {
		payload[1].Add(kmipclient.Attribute("Operation Policy Name", kmip.Text(0, policy)))
	}
	out, err := c.Call(kmip.OperationCreate, payload...)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	return id
}

func get(c *kmipclient.Client, id string) error {
	_, err := c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id))
	return err
}

func reason(err error) kmip.ResultReason {
	var oe *kmipclient.OperationError
	if errors.As(err, &oe) {
		return oe.Reason
	}
	return 0
}

// works reports whether a client holding the certificate can complete a
// request (the server may refuse a TLS 1.3 client after its handshake, on
// the first read).
func works(t *testing.T, srv *harness.Server, cert, key string) bool {
	t.Helper()
	c, err := dial(t, srv, cert, key)
	if err != nil {
		return false
	}
	_, err = c.Call(kmip.OperationQuery)
	return err == nil
}

// TestIdentityFromCertificate: the identity is the certificate's one subject
// CN; a client whose identity cannot be derived is disconnected; with
// enable_tls_client_auth (the default) the certificate must carry the
// clientAuth extended key usage; objects belong to their creator.
func TestIdentityFromCertificate(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	good, goodKey := issue(t, srv, "good", kmiptls.CertOptions{CommonName: "alice", ExtKeyUsage: clientAuth})
	noEKU, noEKUKey := issue(t, srv, "noeku", kmiptls.CertOptions{CommonName: "alice"})
	noCN, noCNKey := issue(t, srv, "nocn", kmiptls.CertOptions{ExtKeyUsage: clientAuth, DNSNames: []string{"alice.example"}})
	twoCN, twoCNKey := issue(t, srv, "twocn", kmiptls.CertOptions{CommonName: "alice", ExtraCommonNames: []string{"bob"}, ExtKeyUsage: clientAuth})
	serverOnly, serverOnlyKey := issue(t, srv, "serveronly", kmiptls.CertOptions{CommonName: "alice", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})

	if !works(t, srv, good, goodKey) {
		t.Fatal("a certificate with a CN and the clientAuth usage was refused")
	}
	for name, c := range map[string][2]string{
		"no extended key usage":    {noEKU, noEKUKey},
		"no subject common name":   {noCN, noCNKey},
		"two subject common names": {twoCN, twoCNKey},
		"serverAuth usage only":    {serverOnly, serverOnlyKey},
	} {
		if works(t, srv, c[0], c[1]) {
			t.Errorf("%s: served, want disconnected", name)
		}
	}

	// Ownership: the CN "alice" owns what it creates, whichever of her
	// certificates she uses; bob may not touch it.
	alice, err := dial(t, srv, good, goodKey)
	if err != nil {
		t.Fatal(err)
	}
	id := create(t, alice, "")
	if err := get(as(t, srv, "alice"), id); err != nil {
		t.Errorf("alice with another certificate: %v", err)
	}
	if err := get(as(t, srv, "bob"), id); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("bob: %v, want Permission Denied", err)
	}
}

// TestClientAuthCheckDisabled: enable_tls_client_auth = false omits the
// extension check, so a certificate without extended key usage is served.
func TestClientAuthCheckDisabled(t *testing.T) {
	srv := harness.Start(t, harness.Options{ExtraServerTOML: "enable_tls_client_auth = false"})
	noEKU, noEKUKey := issue(t, srv, "noeku", kmiptls.CertOptions{CommonName: "alice"})
	if !works(t, srv, noEKU, noEKUKey) {
		t.Error("certificate without extended key usage refused with enable_tls_client_auth = false")
	}
	noCN, noCNKey := issue(t, srv, "nocn", kmiptls.CertOptions{DNSNames: []string{"x.example"}})
	if works(t, srv, noCN, noCNKey) {
		t.Error("a certificate without CN must still be refused: no identity")
	}
}

// TestCertificateOnlyHasNoGroups: with no SLUGS service enabled, clients have
// no group information, so preset rules apply and a groups-only policy
// allows nothing.
func TestCertificateOnlyHasNoGroups(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "p.json"), []byte(`{
		"groups_only": {"groups": {"g": {"SYMMETRIC_KEY": {"GET": "ALLOW_ALL", "LOCATE": "ALLOW_ALL"}}}},
		"preset_all": {"preset": {"SYMMETRIC_KEY": {"GET": "ALLOW_ALL"}}, "groups": {"g": {}}}
	}`), 0o600)
	srv := harness.Start(t, harness.Options{
		ExtraServerTOML: fmt.Sprintf("policy_path = %q", dir),
		ExtraTOML:       "[auth.slugs.off]\nenabled = false\nurl = \"http://127.0.0.1:1/\"\n",
	})
	alice, bob := as(t, srv, "alice"), as(t, srv, "bob")
	g := create(t, alice, "groups_only")
	if err := get(alice, g); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("groups-only policy without group information: %v, want Permission Denied even for the owner", err)
	}
	p := create(t, alice, "preset_all")
	if err := get(bob, p); err != nil {
		t.Errorf("preset Allow All: %v", err)
	}
	u := create(t, alice, "no_such_policy")
	if err := get(alice, u); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("unknown policy: %v, want Permission Denied", err)
	}
}

// TestUnvalidatedClientRefusedAndDisconnected: when no enabled SLUGS service
// validates the client, its request is answered Authentication Not
// Successful and the connection is closed.
func TestUnvalidatedClientRefusedAndDisconnected(t *testing.T) {
	svc := slugstest.New(map[string][]string{"alice": {"g"}})
	defer svc.Close()
	srv := harness.Start(t, harness.Options{ExtraTOML: fmt.Sprintf("[auth.slugs.main]\nenabled = true\nurl = %q\n", svc.URL)})
	mallory := as(t, srv, "mallory")
	_, err := mallory.Call(kmip.OperationQuery)
	if reason(err) != kmip.ResultReasonAuthenticationNotSuccessful {
		t.Fatalf("unknown user: %v, want Authentication Not Successful", err)
	}
	if _, err := mallory.Call(kmip.OperationQuery); err == nil || reason(err) != 0 {
		t.Errorf("the connection stayed open after the refusal: %v", err)
	}
	alice := as(t, srv, "alice")
	if _, err := alice.Call(kmip.OperationQuery); err != nil {
		t.Errorf("a SLUGS user was refused: %v", err)
	}
}

// TestRemovedSLUGSUserLosesAccessAtOnce: with the default configuration
// (no cache_ttl) kmipd asks SLUGS on every request, as the reference server
// does, so a user removed from SLUGS is refused on the very next request.
func TestRemovedSLUGSUserLosesAccessAtOnce(t *testing.T) {
	svc := slugstest.New(map[string][]string{"alice": {"g"}})
	defer svc.Close()
	srv := harness.Start(t, harness.Options{ExtraTOML: fmt.Sprintf("[auth.slugs.main]\nenabled = true\nurl = %q\n", svc.URL)})
	alice := as(t, srv, "alice")
	if _, err := alice.Call(kmip.OperationQuery); err != nil {
		t.Fatalf("a SLUGS user was refused: %v", err)
	}
	svc.RemoveUser("alice")
	if _, err := alice.Call(kmip.OperationQuery); reason(err) != kmip.ResultReasonAuthenticationNotSuccessful {
		t.Fatalf("a user removed from SLUGS: %v, want Authentication Not Successful at once", err)
	}
}
