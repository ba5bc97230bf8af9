// Package interop runs Debian's PyKMIP client (python3-pykmip 0.10) against
// the real kmipd binary, for every storage adapter and KMIP 1.2, 1.4 and 2.0.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/test/harness"
)

// python is Debian's interpreter, the one python3-pykmip is installed for;
// the python3 first on PATH may be another one without it.
const python = "/usr/bin/python3"

// scenarios are the scenario names pykmip_client.py knows.
var scenarios = []string{"lifecycle", "register", "errors", "isolation"}

// step is one JSON line printed by pykmip_client.py.
type step struct {
	Step    string         `json:"step"`
	OK      bool           `json:"ok"`
	Skipped string         `json:"skipped"`
	Error   string         `json:"error"`
	Saw     map[string]any `json:"saw"`
}

// scenarioArgs is the JSON object pykmip_client.py reads on stdin.
type scenarioArgs struct {
	Host        string            `json:"host"`
	Port        int               `json:"port"`
	CA          string            `json:"ca"`
	Cert        string            `json:"cert"`
	Key         string            `json:"key"`
	BobCert     string            `json:"bob_cert"`
	BobKey      string            `json:"bob_key"`
	KMIPVersion string            `json:"kmip_version"`
	Scenario    string            `json:"scenario"`
	Secrets     map[string]string `json:"secrets"`
}

// requirePyKMIP skips the test when PyKMIP is missing, except on CI (CI set),
// which must have it.
func requirePyKMIP(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import kmip").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("PyKMIP is not importable by %s (%v: %s); install Debian's python3-pykmip", python, err, bytes.TrimSpace(out))
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: the interoperability tests must run)")
	}
	t.Skip(msg)
}

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
	script, err := filepath.Abs("pykmip_client.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, storage := range []string{"sqlite", "bbolt"} {
		for _, version := range []string{"1.2", "1.4", "2.0"} {
			t.Run(storage+"/KMIP-"+version, func(t *testing.T) {
				t.Parallel()
				srv := harness.Start(t, harness.Options{Storage: storage})
				bobCert, bobKey := issueBob(t, srv)
				sec := newSecrets(t)
				base := scenarioArgs{
					Host:        srv.Host,
					Port:        srv.Port,
					CA:          srv.PKI.CAFile,
					Cert:        srv.PKI.ClientCertFile,
					Key:         srv.PKI.ClientKeyFile,
					BobCert:     bobCert,
					BobKey:      bobKey,
					KMIPVersion: version,
					Secrets:     sec.hex(),
				}
				// Scenarios run one after another on this server: the
				// Locate paging checks need a result list nobody else
				// changes between two requests.
				var registered []string // identifiers the register scenario got
				for _, name := range scenarios {
					t.Run(name, func(t *testing.T) {
						args := base
						args.Scenario = name
						for _, s := range runScenario(t, script, args) {
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

// issueBob issues a certificate for a second client identity, "bob", from
// the server's development CA and returns the certificate and key paths.
func issueBob(t *testing.T, srv *harness.Server) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, err := srv.PKI.IssueClientCert(filepath.Join(srv.Dir, "bob"), "bob")
	if err != nil {
		t.Fatalf("issuing bob's certificate: %v", err)
	}
	return certFile, keyFile
}

// runScenario runs one scenario of pykmip_client.py and reports every step;
// it fails on any failed step, on a non-zero exit (with the script's
// stderr), and when the script did not reach its final "done" line. It
// returns the steps the script printed.
func runScenario(t *testing.T, script string, args scenarioArgs) []step {
	t.Helper()
	in, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	// A safety net against a hung connection, not an assertion: PyKMIP's
	// own socket timeout (30 s) normally ends a stuck request first.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var steps []step
	done, failed := false, 0
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var s step
		if err := json.Unmarshal(line, &s); err != nil {
			t.Errorf("script printed a line that is not a step: %q", line)
			continue
		}
		steps = append(steps, s)
		switch {
		case s.Step == "done" && s.OK:
			done = true
		case !s.OK:
			failed++
			t.Errorf("step %q failed: %s", s.Step, s.Error)
		case s.Skipped != "":
			t.Logf("step %q skipped: %s", s.Step, s.Skipped)
		default:
			saw, _ := json.Marshal(s.Saw)
			t.Logf("step %q ok: %s", s.Step, saw)
		}
	}
	if runErr != nil || failed > 0 || !done {
		t.Errorf("pykmip_client.py %s at KMIP %s: exit %v, %d failed steps, done=%v; stderr:\n%s",
			args.Scenario, args.KMIPVersion, runErr, failed, done, stderr.String())
	}
	return steps
}
