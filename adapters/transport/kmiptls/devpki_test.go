package kmiptls

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
)

func TestGenerateDevPKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	p, err := GenerateDevPKI(dir, DevPKIOptions{Hosts: []string{"kmip.example", "10.1.2.3"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{p.CAKey, p.ServerKey, p.ClientKey} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
		b, _ := os.ReadFile(f)
		if !bytes.HasPrefix(b, []byte("-----BEGIN PRIVATE KEY-----")) {
			t.Errorf("%s is not a PKCS#8 PEM key", f)
		}
	}

	roots := x509.NewCertPool()
	caPEM, _ := os.ReadFile(p.CACert)
	roots.AppendCertsFromPEM(caPEM)
	leaf := func(path string) *x509.Certificate {
		b, _ := os.ReadFile(path)
		certs, err := parsePEMCerts(b)
		if err != nil {
			t.Fatal(err)
		}
		return certs[0]
	}
	srv := leaf(p.ServerCert)
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "kmip.example", "10.1.2.3"} {
		if _, err := srv.Verify(x509.VerifyOptions{DNSName: host, Roots: roots,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	cli := leaf(p.ClientCert)
	if _, err := cli.Verify(x509.VerifyOptions{Roots: roots,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if cli.Subject.CommonName != DevClientName {
		t.Errorf("client CN %q", cli.Subject.CommonName)
	}

	// A second call loads the set and rewrites nothing.
	before, _ := os.ReadFile(p.ServerKey)
	p2, err := GenerateDevPKI(dir, DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(p2.ServerKey)
	if p2 != p || !bytes.Equal(before, after) {
		t.Error("existing dev PKI was regenerated")
	}

	// A partial set is refused rather than overwritten.
	if err := os.Remove(p.ClientKey); err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateDevPKI(dir, DevPKIOptions{}); err == nil || !strings.Contains(err.Error(), "client-admin.key") {
		t.Errorf("partial set: err = %v", err)
	}
}

// Python's ssl module, which PyKMIP's client uses (ssl.wrap_socket, default
// protocol), loads the dev PKI files and talks to the server.
func TestPythonClientInterop(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skip("no", python)
	}
	ts := startServer(t, nil, nil)
	p := pki(t)
	req, err := ttlv.Encode(testRequest)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(ts.addr)
	script := `
import socket, ssl, struct, sys, warnings
warnings.simplefilter("ignore")
host, port, ca, cert, key, req = sys.argv[1:7]
s = ssl.wrap_socket(socket.create_connection((host, int(port)), timeout=20),
    keyfile=key, certfile=cert, cert_reqs=ssl.CERT_REQUIRED,
    ssl_version=ssl.PROTOCOL_SSLv23, ca_certs=ca)
s.sendall(bytes.fromhex(req))
def read(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("connection closed")
        b += c
    return b
hdr = read(8)
print((hdr + read(struct.unpack(">I", hdr[4:])[0])).hex())
`
	out, err := exec.Command(python, "-c", script, host, port, p.CACert, p.ClientCert, p.ClientKey,
		hex.EncodeToString(req)).CombinedOutput()
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	resp, err := ttlv.Decode(b, ttlv.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Equal(cannedResponse) {
		t.Fatalf("response %v", resp)
	}
}
