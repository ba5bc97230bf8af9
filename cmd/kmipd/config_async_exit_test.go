package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// TestAsyncAndTicketKeysExit78: `kmipd config check` refuses each bad value
// of the asynchronous-operation and session-ticket keys, of the wrong type
// as well as out of range or against another key (async_result_ttl below
// async_lease, a lifetime over 98 rotations), with exit 78 and one line
// naming the key; the boundaries (result TTL equal to the lease, lifetime
// exactly 98 rotations) pass.
func TestAsyncAndTicketKeysExit78(t *testing.T) {
	dir := t.TempDir()
	pki, err := kmiptls.GenerateDevPKI(filepath.Join(dir, "pki"), kmiptls.DevPKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	base := "[server]\ncertificate_path = \"" + pki.ServerCert + "\"\nkey_path = \"" + pki.ServerKey + "\"\nca_path = \"" +
		pki.CACert + "\"\n"
	storage := "[storage]\npath = \"" + filepath.Join(dir, "k.db") + "\"\n"
	check := func(server string) (int, string) {
		t.Helper()
		path := filepath.Join(dir, "kmipd.toml")
		if err := os.WriteFile(path, []byte(base+server+storage), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		return run(context.Background(), []string{"config", "check", path}, &out, &errb), errb.String()
	}
	for _, c := range []struct{ toml, key string }{
		{"async_after = \"-1s\"\n", "server.async_after"},
		{"async_after = \"soon\"\n", "server.async_after"},
		{"async_lease = \"999ms\"\n", "server.async_lease"},
		{"async_lease = true\n", "server.async_lease"},
		{"async_result_ttl = \"10s\"\n", "server.async_result_ttl"},
		{"async_lease = \"1m\"\nasync_result_ttl = \"59s\"\n", "server.async_result_ttl"},
		{"max_async_per_client = -1\n", "server.max_async_per_client"},
		{"max_async_per_client = \"many\"\n", "server.max_async_per_client"},
		{"tls_session_tickets = \"maybe\"\n", "server.tls_session_tickets"},
		{"tls_ticket_rotation = \"999ms\"\n", "server.tls_ticket_rotation"},
		{"tls_ticket_rotation = \"hourly\"\n", "server.tls_ticket_rotation"},
		{"tls_ticket_lifetime = \"-1h\"\n", "server.tls_ticket_lifetime"},
		{"tls_ticket_lifetime = 5\n", "server.tls_ticket_lifetime"},
		{"tls_ticket_rotation = \"1m\"\ntls_ticket_lifetime = \"99m\"\n", "server.tls_ticket_lifetime"},
	} {
		code, stderr := check(c.toml)
		if code != exitConfig || !strings.Contains(stderr, c.key) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want %d and one line naming %s", c.toml, code, stderr, exitConfig, c.key)
		}
	}
	for _, ok := range []string{
		"async_lease = \"1m\"\nasync_result_ttl = \"1m\"\n",
		"tls_ticket_rotation = \"1m\"\ntls_ticket_lifetime = \"98m\"\n",
	} {
		if code, stderr := check(ok); code != 0 {
			t.Errorf("%q: exit %d, stderr %q; want accepted", ok, code, stderr)
		}
	}
}
