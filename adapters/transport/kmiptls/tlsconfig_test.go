package kmiptls

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseCipherSuites(t *testing.T) {
	tests := []struct {
		name     string
		in       []string
		want12   []uint16
		want13   []uint16
		warnings int
		err      string
	}{
		{name: "go name", in: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
			want12: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
		{name: "go constant spelling of chacha", in: []string{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"},
			want12: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}},
		{name: "openssl name", in: []string{"ECDHE-ECDSA-AES128-GCM-SHA256"},
			want12: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}},
		{name: "pykmip insecure name warns", in: []string{"TLS_RSA_WITH_AES_128_CBC_SHA256"},
			want12: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA256}, warnings: 1},
		{name: "pykmip openssl name, case and spaces", in: []string{" aes128-sha256 "},
			want12: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA256}, warnings: 1},
		{name: "duplicates collapse", in: []string{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
			want12: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}},
		{name: "pykmip documented example", in: []string{
			"TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
			want12: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA256}, warnings: 3},
		{name: "unsupported DHE and CAMELLIA skipped", in: []string{
			"DHE-RSA-AES128-SHA256", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
			want12: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, warnings: 2},
		{name: "tls 1.3 only", in: []string{"TLS_AES_128_GCM_SHA256"},
			want13: []uint16{tls.TLS_AES_128_GCM_SHA256}, warnings: 1},
		{name: "unknown name", in: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_BOGUS_SUITE"}, err: `"TLS_BOGUS_SUITE"`},
		{name: "nothing usable", in: []string{"DHE-RSA-AES256-SHA256", "TLS_PSK_WITH_AES_128_CBC_SHA"}, err: "none of", warnings: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel, warnings, err := parseCipherSuites(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sel.tls12, tc.want12) || !slices.Equal(sel.tls13, tc.want13) {
				t.Errorf("suites = %x / %x, want %x / %x", sel.tls12, sel.tls13, tc.want12, tc.want13)
			}
			if len(warnings) != tc.warnings {
				t.Errorf("warnings = %q, want %d", warnings, tc.warnings)
			}
		})
	}
}

// Every IANA name in the table is either implemented by Go or reported as a
// warning, never as unknown.
func TestKnownSuitesAreKnown(t *testing.T) {
	for _, k := range knownSuites {
		for _, n := range []string{k.iana, k.openssl} {
			if n == "" {
				continue
			}
			if _, _, err := parseCipherSuites([]string{n, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}); err != nil {
				t.Errorf("%s: %v", n, err)
			}
		}
	}
}

func TestNewTLSConfig(t *testing.T) {
	p := pki(t)
	base := TLSOptions{CertFile: p.ServerCert, KeyFile: p.ServerKey, CAFile: p.CACert}

	cfg, warnings, err := NewTLSConfig(base)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("NewTLSConfig: %v, warnings %q", err, warnings)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.ClientAuth != tls.RequireAndVerifyClientCert ||
		cfg.ClientCAs == nil || len(cfg.Certificates) != 1 || !slices.Equal(cfg.CipherSuites, DefaultCipherSuites) {
		t.Fatalf("unexpected config: %+v", cfg)
	}

	for _, suite := range []string{"Basic", "TLS1.2", ""} {
		o := base
		o.AuthSuite = suite
		if _, _, err := NewTLSConfig(o); err != nil {
			t.Errorf("auth_suite %q: %v", suite, err)
		}
	}

	o := base
	o.CipherSuites = []string{"TLS_AES_256_GCM_SHA384"}
	if cfg, _, err := NewTLSConfig(o); err != nil || cfg.MinVersion != tls.VersionTLS13 {
		t.Errorf("TLS 1.3-only suites: %v, MinVersion %x", err, cfg.MinVersion)
	}
	o.CipherSuites = []string{"ECDHE-RSA-AES128-GCM-SHA256"} // the dev server key is ECDSA
	if _, warnings, err := NewTLSConfig(o); err != nil || len(warnings) != 1 {
		t.Errorf("suites not fitting the key: %v, warnings %q", err, warnings)
	}

	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("nothing here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	bad := []struct {
		name string
		mod  func(*TLSOptions)
		want string
	}{
		{"auth suite", func(o *TLSOptions) { o.AuthSuite = "TLS1.0" }, `auth_suite "TLS1.0"`},
		{"min version", func(o *TLSOptions) { o.MinVersion = tls.VersionTLS11 }, "minimum version"},
		{"missing cert", func(o *TLSOptions) { o.CertFile = missing }, `certificate_path "` + missing + `"`},
		{"cert without PEM", func(o *TLSOptions) { o.CertFile = empty }, `certificate_path "` + empty + `": no PEM certificate found`},
		{"missing key", func(o *TLSOptions) { o.KeyFile = missing }, `key_path "` + missing + `"`},
		{"key of another cert", func(o *TLSOptions) { o.KeyFile = p.ClientKey }, `key_path "` + p.ClientKey + `"`},
		{"no key anywhere", func(o *TLSOptions) { o.KeyFile = "" }, `certificate_path "` + p.ServerCert + `"`},
		{"missing CA", func(o *TLSOptions) { o.CAFile = missing }, `ca_path "` + missing + `"`},
		{"CA without PEM", func(o *TLSOptions) { o.CAFile = empty }, `ca_path "` + empty + `": no PEM certificate found`},
		{"no CA", func(o *TLSOptions) { o.CAFile = "" }, "ca_path"},
		{"unknown suite", func(o *TLSOptions) { o.CipherSuites = []string{"FOO"} }, `"FOO"`},
	}
	for _, tc := range bad {
		o := base
		tc.mod(&o)
		if _, _, err := NewTLSConfig(o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %s", tc.name, err, tc.want)
		}
	}
}

// Configured suites really restrict TLS 1.2.
func TestCipherSuitesRestrictTLS12(t *testing.T) {
	p := pki(t)
	cfg, _, err := NewTLSConfig(TLSOptions{CertFile: p.ServerCert, KeyFile: p.ServerKey, CAFile: p.CACert,
		CipherSuites: []string{"ECDHE-ECDSA-AES128-GCM-SHA256"}})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, nil, func(s *Server) { s.TLSConfig = cfg })
	client := func(suite uint16) *tls.Config {
		c := adminConfig(t)
		c.MaxVersion = tls.VersionTLS12
		c.CipherSuites = []uint16{suite}
		return c
	}
	if _, err := dial(t, ts.addr, client(tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)); err == nil {
		t.Error("handshake with a suite outside the configured list succeeded")
	}
	c, err := dial(t, ts.addr, client(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c, testRequest); err != nil {
		t.Fatal(err)
	}
}
