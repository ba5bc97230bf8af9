package interop

import (
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

// TestPyKMIPObjects registers and gets every object type PyKMIP's client
// supports, converts keys between formats on Get, and checks the refusals
// (objects_pykmip.py), at KMIP 1.2, 1.4 and 2.0.
func TestPyKMIPObjects(t *testing.T) {
	requirePyKMIP(t)
	py := script(t, "objects_pykmip.py")
	for _, version := range []string{"1.2", "1.4", "2.0"} {
		t.Run("KMIP-"+version, func(t *testing.T) {
			t.Parallel()
			srv := harness.Start(t, harness.Options{Storage: "sqlite"})
			steps := runScenario(t, py, clientArgs(srv, version, "objects"))
			if len(steps) < 20 {
				t.Errorf("the script reported %d steps; it stopped early", len(steps))
			}
		})
	}
}
