package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	sealfile "github.com/kmipd/kmipd/adapters/seal/file"
	sealpkcs11 "github.com/kmipd/kmipd/adapters/seal/pkcs11"
	"github.com/kmipd/kmipd/adapters/storage/sealed"
	"github.com/kmipd/kmipd/ports"
)

// SealConfig is the [seal] table: what seals key material at rest (README
// "Sealing at rest").
type SealConfig struct {
	// Type is "none" (the default: key material is stored in clear),
	// "file" or "pkcs11".
	Type string `toml:"type"`
	// KeyFile is the KEK file of type "file" (kmipd seal keygen makes one),
	// mode 0600 or stricter.
	KeyFile string `toml:"key_file"`
	// PreviousKeyFiles are KEK files being rotated out: they still open
	// what they sealed, and kmipd reseals it under key_file in the
	// background.
	PreviousKeyFiles stringList `toml:"previous_key_files"`
	// PKCS11 is the [seal.pkcs11] table of type "pkcs11".
	PKCS11 SealPKCS11Config `toml:"pkcs11"`
}

// SealPKCS11Config is the [seal.pkcs11] table.
type SealPKCS11Config struct {
	Module     string `toml:"module"`
	TokenLabel string `toml:"token_label"`
	Slot       *int64 `toml:"slot"`
	// PINFile holds the user PIN; without it KMIPD_SEAL_PIN does.
	PINFile string `toml:"pin_file"`
	// KeyLabel labels the KEK in the token, made on first use if absent
	// (default "kmipd-seal-kek").
	KeyLabel string `toml:"key_label"`
	// PreviousKeyLabels label KEKs being rotated out (they must exist).
	PreviousKeyLabels stringList `toml:"previous_key_labels"`
}

const (
	sealPINEnv          = "KMIPD_SEAL_PIN"
	defaultSealKeyLabel = "kmipd-seal-kek"
	devSealKeyName      = "seal.key"
)

// normalize checks the [seal] table and fills its defaults.
func (c *SealConfig) normalize() error {
	c.Type = strings.ToLower(c.Type)
	p := &c.PKCS11
	switch c.Type {
	case "", "none":
		return nil
	case "file":
		if c.KeyFile == "" {
			return keyErr("seal.key_file", "required when seal.type is file (make one with: kmipd seal keygen FILE)")
		}
		return nil
	case "pkcs11":
	default:
		return keyErr("seal.type", "%q is not none, file or pkcs11", c.Type)
	}
	switch {
	case p.Module == "":
		return keyErr("seal.pkcs11.module", "required when seal.type is pkcs11 (the PKCS#11 library's path)")
	case p.TokenLabel == "" && p.Slot == nil:
		return keyErr("seal.pkcs11.token_label", "required when seal.type is pkcs11 (or set seal.pkcs11.slot)")
	case p.TokenLabel != "" && p.Slot != nil:
		return keyErr("seal.pkcs11.slot", "set token_label or slot, not both")
	case p.Slot != nil && (*p.Slot < 0 || *p.Slot > math.MaxUint32):
		return keyErr("seal.pkcs11.slot", "%d is not a slot number", *p.Slot)
	case p.PINFile == "" && os.Getenv(sealPINEnv) == "":
		return keyErr("seal.pkcs11.pin_file", "required when seal.type is pkcs11, unless %s holds the PIN", sealPINEnv)
	}
	if p.KeyLabel == "" {
		p.KeyLabel = defaultSealKeyLabel
	}
	return nil
}

// sealed reports whether key material is sealed at rest.
func (c *SealConfig) sealed() bool { return c.Type == "file" || c.Type == "pkcs11" }

