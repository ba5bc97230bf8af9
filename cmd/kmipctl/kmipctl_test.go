package main

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kmipd/kmipd/test/harness"
)

// ctl runs kmipctl in-process against a server.
type ctl struct {
	t    *testing.T
	conf string // a pykmip.conf naming the server and the admin client
	env  map[string]string
}

// output is one kmipctl run.
type output struct {
	code           int
	stdout, stderr string
}

func newCtl(t *testing.T, srv *harness.Server) *ctl {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "pykmip.conf")
	text := fmt.Sprintf("[client]\nhost=%s\nport=%d\ncertfile=%s\nkeyfile=%s\nca_certs=%s\ncert_reqs=CERT_REQUIRED\n",
		srv.Host, srv.Port, srv.PKI.ClientCertFile, srv.PKI.ClientKeyFile, srv.PKI.CAFile)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &ctl{t: t, conf: conf, env: map[string]string{"KMIPCTL_CONFIG": conf}}
}

func (c *ctl) run(stdin string, args ...string) output {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return c.env[k] }}
	code := run(context.Background(), e, args)
	return output{code, stdout.String(), stderr.String()}
}

// ok runs kmipctl with -o json and returns the decoded object, failing the
// test unless it exits 0.
func (c *ctl) ok(stdin string, args ...string) map[string]any {
	c.t.Helper()
	o := c.run(stdin, append(args, "-o", "json")...)
	if o.code != exitOK {
		c.t.Fatalf("kmipctl %s: exit %d: %s", strings.Join(args, " "), o.code, o.stderr)
	}
	m := map[string]any{}
	if o.stdout != "" {
		if err := json.Unmarshal([]byte(o.stdout), &m); err != nil {
			c.t.Fatalf("kmipctl %s: %v in %q", strings.Join(args, " "), err, o.stdout)
		}
	}
	return m
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// TestKeyLifecycle drives a symmetric key through create, attributes,
// locate, encrypt/decrypt, get, revoke and destroy at KMIP 1.4 and 2.1, and
// checks the ciphertext against Go's own AES; KMIP 1.0 creates and locates.
func TestKeyLifecycle(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	parent := newCtl(t, srv)
	for _, version := range []string{"1.4", "2.1", "1.2"} {
		t.Run(version, func(t *testing.T) {
			c := &ctl{t: t, conf: parent.conf, env: parent.env}
			v := []string{"-kmip", version}
			name := "ctl-" + version
			id := str(c.ok("", append([]string{"create", "-name", name, "-length", "128"}, v...)...), "Unique Identifier")
			if id == "" {
				t.Fatal("create printed no Unique Identifier")
			}
			attrs := c.ok("", append([]string{"attrs", "get", id, "State", "Cryptographic Usage Mask", "Cryptographic Algorithm"}, v...)...)
			if str(attrs, "State") != "PreActive" || str(attrs, "Cryptographic Usage Mask") != "Encrypt|Decrypt" || str(attrs, "Cryptographic Algorithm") != "AES" {
				t.Errorf("attributes: %v", attrs)
			}
			if got := str(c.ok("", append([]string{"locate", "-name", name}, v...)...), "Unique Identifier"); got != id {
				t.Errorf("locate by name: %q, want %q", got, id)
			}
			c.ok("", append([]string{"activate", id}, v...)...)
			{
				c.ok("", append([]string{"attrs", "add", id, "x-team=payments"}, v...)...)
				if got := str(c.ok("", append([]string{"attrs", "get", id, "x-team"}, v...)...), "x-team"); got != "payments" {
					t.Errorf("custom attribute: %q", got)
				}
				c.ok("", append([]string{"attrs", "set", id, "x-team=billing"}, v...)...)
				c.ok("", append([]string{"attrs", "delete", id, "x-team"}, v...)...)
				if o := c.run("", append([]string{"attrs", "get", id, "x-team", "-o", "json"}, v...)...); strings.Contains(o.stdout, "billing") {
					t.Errorf("deleted attribute still there: %s", o.stdout)
				}
			}
			keyFile := filepath.Join(t.TempDir(), "key.bin")
			c.ok("", append([]string{"get", id, "-out", keyFile}, v...)...)
			key, err := os.ReadFile(keyFile)
			if err != nil || len(key) != 16 {
				t.Fatalf("get -out: %d bytes, %v", len(key), err)
			}
			iv := "000102030405060708090a0b0c0d0e0f"
			enc := c.ok("attack at dawn!!", append([]string{"encrypt", id, "-mode", "CBC", "-padding", "None", "-iv", iv}, v...)...)
			want := make([]byte, 16)
			ivb, _ := hex.DecodeString(iv)
			blk, _ := aes.NewCipher(key)
			cipher.NewCBCEncrypter(blk, ivb).CryptBlocks(want, []byte("attack at dawn!!"))
			if str(enc, "Data") != hex.EncodeToString(want) {
				t.Errorf("ciphertext %s, want %x", str(enc, "Data"), want)
			}
			ctFile := filepath.Join(t.TempDir(), "ct")
			os.WriteFile(ctFile, want, 0o600)
			o := c.run("", append([]string{"decrypt", id, "-mode", "CBC", "-padding", "None", "-iv", iv, "-in", ctFile, "-out", "-"}, v...)...)
			if o.code != 0 || o.stdout != "attack at dawn!!" {
				t.Errorf("decrypt: exit %d, %q, %s", o.code, o.stdout, o.stderr)
			}
			c.ok("", append([]string{"revoke", id, "-reason", "compromise"}, v...)...)
			c.ok("", append([]string{"destroy", id}, v...)...)
			if st := str(c.ok("", append([]string{"attrs", "get", id, "State"}, v...)...), "State"); st != "DestroyedCompromised" {
				t.Errorf("state after revoke and destroy: %q", st)
			}
		})
	}
	id := str(parent.ok("", "create", "-kmip", "1.0", "-name", "ctl-1.0"), "Unique Identifier")
	if got := str(parent.ok("", "locate", "-kmip", "1.0", "-name", "ctl-1.0"), "Unique Identifier"); id == "" || got != id {
		t.Errorf("KMIP 1.0 create and locate: %q, %q", id, got)
	}
}

// TestGetNeverPrintsMaterial: without -out, get describes the object but
// prints none of its key bytes.
func TestGetNeverPrintsMaterial(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	c := newCtl(t, srv)
	keyHex := "00112233445566778899aabbccddeeff"
	id := str(c.ok(keyHex, "register", "-hex", "-alg", "AES", "-usage", "Encrypt"), "Unique Identifier")
	o := c.run("", "get", id)
	if o.code != 0 || !strings.Contains(o.stdout, "SymmetricKey") {
		t.Fatalf("get: exit %d %q %q", o.code, o.stdout, o.stderr)
	}
	if strings.Contains(strings.ToLower(o.stdout+o.stderr), keyHex) {
		t.Errorf("get printed the key: %q", o.stdout)
	}
	o = c.run("", "get", id, "-out", "-")
	if o.stdout != string(must(hex.DecodeString(keyHex))) {
		t.Errorf("get -out -: %x", o.stdout)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestKeyPairSignVerify: an EC and an RSA pair sign and verify; a changed
// message verifies Invalid with exit status 2; the public key comes back as
// PEM and registers again.
func TestKeyPairSignVerify(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	parent := newCtl(t, srv)
	for _, tc := range []struct{ name, sigAlg string }{
		{"EC", "ECDSAWithSHA256"}, {"RSA", "SHA256WithRSAEncryption"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &ctl{t: t, conf: parent.conf, env: parent.env}
			args := []string{"create-key-pair", "-alg", tc.name, "-name", "pair-" + tc.name}
			if tc.name == "EC" {
				args = append(args, "-curve", "P_256", "-length", "256")
			}
			pair := c.ok("", args...)
			priv, pub := str(pair, "Private Key Unique Identifier"), str(pair, "Public Key Unique Identifier")
			c.ok("", "activate", priv)
			c.ok("", "activate", pub)
			dir := t.TempDir()
			msg, sig := filepath.Join(dir, "msg"), filepath.Join(dir, "sig")
			os.WriteFile(msg, []byte("pay 100 to bob"), 0o600)
			c.ok("", "sign", priv, "-in", msg, "-sig-alg", tc.sigAlg, "-out", sig)
			if o := c.run("", "verify", pub, "-in", msg, "-sig", sig, "-sig-alg", tc.sigAlg); o.code != exitOK || !strings.Contains(o.stdout, "Valid") {
				t.Errorf("verify: exit %d %q %q", o.code, o.stdout, o.stderr)
			}
			os.WriteFile(msg, []byte("pay 900 to bob"), 0o600)
			if o := c.run("", "verify", pub, "-in", msg, "-sig", sig, "-sig-alg", tc.sigAlg); o.code != exitInvalid || !strings.Contains(o.stdout, "Invalid") {
				t.Errorf("verify of a changed message: exit %d %q, want %d and Invalid", o.code, o.stdout, exitInvalid)
			}
			pem := filepath.Join(dir, "pub.pem")
			c.ok("", "get", pub, "-format", "X_509", "-pem", "-out", pem)
			if b, _ := os.ReadFile(pem); !bytes.HasPrefix(b, []byte("-----BEGIN PUBLIC KEY-----")) {
				t.Errorf("get -pem: %q", b)
			}
			if id := str(c.ok("", "register", "-type", "public", "-in", pem), "Unique Identifier"); id == "" {
				t.Error("register of the PEM public key printed no identifier")
			}
		})
	}
}

// TestMACAndRNG: an HMAC key MACs and verifies; rng returns the bytes asked.
func TestMACAndRNG(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	c := newCtl(t, srv)
	id := str(c.ok("", "create", "-alg", "HMAC_SHA256", "-length", "256", "-usage", "MACGenerate|MACVerify"), "Unique Identifier")
	c.ok("", "activate", id)
	mac := str(c.ok("hello", "mac", id, "-alg", "HMAC_SHA256"), "MAC Data")
	if len(mac) != 64 {
		t.Fatalf("MAC %q", mac)
	}
	if o := c.run("hello", "mac-verify", id, "-alg", "HMAC_SHA256", "-mac-hex", mac); o.code != exitOK {
		t.Errorf("mac-verify: exit %d %s", o.code, o.stderr)
	}
	if o := c.run("hellO", "mac-verify", id, "-alg", "HMAC_SHA256", "-mac-hex", mac); o.code != exitInvalid {
		t.Errorf("mac-verify of other data: exit %d, want %d", o.code, exitInvalid)
	}
	if got := str(c.ok("", "rng", "-n", "24"), "Data"); len(got) != 48 {
		t.Errorf("rng -n 24: %q", got)
	}
}

// TestExitStatuses: scripts can tell a refused operation, a usage error, a
// missing input and an unreachable server apart.
func TestExitStatuses(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	c := newCtl(t, srv)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"refused", []string{"get", "no-such-object"}, exitFailed, "ItemNotFound"},
		{"unknown command", []string{"frobnicate"}, exitUsage, "unknown command"},
		{"missing argument", []string{"get"}, exitUsage, "wrong number of arguments"},
		{"bad flag value", []string{"create", "-alg", "NOPE"}, exitUsage, "NOPE"},
		{"bad version", []string{"query", "-kmip", "3.0"}, exitUsage, "-kmip"},
		{"missing input", []string{"encrypt", "x", "-in", "/nonexistent/file"}, exitNoInput, "/nonexistent/file"},
		{"unreachable", []string{"query", "-addr", fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))}, exitConnect, "connecting"},
	} {
		o := c.run("", tc.args...)
		if o.code != tc.code || !strings.Contains(o.stderr, tc.msg) || strings.Count(o.stderr, "\n") > 1 && tc.code != exitUsage {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.name, o.code, o.stderr, tc.code, tc.msg)
		}
	}
	for _, args := range [][]string{{"-h"}, {"get", "-h"}, {"attrs", "-h"}, {"encrypt", "-h"}} {
		if o := c.run("", args...); o.code != exitOK || !strings.Contains(o.stderr, "Usage") {
			t.Errorf("%v: exit %d, %q", args, o.code, o.stderr)
		}
	}
}

