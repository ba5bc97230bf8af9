// Package reload tests what kill -HUP does to a running kmipd: the log file
// reopened (logrotate), the server certificate read again for new
// connections while open ones go on, and a bad new certificate ignored.
package reload

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

func hup(t *testing.T, srv *harness.Server) {
	t.Helper()
	if err := syscall.Kill(srv.PID(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond for up to 5 s (the reload runs in its own goroutine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// serverSerial is the serial number of the certificate a new connection gets.
func serverSerial(t *testing.T, srv *harness.Server) string {
	t.Helper()
	return serialAt(t, srv, srv.Addr)
}

// serialAt is serverSerial for the listener at addr (the KMIP or HTTPS port).
func serialAt(t *testing.T, srv *harness.Server, addr string) string {
	t.Helper()
	cfg := srv.ClientTLSConfig(t, "alice").Clone()
	cfg.NextProtos = []string{"http/1.1"}
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("new connection: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func create(t *testing.T, c *kmipclient.Client) {
	t.Helper()
	harness.Call(t, c, kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "")...)
}

// TestSIGHUPReopensLog: after logrotate's rename, SIGHUP makes kmipd write
// to a new file at log_path; the server keeps serving.
func TestSIGHUPReopensLog(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	c := srv.Dial(t, "alice", 1, 4)
	create(t, c)
	rotated := srv.LogPath + ".1"
	if err := os.Rename(srv.LogPath, rotated); err != nil {
		t.Fatal(err)
	}
	hup(t, srv)
	waitFor(t, "a new log file", func() bool { _, err := os.Stat(srv.LogPath); return err == nil })
	create(t, c)
	waitFor(t, "a request logged in the new file", func() bool {
		b, _ := os.ReadFile(srv.LogPath)
		return strings.Contains(string(b), `"reload":"tls"`) && strings.Contains(string(b), "Create")
	})
	old, _ := os.ReadFile(rotated)
	if strings.Contains(string(old), `"reload":`) {
		t.Errorf("lines after SIGHUP went to the rotated file:\n%s", old)
	}
}

// TestSIGHUPReloadsCertificate: a renewed server certificate is served to
// new connections of the KMIP and HTTPS ports after SIGHUP, an open connection keeps working, and a
// broken certificate file is refused with the old one kept.
func TestSIGHUPReloadsCertificate(t *testing.T) {
	srv := harness.Start(t, harness.Options{HTTPS: true})
	open := srv.Dial(t, "alice", 1, 4)
	before := serverSerial(t, srv)
	cert, key, err := kmiptls.IssueCert(srv.PKI.DevPKI, t.TempDir(), "renewed", kmiptls.CertOptions{
		CommonName: "renewed", DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, cert, srv.PKI.ServerCertFile)
	copyFile(t, key, srv.PKI.ServerKeyFile)
	if got := serverSerial(t, srv); got != before {
		t.Fatal("the certificate changed before SIGHUP")
	}
	hup(t, srv)
	var renewed string
	waitFor(t, "the renewed certificate", func() bool { renewed = serverSerial(t, srv); return renewed != before })
	if got := serialAt(t, srv, srv.HTTPSAddr); got != renewed {
		t.Errorf("the HTTPS listener serves serial %s after SIGHUP, want the renewed %s", got, renewed)
	}
	create(t, open) // the connection opened before the reload goes on

	os.WriteFile(srv.PKI.ServerCertFile, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), 0o600)
	hup(t, srv)
	waitFor(t, "the failed reload in the log", func() bool {
		return strings.Contains(srv.LogContents(t), "reload failed")
	})
	if got := serverSerial(t, srv); got != renewed {
		t.Errorf("after a bad certificate file: serial %s, want the one in force, %s", got, renewed)
	}
	create(t, srv.Dial(t, "bob", 1, 4))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(to), ".tmp-"+filepath.Base(to))
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}