// checkFiles verifies that the files [seal] names can be read.
func (c *SealConfig) checkFiles() error {
	var files []configFile
	switch c.Type {
	case "file":
		files = append(files, configFile{"seal.key_file", c.KeyFile})
		for _, f := range c.PreviousKeyFiles {
			files = append(files, configFile{"seal.previous_key_files", f})
		}
	case "pkcs11":
		files = append(files, configFile{"seal.pkcs11.module", c.PKCS11.Module},
			configFile{"seal.pkcs11.pin_file", c.PKCS11.PINFile})
	}
	return checkReadable(files...)
}

// devSeal makes development mode seal with a key file in the development
// directory (generated on first start) unless the configuration chose.
func devSeal(dir string, c *SealConfig) error {
	if c.Type != "" {
		return nil
	}
	path := filepath.Join(dir, devSealKeyName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := sealfile.Generate(path); err != nil {
			return &ConfigError{Key: "seal.key_file", Value: path, Err: err}
		}
	}
	c.Type, c.KeyFile = "file", path
	return nil
}

// keks is an opened [seal]: the current KEK, the previous ones, and what
// closes them.
type keks struct {
	current  ports.KEK
	previous []ports.KEK
	closers  []func() error
}

func (k *keks) Close() {
	for i := len(k.closers) - 1; i >= 0; i-- {
		k.closers[i]()
	}
}

// sealOpenTimeout bounds opening an HSM seal at start-up.
const sealOpenTimeout = 30 * time.Second

// openKEKs opens the KEKs [seal] names; nil when type is none. Errors are
// ConfigErrors naming the key and never hold a key or PIN.
func (c *SealConfig) openKEKs() (*keks, error) {
	switch c.Type {
	case "file":
		return c.openFileKEKs()
	case "pkcs11":
		return c.openPKCS11KEKs()
	}
	return nil, nil
}

// openFileKEKs opens the current and previous key files of a file seal.
func (c *SealConfig) openFileKEKs() (*keks, error) {
	k := &keks{}
	open := func(key, path string) (ports.KEK, error) {
		kek, err := sealfile.Open(path)
		if err != nil {
			return nil, &ConfigError{Key: key, Value: path, Err: err}
		}
		return kek, nil
	}
	cur, err := open("seal.key_file", c.KeyFile)
	if err != nil {
		return nil, err
	}
	k.current = cur
	for _, p := range c.PreviousKeyFiles {
		prev, err := open("seal.previous_key_files", p)
		if err != nil {
			return nil, err
		}
		k.previous = append(k.previous, prev)
	}
	return k, nil
}

// openPKCS11KEKs opens the current key of an HSM seal, created when absent,
// and the previous ones, within sealOpenTimeout; on error nothing stays open.
func (c *SealConfig) openPKCS11KEKs() (*keks, error) {
	k := &keks{}
	pin, err := c.PKCS11.pin()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), sealOpenTimeout)
	defer cancel()
	base := sealpkcs11.Config{Module: c.PKCS11.Module, TokenLabel: c.PKCS11.TokenLabel, PIN: pin}
	if c.PKCS11.Slot != nil {
		base.Slot, base.SlotSet = uint(*c.PKCS11.Slot), true
	}
	open := func(key, label string, create bool) (ports.KEK, error) {
		cfg := base
		cfg.KeyLabel, cfg.Create = label, create
		kek, err := sealpkcs11.Open(ctx, cfg)
		if err != nil {
			return nil, &ConfigError{Key: key, Err: fmt.Errorf("key %q: %v", label, err)}
		}
		k.closers = append(k.closers, kek.Close)
		return kek, nil
	}
	if k.current, err = open("seal.pkcs11", c.PKCS11.KeyLabel, true); err != nil {
		k.Close()
		return nil, err
	}
	for _, l := range c.PKCS11.PreviousKeyLabels {
		prev, err := open("seal.pkcs11.previous_key_labels", l, false)
		if err != nil {
			k.Close()
			return nil, err
		}
		k.previous = append(k.previous, prev)
	}
	return k, nil
}