// TestConnectionFromFlagsAndEnvironment: flags and environment variables
// work without a configuration file, flags winning.
func TestConnectionFromFlagsAndEnvironment(t *testing.T) {
	srv := harness.Start(t, harness.Options{})
	c := newCtl(t, srv)
	c.env = map[string]string{"KMIPCTL_ADDR": srv.Addr, "KMIPCTL_CERT": srv.PKI.ClientCertFile,
		"KMIPCTL_KEY": srv.PKI.ClientKeyFile, "KMIPCTL_CA": srv.PKI.CAFile}
	if o := c.run("", "query"); o.code != 0 || !strings.Contains(o.stdout, "kmipd") {
		t.Errorf("query from the environment: exit %d %q %q", o.code, o.stdout, o.stderr)
	}
	c.env["KMIPCTL_ADDR"] = "127.0.0.1:1"
	if o := c.run("", "query", "-addr", srv.Addr); o.code != 0 {
		t.Errorf("-addr did not win over KMIPCTL_ADDR: exit %d %q", o.code, o.stderr)
	}
	c.env = map[string]string{}
	if o := c.run("", "query"); o.code != exitUsage || !strings.Contains(o.stderr, "client certificate") {
		t.Errorf("no credentials: exit %d %q", o.code, o.stderr)
	}
}

