//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"

	"github.com/miekg/pkcs11"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// rsaMech is the RSA encryption mechanism for p (kmipparams.RSAPadding
// with the token's hashes): CKM_RSA_PKCS or CKM_RSA_PKCS_OAEP.
func rsaMech(p ports.CryptoParams) (*pkcs11.Mechanism, error) {
	oaep, h, mgf, err := kmipparams.RSAPadding(p, hashFor)
	if err != nil {
		return nil, err
	}
	if !oaep {
		return pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil), nil
	}
	// CKZ_DATA_SPECIFIED is the only source PKCS#11 defines; an empty
	// label is the usual empty P Source.
	return pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, pkcs11.NewOAEPParams(h.digest, mgf.mgf, pkcs11.CKZ_DATA_SPECIFIED, p.PSource)), nil
}

// rsaCrypt encrypts with the public key (of a public or private key) or
// decrypts with the private key, in the token. A failed padding check on
// decryption is ErrCryptoFailure, as in the software engine.
func (e *Engine) rsaCrypt(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, data []byte, enc bool) ([]byte, error) {
	m, err := rsaMech(p)
	if err != nil {
		return nil, err
	}
	r := rolePrivate
	if enc {
		r = rolePublic
	}
	var out []byte
	err = e.do(ctx, func(s pkcs11.SessionHandle) error {
		o, cleanup, err := e.resolve(s, key, r)
		if err != nil {
			return err
		}
		defer cleanup()
		if o.keyType != pkcs11.CKK_RSA {
			return fmt.Errorf("%w: key %q is not an RSA key", ports.ErrInvalidInput, key.ID)
		}
		out, err = e.runCipher(s, m, o, data, enc)
		return err
	})
	if err != nil {
		return nil, translate(opErr{op: "RSA " + direction(enc), integrity: !enc}, err)
	}
	return out, nil
}

// wrapMech is the key-wrapping mechanism for a symmetric wrapping key:
// AES Key Wrap (RFC 3394, the default) or with padding (RFC 5649).
func (e *Engine) wrapMech(alg kmip.CryptographicAlgorithm, p ports.CryptoParams) (*pkcs11.Mechanism, bool, error) {
	if alg != kmip.CryptographicAlgorithmAES {
		return nil, false, fmt.Errorf("%w: pkcs11: key wrapping with %s (AES Key Wrap needs AES)", ports.ErrUnsupported, alg)
	}
	var m uint
	pad := false
	switch mode := kmip.BlockCipherMode(p.BlockCipherMode); mode {
	case kmip.BlockCipherModeNISTKeyWrap, 0:
		m = pkcs11.CKM_AES_KEY_WRAP
	case kmip.BlockCipherModeAESKeyWrapPadding:
		m, pad = pkcs11.CKM_AES_KEY_WRAP_PAD, true
	default:
		return nil, false, fmt.Errorf("%w: key wrapping with block cipher mode %s", ports.ErrUnsupported, mode)
	}
	if err := e.need(m, "this key wrapping mode"); err != nil {
		return nil, false, err
	}
	return pkcs11.NewMechanism(m, nil), pad, nil
}

// WrapKey wraps target with C_WrapKey: the key kept under target.Ref (it
// must be extractable: a non-extractable key is ErrNotExtractable), or
// target.Material placed in a session object for the call. The wrapping
// key is AES (RFC 3394, RFC 5649) or RSA (OAEP by default, PKCS#1 v1.5).
func (e *Engine) WrapKey(ctx context.Context, wrapping ports.KeyHandle, p ports.CryptoParams, target ports.KeyHandle) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if target.Ref == "" && len(target.Material) == 0 {
		return nil, fmt.Errorf("%w: key %q to wrap has no material", ports.ErrInvalidInput, target.ID)
	}
	alg, err := kmipparams.OperationAlgorithm(wrapping, p)
	if err != nil {
		return nil, err
	}
	var (
		m   *pkcs11.Mechanism
		r   = roleSecret
		pad bool
	)
	if alg == kmip.CryptographicAlgorithmRSA {
		if len(target.Material) > 0 {
			return e.rsaCrypt(ctx, wrapping, kmipparams.RSAWrapParams(p), target.Material, true)
		}
		if m, err = rsaMech(kmipparams.RSAWrapParams(p)); err != nil {
			return nil, err
		}
		r = rolePublic
	} else {
		if m, pad, err = e.wrapMech(alg, p); err != nil {
			return nil, err
		}
		if n := len(target.Material); n > 0 && !pad && (n%8 != 0 || n < 16) {
			return nil, fmt.Errorf("%w: RFC 3394 wraps a multiple of 8 bytes, at least 16 (got %d)", ports.ErrInvalidInput, n)
		}
	}
	if len(target.Material) > maxMaterial {
		return nil, fmt.Errorf("%w: %d bytes to wrap", ports.ErrInvalidInput, len(target.Material))
	}
	var out []byte
	err = e.do(ctx, func(s pkcs11.SessionHandle) error {
		w, cleanup, err := e.resolve(s, wrapping, r)
		if err != nil {
			return err
		}
		defer cleanup()
		var t keyObj
		if len(target.Material) > 0 {
			var tclean func()
			if t, tclean, err = e.sessionSecret(s, pkcs11.CKK_GENERIC_SECRET, target.Material); err != nil {
				return err
			}
			defer tclean()
		} else if t, err = e.lookup(s, target); err != nil {
			return err
		}
		if pad {
			if err := e.checkKWP(s, t, len(target.Material)); err != nil {
				return err
			}
		}
		out, err = e.p.WrapKey(s, []*pkcs11.Mechanism{m}, w.h, t.h)
		return initErr(err)
	})
	if err != nil {
		return nil, translate(opErr{op: "wrapping a key"}, err)
	}
	return out, nil
}

