// Package interop runs Debian's PyKMIP client (python3-pykmip 0.10) against
// the real kmipd binary, for every storage adapter and KMIP 1.2, 1.4 and 2.0.
package interop

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

// scenarios are the scenario names pykmip_client.py knows.
var scenarios = []string{"lifecycle", "register", "errors", "isolation"}

// secrets is the material the register scenario stores; the server log must
// never show it.
type secrets map[string][]byte

func newSecrets(t *testing.T) secrets {
	t.Helper()
	s := secrets{"symmetric_key": make([]byte, 16), "opaque": make([]byte, 24)}
	pw := make([]byte, 12)
	for _, b := range [][]byte{s["symmetric_key"], s["opaque"], pw} {
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
	}
	// A printable password, as users choose them.
	s["password"] = []byte("pw-" + base64.RawURLEncoding.EncodeToString(pw))
	return s
}

func (s secrets) hex() map[string]string {
	m := make(map[string]string, len(s))
	for k, v := range s {
		m[k] = hex.EncodeToString(v)
	}
	return m
}

// forms returns the ways a log could spell b: raw, hex, base64 and the
// JSON-escaped string a structured logger writes for raw bytes.
func forms(b []byte) map[string][]byte {
	esc, _ := json.Marshal(string(b))
	return map[string][]byte{
		"raw":           b,
		"hex":           []byte(hex.EncodeToString(b)),
		"HEX":           []byte(strings.ToUpper(hex.EncodeToString(b))),
		"base64":        []byte(base64.RawStdEncoding.EncodeToString(b)),
		"base64url":     []byte(base64.RawURLEncoding.EncodeToString(b)),
		"json-escaped":  esc[1 : len(esc)-1],
		"spaced-hex":    []byte(fmt.Sprintf("% x", b)),
		"go-byte-slice": []byte(strings.Trim(fmt.Sprint(b), "[]")),
	}
}

func TestPyKMIP(t *testing.T) {
	requirePyKMIP(t)
	py := script(t, "pykmip_client.py")
	for _, storage := range []string{"sqlite", "bbolt"} {
		for _, version := range []string{"1.2", "1.4", "2.0"} {
			t.Run(storage+"/KMIP-"+version, func(t *testing.T) {
				t.Parallel()
				srv := harness.Start(t, harness.Options{Storage: storage})
				sec := newSecrets(t)
				base := clientArgs(srv, version, "")
				base.BobCert, base.BobKey = issueBob(t, srv)
				base.Secrets = sec.hex()
				// Scenarios run one after another on this server: the
				// Locate paging checks need a result list nobody else
				// changes between two requests.
				var registered []string // identifiers the register scenario got
				for _, name := range scenarios {
					t.Run(name, func(t *testing.T) {
						args := base
						args.Scenario = name
						for _, s := range runScenario(t, py, args) {
							if uid, ok := s.Saw["uid"].(string); ok && name == "register" {
								registered = append(registered, uid)
							}
						}
					})
				}
				t.Run("log-has-no-key-material", func(t *testing.T) {
					// Stopping first makes sure every log line is written.
					srv.Stop(t)
					logs := []byte(srv.LogContents(t))
					if len(bytes.TrimSpace(logs)) == 0 {
						t.Fatalf("server log %s is empty; the check below could not fail", srv.LogPath)
					}
					t.Logf("server log: %d bytes, %d lines", len(logs), bytes.Count(logs, []byte("\n")))
					// The log must cover the Register requests, or not
					// finding the secrets in it would prove nothing.
					if len(registered) == 0 {
						t.Fatal("the register scenario reported no identifiers")
					}
					for _, uid := range registered {
						if !bytes.Contains(logs, []byte(uid)) {
							t.Errorf("server log %s never mentions registered object %s; it does not cover the requests it should be checked against", srv.LogPath, uid)
						}
					}
					for what, secret := range sec {
						for form, b := range forms(secret) {
							if bytes.Contains(logs, b) {
								t.Errorf("server log %s contains the registered %s (%s form)", srv.LogPath, what, form)
							}
						}
					}
				})
			})
		}
	}
}
