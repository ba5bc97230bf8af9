package interop

import (
	"path/filepath"
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

// TestPyKMIPObjects registers and gets every object type PyKMIP's client
// supports, converts keys between formats on Get, and checks the refusals
// (objects_pykmip.py), at KMIP 1.2, 1.4 and 2.0.
func TestPyKMIPObjects(t *testing.T) {
	requirePyKMIP(t)
	script, err := filepath.Abs("objects_pykmip.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"1.2", "1.4", "2.0"} {
		t.Run("KMIP-"+version, func(t *testing.T) {
			t.Parallel()
			srv := harness.Start(t, harness.Options{Storage: "sqlite"})
			steps := runScenario(t, script, scenarioArgs{
				Host: srv.Host, Port: srv.Port, CA: srv.PKI.CAFile,
				Cert: srv.PKI.ClientCertFile, Key: srv.PKI.ClientKeyFile,
				KMIPVersion: version, Scenario: "objects",
			})
			if len(steps) < 20 {
				t.Errorf("the script reported %d steps; it stopped early", len(steps))
			}
		})
	}
}
