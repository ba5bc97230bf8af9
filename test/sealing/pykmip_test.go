package sealing

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/test/harness"
)

// pykmipSecret is one secret the reference client wrote.
type pykmipSecret struct {
	UID string `json:"uid"`
	Hex string `json:"hex"`
}

// writeWithPyKMIP has Debian's PyKMIP create a key (and Get it) and
// register a symmetric key, an RSA private key, secret data and a split key
// with known bytes on srv; it returns each secret's bytes by label.
func writeWithPyKMIP(t *testing.T, srv *harness.Server) map[string][]byte {
	t.Helper()
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import kmip").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PyKMIP is not importable by %s: %v", python, err)
		}
		t.Skipf("PyKMIP is not importable by %s", python)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(rk)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join("testdata", "pykmip_secrets.py"), srv.Host, strconv.Itoa(srv.Port),
		srv.PKI.ClientCertFile, srv.PKI.ClientKeyFile, srv.PKI.CAFile, hex.EncodeToString(der))
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("pykmip_secrets.py: %v\n%s", err, stderr)
	}
	var got map[string]pykmipSecret
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("pykmip_secrets.py printed %q: %v", out, err)
	}
	secrets := map[string][]byte{}
	for label, s := range got {
		b, err := hex.DecodeString(s.Hex)
		if err != nil || len(b) < 16 {
			t.Fatalf("%s: %q", label, s.Hex)
		}
		secrets[label] = b
	}
	if len(secrets) != 5 {
		t.Fatalf("PyKMIP wrote %d secrets, want 5", len(secrets))
	}
	return secrets
}

// filesHolding lists the regular files below dir that contain b.
func filesHolding(t *testing.T, dir string, b []byte) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		data, rerr := os.ReadFile(path)
		if rerr == nil && bytes.Contains(data, b) {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// TestNoPyKMIPSecretAtRest: secrets the reference client writes are in no
// file of the store — SQLite (db, WAL, SHM), bbolt, and a PostgreSQL
// cluster's whole data directory (tables and WAL) — while kmipd serves and
// after it stops; a clear store, as a control, shows the scan finds them.
func TestNoPyKMIPSecretAtRest(t *testing.T) {
	for _, storage := range []string{"sqlite", "bbolt", "postgres"} {
		for _, sealed := range []bool{true, false} {
			name := storage + "/clear-control"
			if sealed {
				name = storage + "/sealed"
			}
			t.Run(name, func(t *testing.T) {
				opts := harness.Options{Storage: storage}
				dir := filepath.Dir(filepath.Join(t.TempDir(), "x"))
				if storage == "postgres" {
					cluster, err := pgtest.Start(pgtest.Options{})
					if err != nil {
						if os.Getenv("CI") != "" {
							t.Fatalf("PostgreSQL: %v", err)
						}
						t.Skipf("PostgreSQL: %v", err)
					}
					t.Cleanup(func() { cluster.Stop() })
					dsn, err := cluster.CreateDatabase(context.Background(), "sealing")
					if err != nil {
						t.Fatal(err)
					}
					opts = harness.Options{StorageTOML: harness.PostgresStorage(dsn)}
					dir = cluster.DataDir
				}
				if sealed {
					opts.ExtraTOML = sealTOML(keygen(t, t.TempDir(), "kek"))
				}
				srv := harness.Start(t, opts)
				if storage != "postgres" {
					dir = filepath.Dir(srv.DBPath)
				}
				secrets := writeWithPyKMIP(t, srv)
				scan := func(when string) {
					t.Helper()
					found := 0
					for label, b := range secrets {
						files := filesHolding(t, dir, b)
						found += len(files)
						if sealed && len(files) > 0 {
							t.Errorf("%s: %v hold the %s bytes", when, files, label)
						}
					}
					if !sealed && found == 0 {
						t.Errorf("%s: no file holds a clear secret: the scan sees nothing", when)
					}
				}
				scan("while serving")
				srv.Stop(t)
				scan("after kmipd stopped")
			})
		}
	}
}
