package multinode

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

// Debian's PyKMIP creates a key on node A and reads, activates, re-keys,
// revokes and destroys it on node B; A then answers Item Not Found for it
// (issue 15.7).
func TestPostgresPyKMIPAcrossNodes(t *testing.T) {
	const python = "/usr/bin/python3" // Debian's, the one python3-pykmip is for
	if out, err := exec.Command(python, "-c", "import kmip").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PyKMIP is needed on CI: %v: %s", err, out)
		}
		t.Skipf("PyKMIP not importable (%v); apt-get install python3-pykmip", err)
	}
	nodes := pgNodes(t, 2)
	node := func(s *harness.Server) map[string]any {
		return map[string]any{"host": s.Host, "port": s.Port, "ca": s.PKI.CAFile, "cert": s.PKI.ClientCertFile, "key": s.PKI.ClientKeyFile}
	}
	in, _ := json.Marshal(map[string]any{"a": node(nodes[0]), "b": node(nodes[1])})
	script, err := filepath.Abs("pykmip_nodes.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Fatalf("pykmip_nodes.py: %v\n%s", err, out)
	}
}
