package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/audit"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/ports"
)

func TestAuditConfigKeys(t *testing.T) {
	c, err := load(t, "")
	if err != nil || c.Audit.Path != "" || !bool(c.Audit.FailClosed) {
		t.Fatalf("defaults %+v, %v: want no path and fail_closed = true", c.Audit, err)
	}
	c, err = load(t, "[audit]\npath = \"/var/log/kmipd/audit.log\"\nfail_closed = false\n")
	if err != nil || c.Audit.Path != "/var/log/kmipd/audit.log" || bool(c.Audit.FailClosed) {
		t.Fatalf("got %+v, %v", c.Audit, err)
	}
	if _, err := load(t, "[audit]\nfsync = true\n"); err == nil || !strings.Contains(err.Error(), "audit.fsync") {
		t.Fatalf("unknown key: %v", err)
	}
}

// TestAuditPathDirectoryMustExist: config check names audit.path and exits 78.
func TestAuditPathDirectoryMustExist(t *testing.T) {
	dir := t.TempDir()
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(dir, "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conf := "[server]\ncertificate_path = \"" + pki.ServerCert + "\"\nkey_path = \"" + pki.ServerKey + "\"\nca_path = \"" +
		pki.CACert + "\"\n[storage]\npath = \"" + filepath.Join(dir, "k.db") + "\"\n[audit]\npath = \"" +
		filepath.Join(dir, "none", "audit.log") + "\"\n"
	path := filepath.Join(dir, "kmipd.toml")
	os.WriteFile(path, []byte(conf), 0o600)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"config", "check", path}, &out, &errb)
	if code != exitConfig || !strings.Contains(errb.String(), "kmipd: audit.path") || strings.Count(errb.String(), "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want 78 and one line naming audit.path", code, errb.String())
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w, err := audit.Open(path, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		w.Record(context.Background(), ports.AuditRecord{Time: time.Now(), Event: ports.AuditResult, Client: "alice", Operation: "Get"})
	}
	w.Close()
	verify := func() (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"audit", "verify", path}, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := verify(); code != exitOK || !strings.Contains(out, "3 records, chain intact") {
		t.Fatalf("intact file: exit %d, %q", code, out)
	}
	b, _ := os.ReadFile(path)
	i := bytes.IndexByte(b, '\n') + 30 // in line 2
	b[i] ^= 1
	os.WriteFile(path, b, 0o600)
	if code, out := verify(); code != exitFailed || !strings.Contains(out, path+" line 2: ") {
		t.Fatalf("changed file: exit %d, %q; want 1 naming line 2", code, out)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"audit", "verify"}, &out, &errb); code != exitUsage {
		t.Fatalf("no files: exit %d", code)
	}
}
