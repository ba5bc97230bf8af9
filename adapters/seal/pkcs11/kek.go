//go:build cgo

package pkcs11

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/miekg/pkcs11"

	"github.com/kmipd/kmipd/ports"
)

// KEK is an AES-256 key in a PKCS#11 token. It uses one session, guarded
// by a mutex, and reopens it (once per call) when the token or the library
// lost it, as when another user of the module reinitialized it.
type KEK struct {
	cfg  Config
	p    *pkcs11.Ctx
	init bool // this KEK's C_Initialize loaded the library: Close finalizes it

	mu  sync.Mutex
	sh  pkcs11.SessionHandle
	key pkcs11.ObjectHandle
	ok  bool // sh and key are usable
	id  string
}

var _ ports.KEK = (*KEK)(nil)

const (
	ivSize      = 12
	tagBits     = 128
	wrapVersion = 1
)

// Open loads the module, logs in to the token and finds the key labelled
// cfg.KeyLabel, making it when cfg.Create is set and there is none. Errors
// are one line and never hold the PIN.
func Open(ctx context.Context, cfg Config) (*KEK, error) {
	if cfg.KeyLabel == "" {
		return nil, errors.New("no key label")
	}
	if _, err := os.Stat(cfg.Module); err != nil {
		return nil, fmt.Errorf("cannot load module %q: %v", cfg.Module, errors.Unwrap(err))
	}
	p := pkcs11.New(cfg.Module)
	if p == nil {
		return nil, fmt.Errorf("cannot load module %q: not a PKCS#11 library", cfg.Module)
	}
	k := &KEK{cfg: cfg, p: p}
	if err := p.Initialize(); err == nil {
		k.init = true
	} else if !isRV(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		p.Destroy()
		return nil, fmt.Errorf("module %q: C_Initialize: %v", cfg.Module, err)
	}
	k.mu.Lock()
	err := k.open()
	k.mu.Unlock()
	if err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

// open opens the session, logs in and finds (or makes) the key; k.mu held.
func (k *KEK) open() error {
	slot, err := k.findSlot()
	if err != nil {
		return err
	}
	sh, err := k.p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return fmt.Errorf("C_OpenSession: %v", err)
	}
	if err := k.p.Login(sh, pkcs11.CKU_USER, k.cfg.PIN); err != nil && !isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		k.p.CloseSession(sh)
		if isRV(err, pkcs11.CKR_PIN_INCORRECT) || isRV(err, pkcs11.CKR_PIN_LEN_RANGE) {
			return errors.New("C_Login: wrong PIN (CKR_PIN_INCORRECT)")
		}
		return fmt.Errorf("C_Login: %v", err)
	}
	key, id, err := k.findKey(sh)
	if err != nil {
		k.p.CloseSession(sh)
		return err
	}
	newID := "pkcs11:" + k.cfg.KeyLabel + ":" + hex.EncodeToString(id)
	if k.id != "" && k.id != newID {
		k.p.CloseSession(sh)
		return fmt.Errorf("key %q changed in the token", k.cfg.KeyLabel)
	}
	k.sh, k.key, k.id, k.ok = sh, key, newID, true
	return nil
}

func (k *KEK) findSlot() (uint, error) {
	slots, err := k.p.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("C_GetSlotList: %v", err)
	}
	for _, s := range slots {
		if k.cfg.SlotSet {
			if s == k.cfg.Slot {
				return s, nil
			}
			continue
		}
		if ti, err := k.p.GetTokenInfo(s); err == nil && ti.Label == k.cfg.TokenLabel {
			return s, nil
		}
	}
	if k.cfg.SlotSet {
		return 0, fmt.Errorf("no token in slot %d", k.cfg.Slot)
	}
	return 0, fmt.Errorf("no token labelled %q", k.cfg.TokenLabel)
}

// findKey returns the handle and CKA_ID of the key, making it if allowed.
func (k *KEK) findKey(sh pkcs11.SessionHandle) (pkcs11.ObjectHandle, []byte, error) {
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, k.cfg.KeyLabel),
	}
	if err := k.p.FindObjectsInit(sh, tmpl); err != nil {
		return 0, nil, fmt.Errorf("C_FindObjectsInit: %v", err)
	}
	objs, _, err := k.p.FindObjects(sh, 2)
	k.p.FindObjectsFinal(sh)
	if err != nil {
		return 0, nil, fmt.Errorf("C_FindObjects: %v", err)
	}
	switch {
	case len(objs) > 1:
		return 0, nil, fmt.Errorf("the token holds more than one key labelled %q", k.cfg.KeyLabel)
	case len(objs) == 0 && !k.cfg.Create:
		return 0, nil, fmt.Errorf("the token holds no key labelled %q", k.cfg.KeyLabel)
	case len(objs) == 0:
		return k.makeKey(sh)
	}
	attrs, err := k.p.GetAttributeValue(sh, objs[0], []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil),
	})
	if err != nil {
		return 0, nil, fmt.Errorf("C_GetAttributeValue: %v", err)
	}
	var id []byte
	for _, a := range attrs {
		switch a.Type {
		case pkcs11.CKA_ID:
			id = a.Value
		case pkcs11.CKA_KEY_TYPE:
			if len(a.Value) == 0 || a.Value[0] != byte(pkcs11.CKK_AES) {
				return 0, nil, fmt.Errorf("key %q is not an AES key", k.cfg.KeyLabel)
			}
		case pkcs11.CKA_EXTRACTABLE:
			if len(a.Value) > 0 && a.Value[0] != 0 {
				return 0, nil, fmt.Errorf("key %q is extractable; a KEK must not be", k.cfg.KeyLabel)
			}
		}
	}
	return objs[0], id, nil
}

