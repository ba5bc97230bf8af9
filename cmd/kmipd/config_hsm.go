package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11"
	"github.com/kmipd/kmipd/ports"
)

// PKCS11Config is the [crypto.pkcs11] table: the HSM kmipd uses when
// crypto.type is "pkcs11".
type PKCS11Config struct {
	// Module is the path of the PKCS#11 library (SoftHSM2 on Debian:
	// /usr/lib/softhsm/libsofthsm2.so).
	Module string `toml:"module"`
	// TokenLabel names the token; Slot numbers it instead. Exactly one is set.
	TokenLabel string `toml:"token_label"`
	Slot       *int64 `toml:"slot"`
	// PINFile holds the user PIN (trailing newline ignored); without it the
	// PIN comes from the environment variable KMIPD_PKCS11_PIN. The PIN is
	// never logged.
	PINFile string `toml:"pin_file"`
	// Sessions is the size of the session pool shared by concurrent
	// requests (default 8).
	Sessions int `toml:"sessions"`
	// Extractable makes new keys extractable, so that Get can return them;
	// by default keys never leave the HSM.
	Extractable bool `toml:"extractable"`
}

// openPKCS11 opens the [crypto.pkcs11] engine: the module loaded, the token
// found and logged in. A failure is a configuration error naming the table.
func openPKCS11(c CryptoConfig) (ports.CryptoEngine, error) {
	p := c.PKCS11
	pin, err := p.pin()
	if err != nil {
		return nil, err
	}
	cfg := pkcs11.Config{Module: p.Module, TokenLabel: p.TokenLabel, PIN: pin,
		Sessions: p.Sessions, Extractable: p.Extractable}
	if p.Slot != nil {
		cfg.Slot, cfg.SlotSet = uint(*p.Slot), true
	}
	ctx, cancel := context.WithTimeout(context.Background(), pkcs11OpenTimeout)
	defer cancel()
	e, err := pkcs11.New(ctx, cfg)
	if err != nil {
		return nil, &ConfigError{Key: "crypto.pkcs11", Err: errors.New(strings.TrimPrefix(err.Error(), "pkcs11: "))}
	}
	return e, nil
}

// pkcs11OpenTimeout bounds opening the token at start-up.
const pkcs11OpenTimeout = 30 * time.Second

// pinEnv is the environment variable that holds the PIN when no pin_file is set.
const pinEnv = "KMIPD_PKCS11_PIN"

const (
	defaultPKCS11Sessions = 8
	maxPKCS11Sessions     = 1024
)

// normalizePKCS11 checks the [crypto.pkcs11] table when the engine is
// pkcs11 and fills its defaults.
func (c *CryptoConfig) normalizePKCS11() error {
	if c.Type != "pkcs11" {
		return nil
	}
	p := &c.PKCS11
	switch {
	case p.Module == "":
		return keyErr("crypto.pkcs11.module", "required when crypto.type is pkcs11 (the PKCS#11 library's path)")
	case p.TokenLabel == "" && p.Slot == nil:
		return keyErr("crypto.pkcs11.token_label", "required when crypto.type is pkcs11 (or set crypto.pkcs11.slot)")
	case p.TokenLabel != "" && p.Slot != nil:
		return keyErr("crypto.pkcs11.slot", "set token_label or slot, not both")
	case p.Slot != nil && (*p.Slot < 0 || *p.Slot > math.MaxUint32):
		return keyErr("crypto.pkcs11.slot", "%d is not a slot number", *p.Slot)
	case p.Sessions < 0 || p.Sessions > maxPKCS11Sessions:
		return keyErr("crypto.pkcs11.sessions", "%d is not between 1 and %d", p.Sessions, maxPKCS11Sessions)
	case p.PINFile == "" && os.Getenv(pinEnv) == "":
		return keyErr("crypto.pkcs11.pin_file", "required when crypto.type is pkcs11, unless %s holds the PIN", pinEnv)
	}
	if p.Sessions == 0 {
		p.Sessions = defaultPKCS11Sessions
	}
	return nil
}

// checkPKCS11Files verifies the module and PIN file exist and are readable.
func (c *CryptoConfig) checkPKCS11Files() error {
	if c.Type != "pkcs11" {
		return nil
	}
	return checkReadable(configFile{"crypto.pkcs11.module", c.PKCS11.Module},
		configFile{"crypto.pkcs11.pin_file", c.PKCS11.PINFile})
}

// pin returns the user PIN from pin_file or the environment. Errors never
// contain the PIN.
func (p PKCS11Config) pin() (string, error) {
	if p.PINFile == "" {
		if v := os.Getenv(pinEnv); v != "" {
			return v, nil
		}
		return "", keyErr("crypto.pkcs11.pin_file", "no PIN: set pin_file or %s", pinEnv)
	}
	fi, err := os.Stat(p.PINFile)
	if err != nil {
		return "", &ConfigError{Key: "crypto.pkcs11.pin_file", Value: p.PINFile, Err: err}
	}
	if !fi.Mode().IsRegular() || fi.Size() > 4096 {
		return "", &ConfigError{Key: "crypto.pkcs11.pin_file", Value: p.PINFile, Err: errors.New("not a regular file of at most 4 KiB")}
	}
	b, err := os.ReadFile(p.PINFile)
	if err != nil {
		return "", &ConfigError{Key: "crypto.pkcs11.pin_file", Value: p.PINFile, Err: err}
	}
	pin := strings.TrimRight(string(b), "\r\n")
	if pin == "" || strings.ContainsAny(pin, "\r\n") {
		return "", &ConfigError{Key: "crypto.pkcs11.pin_file", Value: p.PINFile, Err: fmt.Errorf("must hold the PIN on one line")}
	}
	return pin, nil
}
