package postgres_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kmipd/kmipd/adapters/storage/postgres"
	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// testCA is a CA that issues one server certificate for localhost.
type testCA struct {
	certPEM, serverCertPEM, serverKeyPEM []byte
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pgtest CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(srvKey)
	return testCA{
		certPEM:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		serverCertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		serverKeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// TLS to the database (storage.sslmode, storage.sslrootcert): with
// verify-full and the server's CA the store connects over TLS; with another
// CA it refuses the server and reports it unavailable.
func TestTLSToDatabase(t *testing.T) {
	ca := newTestCA(t)
	c := pgtest.StartT(t, pgtest.Options{TCP: true, TLSCertPEM: ca.serverCertPEM, TLSKeyPEM: ca.serverKeyPEM})
	ctx := context.Background()
	if _, err := c.CreateDatabase(ctx, "kmip"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile, otherCAFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "other-ca.pem")
	os.WriteFile(caFile, ca.certPEM, 0o600)
	os.WriteFile(otherCAFile, newTestCA(t).certPEM, 0o600)
	url := "postgres://" + pgtest.Superuser + "@localhost:" + strconv.Itoa(c.Port) + "/kmip?sslmode=disable"

	opt := postgres.Options{SSLMode: "verify-full", SSLRootCert: caFile}
	s := openDSN(t, url, opt)
	if err := s.Create(ctx, storetest.Sample("over-tls")); err != nil {
		t.Fatal(err)
	}
	cfg, err := postgres.ParseConfig(url, opt)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ssl bool
	if err := conn.QueryRow(ctx, `SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&ssl); err != nil || !ssl {
		t.Fatalf("connection with sslmode verify-full is not TLS (ssl=%v, %v)", ssl, err)
	}

	bad, err := postgres.Open(ctx, url, postgres.Options{SSLMode: "verify-full", SSLRootCert: otherCAFile})
	if err == nil {
		bad.Close()
		t.Fatal("the store trusted a server whose certificate another CA issued")
	}
	if !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("Open with the wrong CA: %v, want ErrUnavailable", err)
	}
}
