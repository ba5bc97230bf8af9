//go:build cgo

package hsm

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11/softhsm"
	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// TestMakeRunHSM runs the README's `make run-hsm` in a temporary HSM_DIR:
// it creates a SoftHSM2 token and a development PKI on first use, serves,
// and a client with the printed certificates creates a key that stays in
// the token (Get: Not Extractable). A second start reuses the token.
func TestMakeRunHSM(t *testing.T) {
	if err := softhsm.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "hsm")
	bin := filepath.Join(t.TempDir(), "kmipd")
	for run := 1; run <= 2; run++ {
		port := harness.FreePort(t)
		cmd := exec.Command("make", "-s", "run-hsm", "HSM_DIR="+dir, "BIN="+bin, "RUN_FLAGS=-port "+strconv.Itoa(port))
		cmd.Dir = root
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		var out harness.SyncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		stop := func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
		deadline := time.Now().Add(2 * time.Minute) // a safety net: the first run builds kmipd
		for !strings.Contains(out.String(), "kmipd: listening on 127.0.0.1:"+strconv.Itoa(port)) {
			select {
			case err := <-done:
				t.Fatalf("make run-hsm exited: %v\n%s", err, out.String())
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				stop()
				t.Fatalf("make run-hsm did not start serving:\n%s", out.String())
			}
		}
		if !strings.Contains(out.String(), `"crypto":"pkcs11"`) {
			stop()
			t.Fatalf("the server does not run the pkcs11 engine:\n%s", out.String())
		}
		pin, err := os.ReadFile(filepath.Join(dir, "pin"))
		if err != nil || len(bytes.TrimSpace(pin)) < 8 {
			stop()
			t.Fatalf("no PIN file of at least 8 characters: %v", err)
		}
		if strings.Contains(out.String(), strings.TrimSpace(string(pin))) {
			stop()
			t.Fatal("make run-hsm printed the PIN")
		}
		c := harness.DialDevPKI(t, dir, port)
		p, err := c.Call(kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256,
			kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, "")...)
		if err != nil {
			stop()
			t.Fatal(err)
		}
		id, _ := p.Child(kmip.TagUniqueIdentifier).AsText()
		_, err = c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id))
		var oe *kmipclient.OperationError
		if !errors.As(err, &oe) || oe.Reason != kmip.ResultReasonNotExtractable {
			stop()
			t.Fatalf("Get of a token key: %v, want Not Extractable", err)
		}
		c.Close()
		stop()
	}
}
