package softhsm

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSetup creates a token and checks, with softhsm2-util itself, that
// it is there under its label in the directory the environment names.
func TestSetup(t *testing.T) {
	tok := Setup(t, "softhsm-setup", "1234")
	if got := os.Getenv("SOFTHSM2_CONF"); got != tok.Conf {
		t.Errorf("SOFTHSM2_CONF = %q, want %q", got, tok.Conf)
	}
	if _, err := os.Stat(tok.Module); err != nil {
		t.Errorf("module: %v", err)
	}
	cmd := exec.Command("softhsm2-util", "--show-slots")
	cmd.Env = append(os.Environ(), tok.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --show-slots: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "softhsm-setup") {
		t.Errorf("the token is not listed:\n%s", out)
	}
}
