package sealing

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/test/harness"
)

// Development mode (make run) seals with a key file it generates in the
// development directory (mode 0600): keys written through it are in no
// file of its store.
func TestDevModeSeals(t *testing.T) {
	dir := t.TempDir()
	devDir := filepath.Join(dir, "dev")
	port := harness.FreePort(t)
	cmd := exec.Command(harness.Binary(t), "-dev", "-dev-dir", devDir, "-port", strconv.Itoa(port))
	var out harness.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Signal(syscall.SIGTERM)
			<-done
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "kmipd: listening on"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("kmipd -dev did not start:\n%s", out.String())
		}
	}
	fi, err := os.Stat(filepath.Join(devDir, "seal.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev seal key: %v, mode %v", err, fi.Mode())
	}
	pki, err := kmiptls.GenerateDevPKI(devDir, kmiptls.DevPKIOptions{}) // the one kmipd made
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(pki.ClientCert, pki.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(pki.CACert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	c, err := kmipclient.Dial(context.Background(), "127.0.0.1:"+strconv.Itoa(port),
		&tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Major, c.Minor = 1, 4
	secrets := writeSecrets(t, c)
	cmd.Process.Signal(syscall.SIGTERM)
	stopped = true
	if err := <-done; err != nil {
		t.Fatalf("kmipd -dev: %v\n%s", err, out.String())
	}
	for _, s := range secrets {
		if f := storeFilesHolding(t, filepath.Join(devDir, "kmipd.db"), s.bytes); len(f) > 0 {
			t.Errorf("%v hold the %s bytes", f, s.name)
		}
	}
}
