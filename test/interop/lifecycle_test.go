package interop

import (
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

// TestPyKMIPLifecycle runs lifecycle_pykmip.py: keys whose Activation and
// Deactivation Dates drive their state, Revoke with and without compromise,
// Re-key with and without an Offset, and Check, at KMIP 1.2, 1.4 and 2.0.
func TestPyKMIPLifecycle(t *testing.T) {
	requirePyKMIP(t)
	py := script(t, "lifecycle_pykmip.py")
	for _, version := range []string{"1.2", "1.4", "2.0"} {
		t.Run("KMIP-"+version, func(t *testing.T) {
			srv := harness.Start(t, harness.Options{Storage: "sqlite"})
			runScenario(t, py, clientArgs(srv, version, "lifecycle-dates"))
		})
	}
}
