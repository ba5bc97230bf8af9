package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/postgres/pgtest"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/ports"
)

// pgConfig returns a configuration file's text with a working TLS PKI and
// the given [storage] table body.
func pgConfig(t *testing.T, storage string) string {
	t.Helper()
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(t.TempDir(), "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return "[server]\nport = 5696\ncertificate_path = \"" + pki.ServerCert + "\"\nkey_path = \"" + pki.ServerKey + "\"\nca_path = \"" +
		pki.CACert + "\"\n[storage]\n" + storage
}

const secretPassword = "Sup3r-s3cret-pw"

// The [storage] keys of type postgres: a good table passes config check
// without connecting; each bad value exits 78 with one line naming its key,
// and no message shows the password in storage.url.
func TestPostgresConfig(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte(secretPassword+"\n"), 0o600)
	for _, tc := range []struct {
		name, storage string
		code          int
		want          string
	}{
		{"url", `type = "postgres"` + "\nurl = \"postgres://kmipd:" + secretPassword + "@db.example:5433/kmip?sslmode=verify-full\"\nmax_conns = 8\n", exitOK, ": OK"},
		{"key=value", `type = "postgres"` + "\nurl = \"host=/run/postgresql dbname=kmip user=kmipd\"\npassword_file = \"" + pwFile + "\"\nsslmode = \"disable\"\n", exitOK, ": OK"},
		{"no url", `type = "postgres"` + "\n", exitConfig, "storage.url: required"},
		{"bad url", `type = "postgres"` + "\nurl = \"postgres://kmipd:" + secretPassword + "@db.example:notaport/kmip\"\n", exitConfig, "storage.url: not a libpq URL"},
		{"bad key=value", `type = "postgres"` + "\nurl = \"host=db password='" + secretPassword + "\"\n", exitConfig, "storage.url: not a libpq URL"},
		{"bad sslmode", `type = "postgres"` + "\nurl = \"postgres://db/kmip\"\nsslmode = \"sometimes\"\n", exitConfig, "storage.sslmode"},
		{"bad max_conns", `type = "postgres"` + "\nurl = \"postgres://db/kmip\"\nmax_conns = -1\n", exitConfig, "storage.max_conns"},
		{"missing password file", `type = "postgres"` + "\nurl = \"postgres://db/kmip\"\npassword_file = \"" + filepath.Join(dir, "none") + "\"\n", exitConfig, "storage.password_file"},
		{"missing CA", `type = "postgres"` + "\nurl = \"postgres://db/kmip\"\nsslrootcert = \"" + filepath.Join(dir, "none.pem") + "\"\n", exitConfig, "storage.sslrootcert"},
		{"path", `type = "postgres"` + "\nurl = \"postgres://db/kmip\"\npath = \"" + filepath.Join(dir, "k.db") + "\"\n", exitConfig, "storage.path: does not apply"},
		{"url for sqlite", `type = "sqlite"` + "\npath = \"" + filepath.Join(dir, "k.db") + "\"\nurl = \"postgres://db/kmip\"\n", exitConfig, "storage.url: applies only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kmipd.toml")
			os.WriteFile(path, []byte(pgConfig(t, tc.storage)), 0o600)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"config", "check", path}, &out, &errb)
			got := out.String() + errb.String()
			if code != tc.code || !strings.Contains(got, tc.want) || strings.Count(got, "\n") != 1 {
				t.Errorf("exit %d, output %q; want %d and one line containing %q", code, got, tc.code, tc.want)
			}
			if strings.Contains(got, secretPassword) {
				t.Errorf("the output shows the password: %q", got)
			}
		})
	}
}

// A server whose PostgreSQL cannot be reached exits 1 saying so, and
// neither its log nor its error shows the password.
func TestPostgresUnreachableHidesPassword(t *testing.T) {
	sock := t.TempDir() // no server listens there
	for _, storage := range []string{
		"type = \"postgres\"\nurl = \"host=" + sock + " dbname=kmip user=kmipd password=" + secretPassword + " connect_timeout=2\"\n",
		"type = \"postgres\"\nurl = \"postgres://kmipd:" + secretPassword + "@127.0.0.1:1/kmip?connect_timeout=2\"\n",
	} {
		path := filepath.Join(t.TempDir(), "kmipd.toml")
		os.WriteFile(path, []byte(pgConfig(t, storage)), 0o600)
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"-config", path}, &out, &errb)
		got := out.String() + errb.String()
		if code != exitFailed || !strings.Contains(got, "postgres") {
			t.Errorf("exit %d, output %q; want %d and a message about postgres", code, got, exitFailed)
		}
		if strings.Contains(got, secretPassword) {
			t.Errorf("the output shows the password: %q", got)
		}
	}
}

// The password comes from storage.password_file (its first line) or
// PGPASSWORD when storage.url has none; without either a server that
// requires one refuses the store.
func TestPostgresPasswordFile(t *testing.T) {
	c := pgtest.StartT(t, pgtest.Options{Password: secretPassword})
	ctx := context.Background()
	if _, err := c.CreateDatabase(ctx, "kmip"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))
	url := c.DSNWithoutPassword("kmip")
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(secretPassword+"\nignored second line\n"), 0o600)

	s, err := openPostgres(StorageConfig{Type: storageTypePostgres, URL: url, PasswordFile: pw}, ports.CreationAuto)
	if err != nil {
		t.Fatalf("with storage.password_file: %v", err)
	}
	s.Close()
	if s, err := openPostgres(StorageConfig{Type: storageTypePostgres, URL: url}, ports.CreationAuto); err == nil {
		s.Close()
		t.Fatal("the store opened without a password on a server that requires one")
	} else if strings.Contains(err.Error(), secretPassword) {
		t.Fatalf("the error shows the password: %v", err)
	}
	t.Setenv("PGPASSWORD", secretPassword)
	s, err = openPostgres(StorageConfig{Type: storageTypePostgres, URL: url}, ports.CreationAuto)
	if err != nil {
		t.Fatalf("with PGPASSWORD: %v", err)
	}
	s.Close()
}