// UnwrapKey unwraps with C_UnwrapKey into a session object (extractable,
// destroyed at once) and returns its bytes; an integrity failure is
// ErrCryptoFailure. RSA unwrapping is an RSA decryption in the token.
func (e *Engine) UnwrapKey(ctx context.Context, wrapping ports.KeyHandle, p ports.CryptoParams, wrapped []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	alg, err := kmipparams.OperationAlgorithm(wrapping, p)
	if err != nil {
		return nil, err
	}
	if alg == kmip.CryptographicAlgorithmRSA {
		return e.rsaCrypt(ctx, wrapping, kmipparams.RSAWrapParams(p), wrapped, false)
	}
	m, pad, err := e.wrapMech(alg, p)
	if err != nil {
		return nil, err
	}
	if n := len(wrapped); n%8 != 0 || n < 16 || (!pad && n < 24) || n > maxMaterial {
		return nil, fmt.Errorf("%w: %d bytes of wrapped key", ports.ErrInvalidInput, n)
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
	}
	var out []byte
	err = e.do(ctx, func(s pkcs11.SessionHandle) error {
		w, cleanup, err := e.resolve(s, wrapping, roleSecret)
		if err != nil {
			return err
		}
		defer cleanup()
		h, err := e.p.UnwrapKey(s, []*pkcs11.Mechanism{m}, w.h, wrapped, tmpl)
		if err != nil {
			return initErr(err)
		}
		defer func() { _ = e.p.DestroyObject(s, h) }()
		a, err := e.p.GetAttributeValue(s, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
		if err != nil {
			return err
		}
		out = a[0].Value
		return nil
	})
	if err != nil {
		return nil, translate(opErr{op: "unwrapping a key", integrity: true}, err)
	}
	return out, nil
}

// checkKWP refuses (ErrUnsupported) an RFC 5649 wrap of a key whose length
// is not a multiple of 8 bytes when the token gets those wrong: SoftHSM2
// 2.6 pads the key itself before wrapping, so its output unwraps, anywhere
// else, to the padded key. The token is probed once, with RFC 5649 §6's
// first example.
func (e *Engine) checkKWP(s pkcs11.SessionHandle, t keyObj, n int) error {
	if n == 0 {
		a, err := e.p.GetAttributeValue(s, t.h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, nil)})
		if err != nil {
			return err
		}
		n = int(ulong(a[0].Value))
	}
	if n%8 == 0 {
		return nil
	}
	e.mu.Lock()
	state := e.kwp
	e.mu.Unlock()
	if state == kwpUnknown {
		kek, _ := hex.DecodeString("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
		key, _ := hex.DecodeString("c37b7e6492584340bed12207808941155068f738")
		want, _ := hex.DecodeString("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a")
		k, kclean, err := e.sessionSecret(s, pkcs11.CKK_AES, kek)
		if err != nil {
			return err
		}
		defer kclean()
		v, vclean, err := e.sessionSecret(s, pkcs11.CKK_GENERIC_SECRET, key)
		if err != nil {
			return err
		}
		defer vclean()
		got, err := e.p.WrapKey(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)}, k.h, v.h)
		if lostSession(err) {
			return err
		}
		state = kwpBroken
		if err == nil && bytes.Equal(got, want) {
			state = kwpOK
		}
		e.mu.Lock()
		e.kwp = state
		e.mu.Unlock()
	}
	if state == kwpBroken {
		return fmt.Errorf("%w: pkcs11: RFC 5649 wrapping of a %d-byte key (the token's CKM_AES_KEY_WRAP_PAD gets keys that are not a multiple of 8 bytes wrong)", ports.ErrUnsupported, n)
	}
	return nil
}
