//go:build cgo

package pkcs11_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/seal/pkcs11"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/sealtest"
)

// The tests share one SoftHSM2 token: SoftHSM2 reads SOFTHSM2_CONF once per
// C_Initialize.
var (
	module   string
	tokenErr error
)

const (
	tokenLabel = "kmipd-seal-test"
	pin        = "seal-pin-4711"
)

var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// makeToken initializes a SoftHSM2 token in dir and points SOFTHSM2_CONF at it.
func makeToken(dir string) error {
	for _, p := range modulePaths {
		if _, err := os.Stat(p); err == nil {
			module = p
			break
		}
	}
	if module == "" {
		return fmt.Errorf("libsofthsm2.so not found")
	}
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		return err
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		return err
	}
	os.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", tokenLabel, "--so-pin", "so-"+pin, "--pin", pin).CombinedOutput()
	if err != nil {
		return fmt.Errorf("softhsm2-util: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kmipd-seal-softhsm-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tokenErr = makeToken(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needToken(t *testing.T) {
	t.Helper()
	if tokenErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (CI is set: SoftHSM2 must be installed)", tokenErr)
		}
		t.Skipf("SoftHSM2: %v; skipping", tokenErr)
	}
}

func config(label string) pkcs11.Config {
	return pkcs11.Config{Module: module, TokenLabel: tokenLabel, PIN: pin, KeyLabel: label, Create: true}
}

func open(t *testing.T, cfg pkcs11.Config) *pkcs11.KEK {
	t.Helper()
	k, err := pkcs11.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func TestContract(t *testing.T) {
	needToken(t)
	// One KEK stays open so that closing the others never finalizes the library.
	open(t, config("kek-anchor"))
	sealtest.Run(t, func(t *testing.T, name string) ports.KEK { return open(t, config("kek-"+name)) })
}

func TestOpenRefuses(t *testing.T) {
	needToken(t)
	// No KEK is open: a session logged in already would make C_Login
	// succeed (CKR_USER_ALREADY_LOGGED_IN) whatever the PIN.
	cases := map[string]struct {
		cfg  pkcs11.Config
		want string
	}{
		"wrong PIN":       {pkcs11.Config{Module: module, TokenLabel: tokenLabel, PIN: "nope", KeyLabel: "k"}, "wrong PIN"},
		"no such token":   {pkcs11.Config{Module: module, TokenLabel: "other", PIN: pin, KeyLabel: "k"}, `no token labelled "other"`},
		"previous absent": {pkcs11.Config{Module: module, TokenLabel: tokenLabel, PIN: pin, KeyLabel: "never-made"}, `no key labelled "never-made"`},
		"no module":       {pkcs11.Config{Module: "/nonexistent.so", TokenLabel: tokenLabel, PIN: pin, KeyLabel: "k"}, "cannot load module"},
	}
	for name, c := range cases {
		_, err := pkcs11.Open(context.Background(), c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), pin) {
			t.Errorf("%s: the error shows the PIN", name)
		}
	}
}
