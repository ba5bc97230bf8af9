package multinode

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// TestMakeRunPG runs the README's `make run-pg` in a temporary PG_DIR on
// free ports: a cluster and two nodes start, a key created on the first
// node is read on the second, and stopping make stops the nodes and the
// cluster.
func TestMakeRunPG(t *testing.T) {
	pgtest.Shared(t) // skips (or fails on CI) without PostgreSQL
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	dir, err := os.MkdirTemp("", "kmipd-run-pg-") // short: it holds a Unix socket
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(t.TempDir(), "kmipd")
	portA, portB := harness.FreePort(t), harness.FreePort(t)
	run := harness.StartMake(t, "run-pg", "PG_DIR="+dir, "BIN="+bin, "PORT_A="+strconv.Itoa(portA), "PORT_B="+strconv.Itoa(portB))
	defer run.Stop()
	run.WaitListening(t, portA, portB)
	a, b := harness.DialDevPKI(t, dir, portA), harness.DialDevPKI(t, dir, portB)
	p, err := a.Call(kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256, kmip.CryptographicUsageMaskEncrypt, "")...)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := p.Child(kmip.TagUniqueIdentifier).AsText()
	if _, err := b.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id)); err != nil {
		t.Fatalf("the second node cannot read a key the first created: %v", err)
	}
	a.Close()
	b.Close()
	run.Stop()
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("PostgreSQL still runs after make run-pg stopped (postmaster.pid: %v)\n%s", err, run.Output())
	}
	if bytes.Contains([]byte(run.Output()), []byte("panic")) {
		t.Errorf("output mentions a panic:\n%s", run.Output())
	}
}
