package kmiptls

import (
	"crypto/x509"
	"testing"
)

// TestAnyEKUIsNotClientAuth: with RequireClientAuthEKU (pykmip-server's
// enable_tls_client_auth) the certificate must be marked for client
// authentication itself; anyExtendedKeyUsage does not count, as in PyKMIP,
// which looks for the clientAuth OID. Without the requirement it is served.
func TestAnyEKUIsNotClientAuth(t *testing.T) {
	cert, key, err := IssueCert(pki(t), t.TempDir(), "anyeku", CertOptions{
		CommonName: "anyeku", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("on", func(t *testing.T) {
		ts := startServer(t, nil, func(s *Server) { s.RequireClientAuthEKU = true })
		assertRefused(t, ts, clientConfig(t, cert, key))
	})
	t.Run("off", func(t *testing.T) {
		ts := startServer(t, nil, nil)
		c, err := dial(t, ts.addr, clientConfig(t, cert, key))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := roundTrip(c, testRequest); err != nil {
			t.Fatal(err)
		}
	})
}
