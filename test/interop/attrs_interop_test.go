package interop

import (
	"testing"

	"github.com/kmipd/kmipd/test/harness"
)

// TestPyKMIPAttributes runs attrs_pykmip.py (PyKMIP's attribute operations,
// custom x- attributes and the Attribute Index their answers echo, Locate's
// newest-first order, Fresh and Sensitive) against kmipd at each KMIP
// version PyKMIP speaks.
func TestPyKMIPAttributes(t *testing.T) {
	requirePyKMIP(t)
	py := script(t, "attrs_pykmip.py")
	srv := harness.Start(t, harness.Options{Storage: "sqlite"})
	for _, version := range []string{"1.2", "1.4", "2.0"} {
		t.Run("KMIP-"+version, func(t *testing.T) {
			runScenario(t, py, clientArgs(srv, version, "attributes"))
		})
	}
}
