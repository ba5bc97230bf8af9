package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHTTPSConfig: [https] address is off by default, "auto" is the KMIP
// port + 1, development mode turns it on unless told otherwise, and bad
// values fail naming https.address.
func TestHTTPSConfig(t *testing.T) {
	c, err := load(t, "")
	if err != nil || c.HTTPS.Address != "" {
		t.Fatalf("default https.address = %q, %v; want off", c.HTTPS.Address, err)
	}
	for _, tc := range []struct {
		toml  string
		flags []string
		want  string
	}{
		{"[https]\naddress = \"127.0.0.1:8443\"\n", nil, "127.0.0.1:8443"},
		{"[https]\naddress = \"auto\"\n", nil, "127.0.0.1:5697"},
		{"[server]\nport = 7000\n[https]\naddress = \"auto\"\n", nil, "127.0.0.1:7001"},
		{"[https]\naddress = \":8443\"\n", nil, ":8443"},
		{"", []string{"-https-address", "127.0.0.1:9443"}, "127.0.0.1:9443"},
	} {
		c, err := load(t, tc.toml, tc.flags...)
		if err != nil || c.HTTPS.Address != tc.want {
			t.Errorf("%q %q: https.address = %q, %v; want %q", tc.toml, tc.flags, c.HTTPS.Address, err, tc.want)
		}
	}
	for _, tc := range []struct{ toml, want string }{
		{"[https]\naddress = \"8443\"\n", `config: https.address: "8443" is not host:port`},
		{"[https]\naddress = \"127.0.0.1:x\"\n", "config: https.address:"},
		{"[https]\naddress = \"127.0.0.1:70000\"\n", "config: https.address:"},
		{"[https]\naddress = \"127.0.0.1:5696\"\n", "is the KMIP port's address"},
		{"[server]\nport = 65535\n[https]\naddress = \"auto\"\n", "config: https.address: auto needs"},
		{"[https]\nport = 1\n", "config: https.port: unknown key"},
	} {
		if _, err := load(t, tc.toml); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.toml, err, tc.want)
		}
	}
}

func TestDevModeServesHTTPS(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{nil, "127.0.0.1:5697"},
		{[]string{"-port", "6000"}, "127.0.0.1:6001"},
		{[]string{"-https-address", ""}, ""},
	} {
		var f serveFlags
		fs := newServeFlagSet(&f, &bytes.Buffer{})
		if err := fs.Parse(append([]string{"-dev", "-dev-dir", dir}, tc.flags...)); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(fs, &f)
		if err != nil || c.HTTPS.Address != tc.want {
			t.Errorf("-dev %q: https.address %q, %v; want %q", tc.flags, c.HTTPS.Address, err, tc.want)
		}
	}
}
