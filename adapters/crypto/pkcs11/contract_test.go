//go:build cgo

package pkcs11

import (
	"testing"

	"github.com/kmipd/kmipd/ports/cryptotest"
)

func TestContract(t *testing.T) { cryptotest.Exercise(t, newEngine(t, nil)) }

func TestContractExtractable(t *testing.T) {
	cryptotest.Exercise(t, newEngine(t, func(c *Config) { c.Extractable = true }))
}