// pin returns the seal's user PIN from pin_file or KMIPD_SEAL_PIN.
func (p SealPKCS11Config) pin() (string, error) {
	if p.PINFile == "" {
		if v := os.Getenv(sealPINEnv); v != "" {
			return v, nil
		}
		return "", keyErr("seal.pkcs11.pin_file", "no PIN: set pin_file or %s", sealPINEnv)
	}
	pin, err := PKCS11Config{PINFile: p.PINFile}.pin()
	var ce *ConfigError
	if errors.As(err, &ce) {
		ce.Key = "seal.pkcs11.pin_file"
	}
	return pin, err
}

// sealProbeTimeout bounds the start-up check of the store's seal.
const sealProbeTimeout = 30 * time.Second

// sealStore returns the store as the app uses it: sealed under [seal]'s
// KEKs after checking a sample of the store opens under them, or as is
// when type is none after checking the store is not sealed. A failed
// check is a ConfigError naming the [seal] key.
func sealStore(c *SealConfig, k *keks, store ports.Store) (ports.Store, *sealed.Store, sealed.Survey, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sealProbeTimeout)
	defer cancel()
	if k == nil {
		sv, err := sealed.Probe(ctx, store)
		if err != nil {
			return nil, nil, sv, err
		}
		for id := range sv.KEKs {
			return nil, nil, sv, keyErr("seal.type", "%q, but the store is sealed (under KEK %s): configure the [seal] that sealed it", orNone(c.Type), id)
		}
		return store, nil, sv, nil
	}
	s := sealed.New(store, k.current, k.previous...)
	sv, err := s.Check(ctx)
	if errors.Is(err, sealed.ErrUnseal) {
		key := "seal.key_file"
		if c.Type == "pkcs11" {
			key = "seal.pkcs11.key_label"
		}
		return nil, nil, sv, keyErr(key, "%v", strings.TrimPrefix(err.Error(), sealed.ErrUnseal.Error()+": "))
	}
	if err != nil {
		return nil, nil, sv, err
	}
	return s.Port(), s, sv, nil
}

func orNone(t string) string {
	if t == "" {
		return "none"
	}
	return t
}

// openSealed checks the store against [seal] (sealStore), logs what an
// operator must know (clear key material, a server without a seal), and
// returns the store the app uses and, while previous KEKs are configured,
// the background rotation to run beside serving.
func openSealed(cfg Config, k *keks, store ports.Store, dev bool, log zerolog.Logger) (ports.Store, func(context.Context), error) {
	out, s, sv, err := sealStore(&cfg.Seal, k, store)
	if err != nil {
		return nil, nil, err
	}
	log = log.With().Str("component", "seal").Logger()
	switch {
	case s == nil && !dev:
		log.Warn().Msg("key material is stored in clear: [seal] type is none; set [seal] (README: Sealing at rest)")
	case s == nil:
	case sv.Clear > 0:
		log.Warn().Msg("the store holds key material in clear: stop kmipd and run kmipd seal migrate")
	}
	if s == nil || len(k.previous) == 0 {
		return out, nil, nil
	}
	return out, func(ctx context.Context) { rotate(ctx, s, k.current.ID(), log) }, nil
}

// rotate reseals every object under the current KEK while kmipd serves,
// logging progress; an interrupted rotation resumes at the next start.
func rotate(ctx context.Context, s *sealed.Store, current string, log zerolog.Logger) {
	log.Info().Str("kek", current).Msg("seal rotation started: rewrapping data keys under the current KEK")
	p, err := s.Reseal(ctx, func(p sealed.Progress) {
		log.Debug().Int("seen", p.Seen).Int("resealed", p.Resealed).Msg("seal rotation progress")
	})
	if err != nil {
		if ctx.Err() == nil {
			log.Error().Err(err).Int("resealed", p.Resealed).Msg("seal rotation failed; it resumes at the next start")
		}
		return
	}
	log.Info().Str("kek", current).Int("seen", p.Seen).Int("resealed", p.Resealed).
		Msg("seal rotation complete: no data key needs the previous KEKs; remove them from [seal]")
}
