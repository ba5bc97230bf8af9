//go:build !cgo

package pkcs11

import (
	"context"
	"errors"

	"github.com/kmipd/kmipd/ports"
)

// KEK is unavailable in a build without cgo.
type KEK struct{}

var _ ports.KEK = (*KEK)(nil)

var errNoCgo = errors.New("pkcs11 seal: this kmipd was built without cgo; rebuild with CGO_ENABLED=1 to use a PKCS#11 module")

// Open reports that the PKCS#11 seal was left out of this build.
func Open(ctx context.Context, cfg Config) (*KEK, error) { return nil, errNoCgo }

// ID is empty.
func (k *KEK) ID() string { return "" }

// WrapKey fails.
func (k *KEK) WrapKey(context.Context, []byte) ([]byte, error) { return nil, errNoCgo }

// UnwrapKey fails.
func (k *KEK) UnwrapKey(context.Context, []byte) ([]byte, error) { return nil, errNoCgo }

// Close does nothing.
func (k *KEK) Close() error { return nil }
