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
	"testing"

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
	dir := filepath.Join(t.TempDir(), "hsm")
	bin := filepath.Join(t.TempDir(), "kmipd")
	for run := 1; run <= 2; run++ {
		port := harness.FreePort(t)
		mk := harness.StartMake(t, "run-hsm", "HSM_DIR="+dir, "BIN="+bin, "RUN_FLAGS=-port "+strconv.Itoa(port))
		mk.WaitListening(t, port)
		if !strings.Contains(mk.Output(), `"crypto":"pkcs11"`) {
			mk.Stop()
			t.Fatalf("the server does not run the pkcs11 engine:\n%s", mk.Output())
		}
		pin, err := os.ReadFile(filepath.Join(dir, "pin"))
		if err != nil || len(bytes.TrimSpace(pin)) < 8 {
			mk.Stop()
			t.Fatalf("no PIN file of at least 8 characters: %v", err)
		}
		if strings.Contains(mk.Output(), strings.TrimSpace(string(pin))) {
			mk.Stop()
			t.Fatal("make run-hsm printed the PIN")
		}
		c := harness.DialDevPKI(t, dir, port)
		p, err := c.Call(kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256,
			kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, "")...)
		if err != nil {
			mk.Stop()
			t.Fatal(err)
		}
		id, _ := p.Child(kmip.TagUniqueIdentifier).AsText()
		_, err = c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id))
		var oe *kmipclient.OperationError
		if !errors.As(err, &oe) || oe.Reason != kmip.ResultReasonNotExtractable {
			mk.Stop()
			t.Fatalf("Get of a token key: %v, want Not Extractable", err)
		}
		c.Close()
		mk.Stop()
	}
}
