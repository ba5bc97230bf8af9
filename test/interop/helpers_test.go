package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmipd/kmipd/test/harness"
)

// python is Debian's interpreter, the one python3-pykmip is installed for;
// the python3 first on PATH may be another one without it.
const python = "/usr/bin/python3"

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

// clientArgs are the arguments every script needs to reach srv as its
// admin client at the given KMIP version.
func clientArgs(srv *harness.Server, version, scenario string) scenarioArgs {
	return scenarioArgs{
		Host: srv.Host, Port: srv.Port, CA: srv.PKI.CAFile,
		Cert: srv.PKI.ClientCertFile, Key: srv.PKI.ClientKeyFile,
		KMIPVersion: version, Scenario: scenario,
	}
}

// script is the absolute path of one of this directory's Python scripts.
func script(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
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
