package sealing

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11/softhsm"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// hsmSealTOML is the [seal] table of the PKCS#11 seal on tok.
func hsmSealTOML(tok *softhsm.Token, extra string) string {
	return fmt.Sprintf("\n[seal]\ntype = \"pkcs11\"\n\n[seal.pkcs11]\nmodule = %q\ntoken_label = %q\nkey_label = \"kmipd-kek\"\n%s",
		tok.Module, tok.Label, extra)
}

// The PKCS#11 seal on a SoftHSM2 token, with the software crypto engine:
// no known key byte in the store's files, keys read back across a
// restart; a wrong PIN exits 78 with one line naming [seal.pkcs11], and
// so does a token whose KEK is not the one that sealed the store.
func TestHSMSeal(t *testing.T) {
	tok := softhsm.Setup(t, "kmipd-seal", "seal-pin-1234")
	opts := harness.Options{
		Env:       append(tok.Env(), "KMIPD_SEAL_PIN="+tok.PIN),
		ExtraTOML: hsmSealTOML(tok, ""),
	}
	srv := harness.Start(t, opts)
	c := srv.Dial(t, "admin", 1, 4)
	secrets := writeSecrets(t, c)
	srv.Stop(t)
	for _, s := range secrets {
		if f := storeFilesHolding(t, srv.DBPath, s.bytes); len(f) > 0 {
			t.Errorf("%v hold the %s bytes", f, s.name)
		}
	}
	srv.Restart(t)
	checkSecrets(t, srv.Dial(t, "admin", 1, 4), secrets)
	srv.Stop(t)

	dir := t.TempDir()
	cfg, err := os.ReadFile(srv.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte("wrong-pin\n"), 0o600)
	cases := []struct{ name, config, want string }{
		{"wrong PIN", strings.Replace(string(cfg), `key_label = "kmipd-kek"`, fmt.Sprintf("key_label = \"kmipd-kek\"\npin_file = %q", pinFile), 1), "seal.pkcs11"},
		{"another KEK", strings.Replace(string(cfg), `key_label = "kmipd-kek"`, `key_label = "another-kek"`, 1), "seal.pkcs11.key_label"},
	}
	t.Setenv("KMIPD_SEAL_PIN", tok.PIN) // pin_file, when set, wins
	for _, c := range cases {
		path := filepath.Join(dir, "kmipd.toml")
		os.WriteFile(path, []byte(c.config), 0o600)
		r := harness.Run(t, dir, "-config", path)
		lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		if r.ExitCode != 78 || len(lines) != 1 || !strings.Contains(lines[0], c.want) {
			t.Errorf("%s: exit %d, stderr %q; want 78 and one line naming %q", c.name, r.ExitCode, r.Stderr, c.want)
		}
		if strings.Contains(r.Stderr, "wrong-pin") || strings.Contains(r.Stderr, tok.PIN) {
			t.Errorf("%s: the PIN is in the error", c.name)
		}
	}
}

// The PKCS#11 seal and the PKCS#11 crypto engine share one token (and one
// loaded module): keys created in the HSM and registered keys sealed under
// the token's KEK both work across a restart.
func TestHSMSealWithHSMEngine(t *testing.T) {
	tok := softhsm.Setup(t, "kmipd-both", "both-pin-1234")
	opts := harness.HSMOptions(tok, "extractable = true")
	opts.Env = append(opts.Env, "KMIPD_SEAL_PIN="+tok.PIN)
	opts.ExtraTOML += hsmSealTOML(tok, "")
	srv := harness.Start(t, opts)
	c := srv.Dial(t, "admin", 1, 4)
	secrets := writeSecrets(t, c)
	srv.Restart(t)
	c = srv.Dial(t, "admin", 1, 4)
	checkSecrets(t, c, secrets)
	harness.Call(t, c, kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryCapabilities)))
	srv.Stop(t)
	for _, s := range secrets {
		if f := storeFilesHolding(t, srv.DBPath, s.bytes); len(f) > 0 {
			t.Errorf("%v hold the %s bytes", f, s.name)
		}
	}
}
