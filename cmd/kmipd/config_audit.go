package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/kmipd/kmipd/ports"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kmipd/kmipd/adapters/audit"
)

// AuditConfig is the [audit] table: the audit trail (adapters/audit).
// Off unless path is set.
type AuditConfig struct {
	// Path is the audit file: JSON lines appended to it, created 0600. Its
	// directory must exist. Empty turns the audit trail off.
	Path string `toml:"path"`
	// FailClosed refuses a request whose audit record cannot be written,
	// leaving nothing of it done (default true); false serves it anyway,
	// logging and counting the failure.
	FailClosed flexBool `toml:"fail_closed"`
}

// checkFiles verifies that the audit file's directory exists.
func (a *AuditConfig) checkFiles() error {
	if a.Path == "" {
		return nil
	}
	if err := isDir(filepath.Dir(a.Path)); err != nil {
		return &ConfigError{Key: "audit.path", Value: a.Path, Err: err}
	}
	return nil
}

// openAudit opens the audit file (nil when audit.path is not set); failed
// is called for every record that could not be written.
func openAudit(a AuditConfig, k *keks, failed func()) (*audit.Writer, error) {
	if a.Path == "" {
		return nil, nil
	}
	key, err := auditMACKey(context.Background(), k, a.Path, true)
	if err != nil {
		return nil, &ConfigError{Key: "audit.path", Value: a.Path + macKeySuffix, Err: err}
	}
	w, err := audit.Open(a.Path, audit.Options{Key: key, Failed: failed})
	if err != nil {
		return nil, &ConfigError{Key: "audit.path", Value: a.Path, Err: err}
	}
	return w, nil
}

// macKeySuffix names the file beside the audit log that holds its MAC key,
// wrapped under the seal's KEK.
const macKeySuffix = ".mackey"

// auditMACKey is the key the audit chain is HMAC'd under when sealing is
// on (nil without a seal: plain SHA-256): 32 random bytes made on first
// use, kept in PATH.mackey wrapped under the current KEK (0600), so that
// only a holder of the KEK can forge or verify records. A key wrapped
// under a previous KEK (a rotation) is rewrapped under the current one.
// Without create, a missing key file is an error.
func auditMACKey(ctx context.Context, k *keks, path string, create bool) ([]byte, error) {
	if k == nil {
		return nil, nil
	}
	file := path + macKeySuffix
	wrapped, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) && create {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		w, err := k.current.WrapKey(ctx, key)
		if err != nil {
			return nil, err
		}
		return key, writeNew(file, bytes.NewReader(w))
	}
	if err != nil {
		return nil, err
	}
	for i, kek := range append([]ports.KEK{k.current}, k.previous...) {
		key, err := kek.UnwrapKey(ctx, wrapped)
		if err != nil {
			continue
		}
		if i > 0 {
			if w, err := k.current.WrapKey(ctx, key); err == nil {
				tmp := file + ".tmp"
				os.Remove(tmp)
				if writeNew(tmp, bytes.NewReader(w)) == nil {
					os.Rename(tmp, file)
				}
			}
		}
		return key, nil
	}
	return nil, fmt.Errorf("the audit MAC key was wrapped under a KEK this configuration does not hold: %w", ports.ErrUnwrap)
}
