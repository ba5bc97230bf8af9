package software

import (
	"testing"

	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/cryptotest"
)

// coreOnly hides every optional capability, as an engine that implements
// only ports.CryptoEngine would: the suite must skip them, not fail.
type coreOnly struct{ ports.CryptoEngine }

func TestContractCoreOnly(t *testing.T) { cryptotest.Exercise(t, coreOnly{New()}) }
