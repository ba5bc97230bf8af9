// Package admin tests the operator listener of the real binary: /healthz,
// /readyz and /metrics on loopback, and over TLS with client certificates
// when allow_remote is set.
package admin

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11/softhsm"
	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

func fetch(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminEndpoints: health, readiness and metrics that move with traffic
// (requests by operation and result, connections, refused handshakes).
func TestAdminEndpoints(t *testing.T) {
	port := harness.FreePort(t)
	policies := t.TempDir()
	if err := os.WriteFile(policies+"/p.json", []byte(`{"p": {"preset": {"SYMMETRIC_KEY": {"GET": "ALLOW_ALL"}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := harness.Start(t, harness.Options{ExtraServerTOML: fmt.Sprintf("policy_path = %q", policies),
		ExtraTOML: fmt.Sprintf("[admin]\naddress = \"127.0.0.1:%d\"\n", port)})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	hc := &http.Client{Timeout: 10 * time.Second}
	if code, body := fetch(t, hc, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := fetch(t, hc, base+"/readyz"); code != 200 || body != "crypto: ok\nstore: ok\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	c := srv.Dial(t, "alice", 1, 4)
	harness.Call(t, c, kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "")...)
	if _, err := c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, "no-such-object")); err == nil {
		t.Fatal("Get of an unknown object succeeded")
	}
	// A client whose certificate the server does not trust.
	other, err := harness.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := tls.LoadX509KeyPair(other.ClientCertFile, other.ClientKeyFile)
	if conn, err := tls.Dial("tcp", srv.Addr, &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true}); err == nil {
		conn.Write([]byte{0x42})
		conn.Read(make([]byte, 1))
		conn.Close()
	}
	var body string
	for i := 0; i < 50; i++ { // the refused handshake is counted by the server's goroutine
		_, body = fetch(t, hc, base+"/metrics")
		if strings.Contains(body, `kmipd_tls_handshake_failures_total{cause="bad_certificate"} 1`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		`kmipd_requests_total{operation="Create",result="Success"} 1`,
		`kmipd_requests_total{operation="Get",result="ItemNotFound"} 1`,
		`kmipd_request_duration_seconds_count{operation="Create"} 1`,
		`kmipd_connections_open `,
		`kmipd_tls_handshake_failures_total{cause="bad_certificate"} 1`,
		`kmipd_key_material_unavailable_total 0`,
		`kmipd_store_commit_duration_seconds_count `,
		`kmipd_store_commit_writes_sum `,
		`kmipd_policy_reloads_total{result="ok"} 1`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	req, _ := http.NewRequest("POST", base+"/readyz", nil)
	if resp, err := hc.Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("POST /readyz: %v %v", resp, err)
	}
}

// TestRemoteAdminNeedsTLSAndACertificate: allow_remote serves HTTPS that
// refuses a client without a certificate from ca_path; without
// allow_remote a non-loopback address is a configuration error.
func TestRemoteAdminNeedsTLSAndACertificate(t *testing.T) {
	port := harness.FreePort(t)
	srv := harness.Start(t, harness.Options{ExtraTOML: fmt.Sprintf("[admin]\naddress = \"127.0.0.1:%d\"\nallow_remote = true\n", port)})
	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", port)
	withCert := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: srv.ClientTLSConfig(t, "ops")}}
	if code, body := fetch(t, withCert, url); code != 200 || body != "ok\n" {
		t.Errorf("with a client certificate: %d %q", code, body)
	}
	cfg := srv.ClientTLSConfig(t, "ops").Clone()
	cfg.Certificates = nil
	noCert := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	if resp, err := noCert.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("without a client certificate: %d, want a refused handshake", resp.StatusCode)
	}

	dir := t.TempDir()
	r := harness.Run(t, dir, "-dev", "-dev-dir", dir, "-port", fmt.Sprint(harness.FreePort(t)), "-config", writeFile(t, dir, "[admin]\naddress = \"0.0.0.0:9\"\n"))
	if r.ExitCode != 78 || !strings.Contains(r.Stderr, "admin.address") || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("a non-loopback admin address: %+v", r)
	}
}

func writeFile(t *testing.T, dir, text string) string {
	t.Helper()
	path := dir + "/admin.toml"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHSMPoolMetrics: on a SoftHSM2 token the PKCS#11 session pool's size
// and use are scraped, and the recoveries counter is there.
func TestHSMPoolMetrics(t *testing.T) {
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("SoftHSM2 is not installed")
		}
		t.Skip("SoftHSM2 is not installed")
	}
	tok := softhsm.Setup(t, "kmipd-metrics", "51627384")
	port := harness.FreePort(t)
	o := harness.HSMOptions(tok, "sessions = 3")
	o.ExtraTOML += fmt.Sprintf("[admin]\naddress = \"127.0.0.1:%d\"\n", port)
	srv := harness.Start(t, o)
	c := srv.Dial(t, "alice", 1, 4)
	harness.Call(t, c, kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "")...)
	_, body := fetch(t, &http.Client{Timeout: 10 * time.Second}, fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	for _, want := range []string{`kmipd_hsm_sessions{state="capacity"} 3`, `kmipd_hsm_sessions{state="in_use"} 0`, `kmipd_hsm_recoveries_total 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
