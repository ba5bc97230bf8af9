package main

import (
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
func openAudit(a AuditConfig, failed func()) (*audit.Writer, error) {
	if a.Path == "" {
		return nil, nil
	}
	w, err := audit.Open(a.Path, audit.Options{Failed: failed})
	if err != nil {
		return nil, &ConfigError{Key: "audit.path", Value: a.Path, Err: err}
	}
	return w, nil
}
