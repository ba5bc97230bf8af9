package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAuthConfig(t *testing.T) {
	c, err := load(t, `
[auth.slugs.zeta]
enabled = true
url = "http://127.0.0.1:1/slugs/"

[auth.slugs.alpha]
enabled = "True"
url = "http://127.0.0.1:2/slugs"
timeout = "2s"
cache_ttl = "0s"

[auth.slugs.off]
enabled = false

[policy]
poll_interval = "250ms"
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Auth.names(), ","); got != "zeta,alpha,off" {
		t.Errorf("order %s, want the file's", got)
	}
	z, a := c.Auth.SLUGS["zeta"], c.Auth.SLUGS["alpha"]
	if !bool(z.Enabled) || time.Duration(z.Timeout) != 5*time.Second || *z.CacheTTL != 0 {
		t.Errorf("zeta defaults: %+v ttl %v", z, *z.CacheTTL)
	}
	if !bool(a.Enabled) || time.Duration(a.Timeout) != 2*time.Second || *a.CacheTTL != 0 {
		t.Errorf("alpha: %+v", a)
	}
	if time.Duration(c.Policy.PollInterval) != 250*time.Millisecond {
		t.Errorf("poll interval %v", c.Policy.PollInterval)
	}
	d, err := load(t, "")
	if err != nil || time.Duration(d.Policy.PollInterval) != time.Second || len(d.Auth.SLUGS) != 0 {
		t.Errorf("defaults: %+v %v", d.Policy, err)
	}
}

func TestBadAuthConfigs(t *testing.T) {
	for _, c := range []struct{ toml, key string }{
		{"[auth.slugs.a]\nenabled = true\n", "auth.slugs.a.url"},
		{"[auth.slugs.a]\nenabled = true\nurl = \"ftp://h/\"\n", "auth.slugs.a.url"},
		{"[auth.slugs.a]\nurl = \"http://h/\"\npassword = \"x\"\n", "auth.slugs.a.password"},
		{"[auth.slugs.a]\ncache_ttl = \"-1s\"\n", "auth.slugs.a.cache_ttl"},
		{"[auth.slugs.a]\ntimeout = 5\n", "timeout"},
		{"[policy]\npoll_interval = \"-1s\"\n", "policy.poll_interval"},
		{"[auth.ldap.a]\nurl = \"http://h/\"\n", "auth.ldap"},
	} {
		_, err := load(t, c.toml)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%q: err %v, want one naming %s", c.toml, err, c.key)
		}
	}
}

// pykmipConf is the seed's example configuration with SLUGS blocks.
const pykmipConf = `# PyKMIP server configuration
[server]
hostname=127.0.0.1
port=5696
certificate_path=/path/to/certificate/file
key_path=/path/to/certificate/key/file
ca_path=/path/to/ca/certificate/file
auth_suite=Basic
policy_path=/path/to/policy/file
enable_tls_client_auth=True
tls_cipher_suites=
    TLS_RSA_WITH_AES_128_CBC_SHA256
    TLS_RSA_WITH_AES_256_CBC_SHA256
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
logging_level=DEBUG
database_path=/tmp/pykmip.db

[auth:slugs:primary]
enabled=True
url=http://127.0.0.1:8080/slugs/

[auth:slugs]
enabled=true
url: http://127.0.0.1:8081/slugs/

[auth:other]
enabled=True
`

func TestConfigConvert(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.conf")
	os.WriteFile(path, []byte(pykmipConf), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"config", "convert", path}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"[server]\nhostname = \"127.0.0.1\"\nport = 5696\n",
		`tls_cipher_suites = ["TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"]`,
		"enable_tls_client_auth = true\n",
		"policy_path = \"/path/to/policy/file\"\n",
		"database_path = \"/tmp/pykmip.db\"\n",
		"[auth.slugs.primary]\nenabled = true\nurl = \"http://127.0.0.1:8080/slugs/\"\n",
		"[auth.slugs.default]\nenabled = false\nurl = \"http://127.0.0.1:8081/slugs/\"\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errb.String(), "[auth:other]") || !strings.Contains(errb.String(), `only enables a plugin for "True"`) {
		t.Errorf("warnings: %s", errb.String())
	}
	// The output is a configuration kmipd loads, with the blocks' order.
	c, err := load(t, out.String())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Auth.names(), ",") != "primary,default" || len(c.Server.TLSCipherSuites) != 3 || c.Server.Port != 5696 {
		t.Errorf("loaded %+v %v", c.Auth, c.Server.TLSCipherSuites)
	}
}

func TestConfigConvertErrors(t *testing.T) {
	dir := t.TempDir()
	for name, conf := range map[string]string{
		"bad port":  "[server]\nport=http\n",
		"no header": "port=1\n",
		"bad url":   "[auth:slugs]\nenabled=True\nurl=ftp://x/\n",
		"no url":    "[auth:slugs]\nenabled=True\n",
	} {
		path := filepath.Join(dir, "c.conf")
		os.WriteFile(path, []byte(conf), 0o600)
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"config", "convert", path}, &out, &errb); code == exitOK {
			t.Errorf("%s: converted:\n%s", name, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"config", "convert"}, &out, &errb); code != exitUsage {
		t.Errorf("missing argument: exit %d", code)
	}
}

func TestPolicyCheck(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.json"), []byte(`{"example": {"preset": {"CERTIFICATE": {"LOCATE": "ALLOW_ALL"}},
		"groups": {"group_A": {"CERTIFICATE": {"DESTROY": "ALLOW_ALL"}}}}, "public": {"TEMPLATE": {"DESTROY": "ALLOW_ALL"}}}`), 0o600)
	os.WriteFile(filepath.Join(dir, "b.json"), []byte(`{"example": {"SYMMETRIC_KEY": {"GET": "ALLOW_OWNER"}}}`), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte(`not json`), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"policy", "check", dir}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	s := out.String()
	for _, want := range []string{"a.json: OK, 2 policies", `policy "public": WARNING: reserved name`,
		"preset         CERTIFICATE  LOCATE   ALLOW_ALL", "group group_A  CERTIFICATE  DESTROY  ALLOW_ALL",
		`policy "example": WARNING: also defined in ` + filepath.Join(dir, "a.json"), "SYMMETRIC_KEY  GET  ALLOW_OWNER",
		"anything not listed: DISALLOW_ALL"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "notes.txt") {
		t.Error("non-JSON files are not policy files")
	}
	os.WriteFile(filepath.Join(dir, "c.json"), []byte(`{"x": {"preset": {"CERTIFICATE": {"GET": "ALLOW_SOME"}}}}`), 0o600)
	out.Reset()
	if code := run(context.Background(), []string{"policy", "check", dir}, &out, &errb); code != exitFailed {
		t.Errorf("a malformed file: exit %d", code)
	}
	if !strings.Contains(out.String(), `c.json: ERROR: policy "x"`) {
		t.Errorf("output: %s", out.String())
	}
	if code := run(context.Background(), []string{"policy", "check"}, &out, &errb); code != exitUsage {
		t.Errorf("no directory: exit %d", code)
	}
}
