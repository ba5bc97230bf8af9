package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
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

// TestListenersShareSettings: every [server] limit and timeout reaches the
// TTLV server's Settings, and the HTTPS server gets that same value.
func TestListenersShareSettings(t *testing.T) {
	c, err := load(t, "[server]\nmax_message_size = 70000\nread_timeout = \"3s\"\nwrite_timeout = \"4s\"\nidle_timeout = \"5s\"\n"+
		"handshake_timeout = \"6s\"\nmax_connections = 7\nrequest_timeout = \"8s\"\nmax_nesting_depth = 9\nmax_message_items = 1000\n")
	if err != nil {
		t.Fatal(err)
	}
	got := listenerSettings(c.Server)
	want := kmiptls.Settings{MaxMessageSize: 70000, ReadTimeout: 3 * time.Second, WriteTimeout: 4 * time.Second,
		IdleTimeout: 5 * time.Second, HandshakeTimeout: 6 * time.Second, MaxConnections: 7, RequestTimeout: 8 * time.Second,
		Limits: ttlv.Limits{MaxDepth: 9, MaxItems: 1000}}
	if got != want {
		t.Errorf("listenerSettings = %+v, want %+v", got, want)
	}
	called := false
	tt := &kmiptls.Server{Settings: got, RequireClientAuthEKU: true, CRL: &kmiptls.CRL{},
		Authenticate: func(_ context.Context, who domain.Principal, _ *kmip.Item) (domain.Principal, error) {
			called = true
			return who, nil
		}}
	h, err := listenHTTPS(HTTPSConfig{Address: "127.0.0.1:0"}, tt, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer h.ln.Close()
	if h.srv.Settings != got {
		t.Errorf("HTTPS settings %+v, want the TTLV server's %+v", h.srv.Settings, got)
	}
	a := h.srv.Auth
	if !a.RequireClientAuthEKU || a.CRL != tt.CRL || a.ThirdParty == nil {
		t.Fatalf("HTTPS authenticator %+v, want the TTLV server's", a)
	}
	if _, err := a.ThirdParty(context.Background(), domain.Principal{Name: "alice"}, nil); err != nil || !called {
		t.Errorf("the HTTPS third-party step is not the TTLV server's: %v", err)
	}
}
