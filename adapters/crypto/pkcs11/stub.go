//go:build !cgo

package pkcs11

import (
	"context"
	"errors"

	"github.com/kmipd/kmipd/ports"
)

// Engine is unavailable in a build without cgo: New always fails.
type Engine struct{}

// New reports that the PKCS#11 engine was left out of this build.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	return nil, errors.New("pkcs11: this kmipd was built without cgo; rebuild with CGO_ENABLED=1 and a C compiler (gcc or clang) to use a PKCS#11 module")
}

// Close does nothing.
func (e *Engine) Close() error { return nil }

// Name returns "pkcs11".
func (e *Engine) Name() string { return "pkcs11" }

var errNoCgo = errors.New("pkcs11: built without cgo")

// GenerateSymmetricKey fails: there is no engine in this build.
func (e *Engine) GenerateSymmetricKey(context.Context, ports.SymmetricKeySpec) (ports.Key, error) {
	return ports.Key{}, errNoCgo
}

// RandomBytes fails: there is no engine in this build.
func (e *Engine) RandomBytes(context.Context, int) ([]byte, error) { return nil, errNoCgo }
