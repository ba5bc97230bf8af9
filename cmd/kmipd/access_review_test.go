package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
