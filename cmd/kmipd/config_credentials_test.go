package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

func TestCredentialKeys(t *testing.T) {
	c, err := load(t, "")
	if err != nil || c.Auth.Credentials != "ignore" {
		t.Fatalf("default: %q %v", c.Auth.Credentials, err)
	}
	c, err = load(t, "[auth]\ncredentials = \"verify\"\npassword_file = \"/p\"\ncredential_certificates = [\"gw\"]\npassword_poll_interval = \"5s\"\n")
	if err != nil || c.Auth.PasswordFile != "/p" || len(c.Auth.CredentialCertificates) != 1 {
		t.Fatalf("verify: %+v %v", c.Auth.CredentialsConfig, err)
	}
	for toml, key := range map[string]string{
		`credentials = "yes"`:              "auth.credentials",
		`credentials = "verify"`:           "auth.password_file",
		`password_file = "/p"`:             "auth.password_file",
		`credential_certificates = ["gw"]`: "auth.credential_certificates",
		"credentials = \"verify\"\npassword_file = \"/p\"\ncredential_certificates = [\"\"]": "auth.credential_certificates",
		"credentials = \"verify\"\npassword_file = \"/p\"\npassword_poll_interval = \"-1s\"": "auth.password_poll_interval",
	} {
		_, err := load(t, "[auth]\n"+toml+"\n")
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("%s: err = %v, want a %s error", toml, err, key)
		}
	}
}

// TestBuildAccessCredentials: buildAccess wires the password file into the
// transport hook; a file that does not load is a configuration error
// naming auth.password_file.
func TestBuildAccessCredentials(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "passwords")
	h, _ := bcrypt.GenerateFromPassword([]byte("pw1"), bcrypt.MinCost)
	if err := os.WriteFile(path, []byte("user1:"+string(h)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := defaultConfig()
	c.Auth.Credentials, c.Auth.PasswordFile, c.Auth.CredentialCertificates = "verify", path, []string{"gw"}
	if err := c.normalize(); err != nil {
		t.Fatal(err)
	}
	same := func(a ports.Authenticator) ports.Authenticator { return a }
	a, err := buildAccess(c, zerolog.Nop(), same)
	if err != nil || a.authenticate == nil || a.reloadPasswords == nil || a.watch == nil {
		t.Fatalf("verify: %v, hook set %v", err, a.authenticate != nil)
	}
	req := kmip.Struct(kmip.TagRequestMessage, kmip.Struct(kmip.TagRequestHeader,
		kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, 1), kmip.Int(kmip.TagProtocolVersionMinor, 4)),
		kmip.Struct(kmip.TagAuthentication, kmip.Struct(kmip.TagCredential,
			kmip.Enum(kmip.TagCredentialType, uint32(kmip.CredentialTypeUsernameAndPassword)),
			kmip.Struct(kmip.TagCredentialValue, kmip.Text(kmip.TagUsername, "user1"), kmip.Text(kmip.TagPassword, "pw1")))),
		kmip.Int(kmip.TagBatchCount, 1)))
	who, err := a.authenticate(context.Background(), domain.Principal{Name: "gw"}, req)
	if err != nil || who.Name != "user1" {
		t.Errorf("hook: %+v %v", who, err)
	}
	if err := os.WriteFile(path, []byte("user1:plain\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.reloadPasswords(); err == nil {
		t.Error("a broken file reloaded")
	}
	_, err = buildAccess(c, zerolog.Nop(), same)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Key != "auth.password_file" || strings.Contains(err.Error(), "plain") {
		t.Errorf("broken file: %v", err)
	}
	c.Auth.Credentials, c.Auth.PasswordFile, c.Auth.CredentialCertificates = "ignore", "", nil
	if a, err := buildAccess(c, zerolog.Nop(), same); err != nil || a.authenticate != nil {
		t.Errorf("ignore without SLUGS: a hook is set (%v)", err)
	}
}

// TestBadPasswordFileStartsNothing: a password file that does not load is a
// configuration error (exit 78, one line naming auth.password_file, never a
// hash) for `kmipd config check` and for the server, before the database is
// created.
func TestBadPasswordFileStartsNothing(t *testing.T) {
	dir := t.TempDir()
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(dir, "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "k.db")
	pw := filepath.Join(dir, "passwords")
	cfg := filepath.Join(dir, "kmipd.toml")
	text := "[server]\ncertificate_path = \"" + pki.ServerCert + "\"\nkey_path = \"" + pki.ServerKey + "\"\nca_path = \"" +
		pki.CACert + "\"\n[storage]\ntype = \"sqlite\"\npath = \"" + db + "\"\n" +
		"[auth]\ncredentials = \"verify\"\npassword_file = \"" + pw + "\"\n"
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"missing": "", "not bcrypt": "user1:s3cret-plain\n"} {
		os.Remove(pw)
		if content != "" {
			if err := os.WriteFile(pw, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		for _, args := range [][]string{{"config", "check", cfg}, {"-config", cfg}} {
			var out, errb bytes.Buffer
			code := run(context.Background(), args, &out, &errb)
			got := errb.String()
			if code != exitConfig || !strings.Contains(got, "auth.password_file") || strings.Count(got, "\n") != 1 ||
				strings.Contains(got, "s3cret") {
				t.Errorf("%s, %q: exit %d, stderr %q; want %d and one line naming auth.password_file", name, args, code, got, exitConfig)
			}
			if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Fatalf("%s: a bad password file let kmipd create the database", name)
			}
		}
	}
}
