package interop

import (
	"path/filepath"
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

// TestPyKMIPAttributes runs attrs_pykmip.py (PyKMIP's attribute operations,
// custom x- attributes, Fresh and Sensitive) against kmipd at each KMIP
// version PyKMIP speaks.
func TestPyKMIPAttributes(t *testing.T) {
	requirePyKMIP(t)
	script, err := filepath.Abs("attrs_pykmip.py")
	if err != nil {
		t.Fatal(err)
	}
	srv := harness.Start(t, harness.Options{Storage: "sqlite"})
	for _, version := range []string{"1.2", "1.4", "2.0"} {
		t.Run("KMIP-"+version, func(t *testing.T) {
			runScenario(t, script, scenarioArgs{
				Host: srv.Host, Port: srv.Port, CA: srv.PKI.CAFile,
				Cert: srv.PKI.ClientCertFile, Key: srv.PKI.ClientKeyFile,
				KMIPVersion: version, Scenario: "attributes",
			})
		})
	}
}
