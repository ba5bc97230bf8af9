// Package softhsm creates throwaway SoftHSM2 tokens for tests (here and in
// cmd/ and test/): a temporary directory with its own softhsm2.conf and a
// token initialized with softhsm2-util. SoftHSM2 reads its configuration
// from the SOFTHSM2_CONF environment variable when the library is
// initialized, so a process that loads the module must have it set (Setup
// sets it for the test; Token.Env gives it to a child process).
package softhsm

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ModulePaths are the places SoftHSM2's PKCS#11 library is installed
// (Debian and Ubuntu, Fedora and RHEL, Alpine, Homebrew).
var ModulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/lib/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/opt/homebrew/lib/softhsm/libsofthsm2.so",
}

// Token is an initialized SoftHSM2 token.
type Token struct {
	// Module is the path of libsofthsm2.so.
	Module string
	// Label, PIN and SOPIN are the token's label and PINs.
	Label, PIN, SOPIN string
	// Conf is the softhsm2.conf path, Dir the directory holding it and the tokens.
	Conf, Dir string
}

// Env is the environment entry a child process (kmipd) needs to see the token.
func (t *Token) Env() []string { return []string{"SOFTHSM2_CONF=" + t.Conf} }

// FindModule returns the path of libsofthsm2.so, or an error when none of
// ModulePaths (nor $SOFTHSM2_MODULE) exists.
func FindModule() (string, error) {
	paths := ModulePaths
	if m := os.Getenv("SOFTHSM2_MODULE"); m != "" {
		paths = append([]string{m}, paths...)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("softhsm: libsofthsm2.so not found (looked in %s)", strings.Join(paths, ", "))
}

// Available reports whether softhsm2-util and the module are installed.
func Available() error {
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		return errors.New("softhsm: softhsm2-util not found (apt-get install softhsm2)")
	}
	_, err := FindModule()
	return err
}

// Create initializes a token labelled label in dir (created if missing),
// with user PIN pin (SO PIN "so-"+pin). It does not touch the process
// environment.
func Create(dir, label, pin string) (*Token, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	module, _ := FindModule()
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	text := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	t := &Token{Module: module, Label: label, PIN: pin, SOPIN: "so-" + pin, Conf: conf, Dir: dir}
	cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", t.SOPIN, "--pin", pin)
	cmd.Env = append(os.Environ(), t.Env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("softhsm: softhsm2-util --init-token: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return t, nil
}

// Setup creates a token in a test temporary directory and sets
// SOFTHSM2_CONF for the test (so tests calling it cannot be parallel).
// Without SoftHSM2 it skips the test, unless the CI environment variable
// is set: CI installs softhsm2, so its absence there is a failure.
func Setup(t testing.TB, label, pin string) *Token {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (CI is set: SoftHSM2 must be installed)", err)
		}
		t.Skipf("%v; skipping the SoftHSM2 test", err)
	}
	tok, err := Create(t.TempDir(), label, pin)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", tok.Conf)
	return tok
}
