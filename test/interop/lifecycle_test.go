package interop

import (
	"path/filepath"
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

// TestPyKMIPLifecycle runs lifecycle_pykmip.py: keys whose Activation and
// Deactivation Dates drive their state, Revoke with and without compromise,
// Re-key with and without an Offset, and Check, at KMIP 1.2, 1.4 and 2.0.
func TestPyKMIPLifecycle(t *testing.T) {
	requirePyKMIP(t)
	script, err := filepath.Abs("lifecycle_pykmip.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"1.2", "1.4", "2.0"} {
		t.Run("KMIP-"+version, func(t *testing.T) {
			srv := harness.Start(t, harness.Options{Storage: "sqlite"})
			runScenario(t, script, scenarioArgs{
				Host: srv.Host, Port: srv.Port, CA: srv.PKI.CAFile,
				Cert: srv.PKI.ClientCertFile, Key: srv.PKI.ClientKeyFile,
				KMIPVersion: version, Scenario: "lifecycle-dates",
			})
		})
	}
}