// TestCredentials: with -user and -password-file kmipctl sends a Username
// and Password credential; kmipd (credentials = "verify") runs each request
// as that user, so one user's key is not another's, and a wrong password is
// refused.
func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	pwfile := filepath.Join(dir, "passwords")
	os.WriteFile(pwfile, []byte("ann:"+hash("ann-secret")+"\nben:"+hash("ben-secret")+"\n"), 0o600)
	srv := harness.Start(t, harness.Options{ExtraTOML: fmt.Sprintf(
		"[auth]\ncredentials = \"verify\"\npassword_file = %q\ncredential_certificates = [\"admin\"]\n", pwfile)})
	c := newCtl(t, srv)
	secret := func(name, pw string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(pw+"\n"), 0o600)
		return p
	}
	ann, ben, wrong := secret("ann", "ann-secret"), secret("ben", "ben-secret"), secret("wrong", "nope")
	id := str(c.ok("", "create", "-user", "ann", "-password-file", ann), "Unique Identifier")
	if o := c.run("", "get", id, "-user", "ann", "-password-file", ann); o.code != exitOK {
		t.Errorf("ann's Get of her key: exit %d %s", o.code, o.stderr)
	}
	if o := c.run("", "get", id, "-user", "ben", "-password-file", ben); o.code != exitFailed || !strings.Contains(o.stderr, "PermissionDenied") {
		t.Errorf("ben's Get of ann's key: exit %d %q, want Permission Denied", o.code, o.stderr)
	}
	if o := c.run("", "query", "-user", "ann", "-password-file", wrong); o.code != exitFailed || !strings.Contains(o.stderr, "AuthenticationNotSuccessful") {
		t.Errorf("a wrong password: exit %d %q", o.code, o.stderr)
	}
	if o := c.run("", "query", "-user", "ann"); o.code != exitUsage {
		t.Errorf("-user without -password-file: exit %d", o.code)
	}
}