// makeKey generates a token AES-256 key that is sensitive, not
// extractable, and only encrypts and decrypts, with a random CKA_ID that
// makes its seal ID distinct from a same-labelled key in another token.
func (k *KEK) makeKey(sh pkcs11.SessionHandle) (pkcs11.ObjectHandle, []byte, error) {
	id := make([]byte, 8)
	if _, err := io.ReadFull(rand.Reader, id); err != nil {
		return 0, nil, err
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, k.cfg.KeyLabel),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
	}
	h, err := k.p.GenerateKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, tmpl)
	if err != nil {
		return 0, nil, fmt.Errorf("C_GenerateKey (AES-256 %q): %v", k.cfg.KeyLabel, err)
	}
	return h, id, nil
}

// ID is "pkcs11:", the key label, ":" and its CKA_ID in hex.
func (k *KEK) ID() string { return k.id }

// WrapKey encrypts dek with CKM_AES_GCM in the token under a random 96-bit
// IV, the KEK's ID as associated data: version byte, IV, ciphertext, tag.
func (k *KEK) WrapKey(ctx context.Context, dek []byte) ([]byte, error) {
	if len(dek) < 16 || len(dek) > 64 {
		return nil, fmt.Errorf("seal: a data key has 16 to 64 bytes, not %d", len(dek))
	}
	iv := make([]byte, ivSize)
	if _, err := io.ReadFull(rand.Reader, iv); err != nil {
		return nil, err
	}
	var out []byte
	err := k.do(ctx, func() error {
		gp := pkcs11.NewGCMParams(iv, []byte(k.id), tagBits)
		defer gp.Free()
		if err := k.p.EncryptInit(k.sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, gp)}, k.key); err != nil {
			return err
		}
		ct, err := k.p.Encrypt(k.sh, dek)
		out = ct
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("seal: pkcs11 C_Encrypt: %v", err)
	}
	if len(out) != len(dek)+tagBits/8 {
		return nil, errors.New("seal: pkcs11: the token returned a GCM result of the wrong length")
	}
	return append(append([]byte{wrapVersion}, iv...), out...), nil
}

// UnwrapKey decrypts in the token what WrapKey made; ports.ErrUnwrap when
// the token refuses it as not authentic.
func (k *KEK) UnwrapKey(ctx context.Context, wrapped []byte) ([]byte, error) {
	if len(wrapped) < 1+ivSize+tagBits/8+16 || wrapped[0] != wrapVersion {
		return nil, fmt.Errorf("seal: %w: malformed", ports.ErrUnwrap)
	}
	iv, ct := wrapped[1:1+ivSize], wrapped[1+ivSize:]
	var dek []byte
	decrypting := false // C_DecryptInit succeeded: a failure is C_Decrypt's
	err := k.do(ctx, func() error {
		decrypting = false
		gp := pkcs11.NewGCMParams(iv, []byte(k.id), tagBits)
		defer gp.Free()
		if err := k.p.DecryptInit(k.sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, gp)}, k.key); err != nil {
			return err
		}
		decrypting = true
		var err error
		dek, err = k.p.Decrypt(k.sh, ct)
		return err
	})
	switch {
	case isRV(err, pkcs11.CKR_ENCRYPTED_DATA_INVALID), isRV(err, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE),
		isRV(err, pkcs11.CKR_DATA_INVALID), isRV(err, pkcs11.CKR_DATA_LEN_RANGE),
		// SoftHSM2 reports a failed GCM tag check as CKR_GENERAL_ERROR.
		decrypting && isRV(err, pkcs11.CKR_GENERAL_ERROR):
		return nil, fmt.Errorf("seal: %w under %s", ports.ErrUnwrap, k.id)
	case err != nil:
		return nil, fmt.Errorf("seal: pkcs11 C_Decrypt: %v", err)
	}
	return dek, nil
}

// do runs op on the session, reopening it and retrying once when the
// session, the login or the library was lost.
func (k *KEK) do(ctx context.Context, op func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.ok {
		if err := k.reopen(); err != nil {
			return err
		}
	}
	err := op()
	if lost(err) {
		if rerr := k.reopen(); rerr != nil {
			return rerr
		}
		err = op()
	}
	return err
}

// reopen drops the session and opens a new one; k.mu held.
func (k *KEK) reopen() error {
	if k.ok {
		k.p.CloseSession(k.sh)
		k.ok = false
	}
	if err := k.p.Initialize(); err != nil && !isRV(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		return fmt.Errorf("C_Initialize: %v", err)
	}
	return k.open()
}

func lost(err error) bool {
	for _, rv := range []uint{pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED,
		pkcs11.CKR_USER_NOT_LOGGED_IN, pkcs11.CKR_KEY_HANDLE_INVALID, pkcs11.CKR_OBJECT_HANDLE_INVALID,
		pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_OPERATION_ACTIVE} {
		if isRV(err, rv) {
			return true
		}
	}
	return false
}

// Close closes the session, and finalizes the library when this KEK
// initialized it.
func (k *KEK) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.p == nil {
		return nil
	}
	if k.ok {
		k.p.CloseSession(k.sh)
		k.ok = false
	}
	if k.init {
		k.p.Finalize()
	}
	k.p.Destroy()
	k.p = nil
	return nil
}

func isRV(err error, rv uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == rv
}
