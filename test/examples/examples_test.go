// Package examples checks the files under examples/ that operators copy:
// the systemd unit is one systemd accepts without a warning and names the
// exit statuses kmipd really uses.
package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

func repoFile(t *testing.T, name string) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, name)
}

// TestSystemdUnit: systemd-analyze verify accepts examples/kmipd.service
// with no warning (unknown keys and bad values are warnings to systemd),
// with the binary path pointed at a kmipd built from this tree.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(repoFile(t, "examples/kmipd.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RestartPreventExitStatus=64 78", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"StateDirectory=kmipd", "ExecStart=/usr/local/bin/kmipd -config /etc/kmipd/kmipd.toml"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("kmipd.service lacks %q", want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed; the unit's syntax is not checked")
	}
	path := filepath.Join(t.TempDir(), "kmipd.service")
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/kmipd", harness.Binary(t))
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
