package multinode

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "kmipd-run-pg-") // short: it holds a Unix socket
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(t.TempDir(), "kmipd")
	portA, portB := harness.FreePort(t), harness.FreePort(t)
	cmd := exec.Command("make", "-s", "run-pg", "PG_DIR="+dir, "BIN="+bin, "PORT_A="+strconv.Itoa(portA), "PORT_B="+strconv.Itoa(portB))
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out harness.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	defer stop()
	deadline := time.Now().Add(2 * time.Minute) // the first run builds kmipd
	for _, port := range []int{portA, portB} {
		for !strings.Contains(out.String(), "kmipd: listening on 127.0.0.1:"+strconv.Itoa(port)) {
			select {
			case err := <-done:
				stopped = true
				t.Fatalf("make run-pg exited: %v\n%s", err, out.String())
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("make run-pg did not start serving on %d:\n%s", port, out.String())
			}
		}
	}
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
	stop()
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("PostgreSQL still runs after make run-pg stopped (postmaster.pid: %v)\n%s", err, out.String())
	}
	if bytes.Contains([]byte(out.String()), []byte("panic")) {
		t.Errorf("output mentions a panic:\n%s", out.String())
	}
}
