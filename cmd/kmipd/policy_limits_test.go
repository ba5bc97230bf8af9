package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/policy"
)

// TestPolicyCheckAppliesServerLimits: "kmipd policy check" reads files with
// the server's limits, so a file the server would refuse as too large is an
// error here too.
func TestPolicyCheckAppliesServerLimits(t *testing.T) {
	dir := t.TempDir()
	body := `{"big": {"preset": {"CERTIFICATE": {"GET": "ALLOW_ALL"}}}}` + strings.Repeat(" ", policy.MaxFileSize)
	if err := os.WriteFile(filepath.Join(dir, "big.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"policy", "check", dir}, &out, &errb); code != exitFailed {
		t.Errorf("an oversized file: exit %d\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "big.json: ERROR:") {
		t.Errorf("output: %s", out.String())
	}
}

// TestServeStopsPolicyPoller: when kmipd stops, the policy directory poller
// has ended before serve returns (it used to be cancelled but not awaited, so
// a scan could still run, and log, after the store and log were closed).
func TestServeStopsPolicyPoller(t *testing.T) {
	dir, policies := t.TempDir(), t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "listening on") {
				once = true
				close(listening)
			}
		}
	}()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-dev", "-dev-dir", dir, "-port", port, "-policy-path", policies,
			"-logging-level", "ERROR"}, io.Discard, pw)
	}()
	select {
	case <-listening:
	case code := <-done:
		t.Fatalf("kmipd exited with %d before listening", code)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit status %d", code)
	}
	pw.Close()
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "adapters/policy.(*Dir).Run") {
		t.Errorf("the policy poller still runs after serve returned:\n%s", stacks)
	}
}
