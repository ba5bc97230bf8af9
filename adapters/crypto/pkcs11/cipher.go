//go:build cgo

package pkcs11

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/miekg/pkcs11"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Mechanisms miekg/pkcs11 does not name.
const (
	ckmAESCFB128 = 0x2107
	ckmAESOFB    = 0x2104
)

// Encrypt encrypts in the token: AES in ECB, CBC, CTR or GCM (CFB and OFB
// when the token has them), 3DES in ECB or CBC, RSA with PKCS#1 v1.5 or
// OAEP. CBC with PKCS#5 padding runs CKM_*_CBC_PAD; ANSI X9.23 and ISO
// 10126 padding (and PKCS#5 with ECB) are added here and the padded data
// encrypted in the token. An IV the client leaves out is generated from
// crypto/rand and returned, as the software engine does. Streamed parts
// (Partial, State) are ErrUnsupported: a token's cipher state cannot leave
// the token.
func (e *Engine) Encrypt(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput) (ports.CipherOutput, error) {
	return e.crypt(ctx, key, p, in, true)
}

// Decrypt reverses Encrypt; a failed GCM tag or RSA padding check is
// ErrCryptoFailure, bad CBC padding ErrInvalidInput.
func (e *Engine) Decrypt(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput) (ports.CipherOutput, error) {
	return e.crypt(ctx, key, p, in, false)
}

func (e *Engine) crypt(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput, enc bool) (ports.CipherOutput, error) {
	if err := ctx.Err(); err != nil {
		return ports.CipherOutput{}, err
	}
	if in.Partial || in.State != nil {
		return ports.CipherOutput{}, fmt.Errorf("%w: pkcs11: streamed encryption parts (the cipher state cannot leave the token)", ports.ErrUnsupported)
	}
	alg, err := kmipparams.OperationAlgorithm(key, p)
	if err != nil {
		return ports.CipherOutput{}, err
	}
	if alg == kmip.CryptographicAlgorithmRSA {
		out, err := e.rsaCrypt(ctx, key, p, in.Data, enc)
		return ports.CipherOutput{Data: out}, err
	}
	plan, err := e.planSymmetric(alg, p, in, enc)
	if err != nil {
		return ports.CipherOutput{}, err
	}
	var res []byte
	err = e.do(ctx, func(s pkcs11.SessionHandle) error {
		o, cleanup, err := e.resolve(s, key, roleSecret)
		if err != nil {
			return err
		}
		defer cleanup()
		m, gp := plan.mech()
		defer gp.Free()
		if plan.split == 0 {
			res, err = e.runCipher(s, m, o, plan.data, enc)
			return err
		}
		first, err := e.runCipher(s, m, o, plan.data[:plan.split], enc)
		if err != nil {
			return err
		}
		m2, _ := plan.mech2()
		rest, err := e.runCipher(s, m2, o, plan.data[plan.split:], enc)
		res = append(first, rest...)
		return err
	})
	if err != nil {
		return ports.CipherOutput{}, translate(opErr{op: fmt.Sprintf("%s %s", alg, direction(enc)), integrity: plan.gcm}, err)
	}
	return plan.finish(res)
}

func direction(enc bool) string {
	if enc {
		return "encryption"
	}
	return "decryption"
}

// runCipher runs one single-part C_Encrypt or C_Decrypt.
func (e *Engine) runCipher(s pkcs11.SessionHandle, m *pkcs11.Mechanism, o keyObj, data []byte, enc bool) ([]byte, error) {
	ms := []*pkcs11.Mechanism{m}
	if enc {
		if err := e.p.EncryptInit(s, ms, o.h); err != nil {
			return nil, initErr(err)
		}
		return e.p.Encrypt(s, data)
	}
	if err := e.p.DecryptInit(s, ms, o.h); err != nil {
		return nil, initErr(err)
	}
	return e.p.Decrypt(s, data)
}

// initErr reads CKR_ARGUMENTS_BAD from an *Init call as the token
// refusing the mechanism's parameters.
func initErr(err error) error {
	if isRV(err, pkcs11.CKR_ARGUMENTS_BAD) {
		return pkcs11.Error(pkcs11.CKR_MECHANISM_PARAM_INVALID)
	}
	return err
}

// symPlan is a symmetric operation prepared in Go: the mechanism and its
// parameters, the data for the token, and what to do with the result.
type symPlan struct {
	// mech builds the mechanism for one attempt; GCM parameters hold C
	// memory the caller frees after the operation (Free is nil-safe).
	mech   func() (*pkcs11.Mechanism, *pkcs11.GCMParams)
	data   []byte
	enc    bool
	bs     int
	goPad  kmip.PaddingMethod // padding added here (removed after decryption)
	gcm    bool
	tagLen int
	iv     []byte // generated IV to return
	// split > 0: the CTR counter block wraps after split bytes; the rest
	// runs with mech2 (the counter block at zero), as the software engine
	// lets the 128-bit counter wrap and tokens refuse to.
	split int
	mech2 func() (*pkcs11.Mechanism, *pkcs11.GCMParams)
}

func (e *Engine) planSymmetric(alg kmip.CryptographicAlgorithm, p ports.CryptoParams, in ports.CipherInput, enc bool) (symPlan, error) {
	var ecb, cbc, cbcPad uint
	pl := symPlan{enc: enc, data: in.Data}
	switch alg {
	case kmip.CryptographicAlgorithmAES:
		pl.bs, ecb, cbc, cbcPad = 16, pkcs11.CKM_AES_ECB, pkcs11.CKM_AES_CBC, pkcs11.CKM_AES_CBC_PAD
	case kmip.CryptographicAlgorithmDES3:
		pl.bs, ecb, cbc, cbcPad = 8, pkcs11.CKM_DES3_ECB, pkcs11.CKM_DES3_CBC, pkcs11.CKM_DES3_CBC_PAD
	default:
		return pl, fmt.Errorf("%w: pkcs11: encryption with %s", ports.ErrUnsupported, alg)
	}
	mode := kmip.BlockCipherMode(p.BlockCipherMode)
	withIV := func(m uint, iv []byte) func() (*pkcs11.Mechanism, *pkcs11.GCMParams) {
		iv = append([]byte{}, iv...)
		return func() (*pkcs11.Mechanism, *pkcs11.GCMParams) { return pkcs11.NewMechanism(m, iv), nil }
	}
	switch mode {
	case kmip.BlockCipherModeECB, kmip.BlockCipherModeCBC:
		pad, err := kmipparams.BlockPadding(p)
		if err != nil {
			return pl, err
		}
		var iv []byte
		if mode == kmip.BlockCipherModeCBC {
			var gen bool
			if iv, gen, err = kmipparams.NewIV(p, in, enc, pl.bs, pl.bs); err != nil {
				return pl, err
			}
			if gen {
				pl.iv = iv
			}
		}
		switch {
		case mode == kmip.BlockCipherModeCBC && pad == kmip.PaddingMethodPKCS5 && enc:
			// The token pads. Decryption runs plain CBC and checks the
			// padding here: tokens (SoftHSM2) report bad CBC_PAD padding
			// as CKR_GENERAL_ERROR, which says nothing.
			if err := e.need(cbcPad, alg.String()+"-CBC with PKCS#5 padding"); err != nil {
				return pl, err
			}
			pl.mech = withIV(cbcPad, iv)
			return pl, nil
		case pad != 0 && enc:
			pl.data, pl.goPad = kmipparams.AddPadding(in.Data, pl.bs, pad), pad
		case pad != 0:
			pl.goPad = pad
			fallthrough
		default:
			if len(in.Data)%pl.bs != 0 {
				return pl, fmt.Errorf("%w: %d bytes is not a multiple of the %d-byte block", ports.ErrInvalidInput, len(in.Data), pl.bs)
			}
		}
		if mode == kmip.BlockCipherModeECB {
			pl.mech = withIV(ecb, nil)
		} else {
			pl.mech = withIV(cbc, iv)
		}
		return pl, e.need(map[bool]uint{true: ecb, false: cbc}[mode == kmip.BlockCipherModeECB], alg.String()+" "+mode.String())
	case kmip.BlockCipherModeCTR:
		if alg != kmip.CryptographicAlgorithmAES {
			return pl, fmt.Errorf("%w: pkcs11: %s in CTR mode", ports.ErrUnsupported, alg)
		}
		if err := e.need(pkcs11.CKM_AES_CTR, "AES-CTR"); err != nil {
			return pl, err
		}
		var block []byte
		var err error
		if p.InitialCounterSet {
			block, pl.iv, err = kmipparams.CTRInitialBlock(p, in, enc, 16)
		} else {
			var gen bool
			block, gen, err = kmipparams.NewIV(p, in, enc, 16, 16)
			if gen {
				pl.iv = block
			}
		}
		if err != nil {
			return pl, err
		}
		// CK_AES_CTR_PARAMS: the whole block is the counter, as in the
		// software engine (ulCounterBits = 128).
		ctrParams := func(block []byte) []byte {
			return append(binary.NativeEndian.AppendUint64(nil, 128), block...)
		}
		pl.mech = withIV(pkcs11.CKM_AES_CTR, ctrParams(block))
		left := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), new(big.Int).SetBytes(block))
		if left.Cmp(big.NewInt(int64((len(pl.data)+15)/16))) < 0 {
			pl.split = 16 * int(left.Int64())
			pl.mech2 = withIV(pkcs11.CKM_AES_CTR, ctrParams(make([]byte, 16)))
		}
		return pl, nil
	case kmip.BlockCipherModeCFB, kmip.BlockCipherModeOFB:
		m := map[kmip.BlockCipherMode]uint{kmip.BlockCipherModeCFB: ckmAESCFB128, kmip.BlockCipherModeOFB: ckmAESOFB}[mode]
		if alg != kmip.CryptographicAlgorithmAES || !e.has(m) {
			return pl, fmt.Errorf("%w: pkcs11: the token has no %s-%s", ports.ErrUnsupported, alg, mode)
		}
		iv, gen, err := kmipparams.NewIV(p, in, enc, 16, 16)
		if err != nil {
			return pl, err
		}
		if gen {
			pl.iv = iv
		}
		pl.mech = withIV(m, iv)
		return pl, nil
	case kmip.BlockCipherModeGCM:
		if alg != kmip.CryptographicAlgorithmAES {
			return pl, fmt.Errorf("%w: GCM needs a 128-bit block cipher", ports.ErrInvalidInput)
		}
		if err := e.need(pkcs11.CKM_AES_GCM, "AES-GCM"); err != nil {
			return pl, err
		}
		tagLen, err := kmipparams.GCMTagLength(p, in, enc)
		if err != nil {
			return pl, err
		}
		iv, gen, err := kmipparams.NewIV(p, in, enc, 0, 12)
		if err != nil {
			return pl, err
		}
		if len(iv) == 0 {
			return pl, fmt.Errorf("%w: empty GCM nonce", ports.ErrInvalidInput)
		}
		if gen {
			pl.iv = iv
		}
		if !enc {
			if len(in.Tag) != tagLen {
				return pl, fmt.Errorf("%w: GCM tag of %d bytes (want %d)", ports.ErrInvalidInput, len(in.Tag), tagLen)
			}
			pl.data = append(append([]byte{}, in.Data...), in.Tag...)
		}
		pl.gcm, pl.tagLen = true, tagLen
		iv, aad := append([]byte{}, iv...), append([]byte{}, in.AAD...)
		pl.mech = func() (*pkcs11.Mechanism, *pkcs11.GCMParams) {
			gp := pkcs11.NewGCMParams(iv, aad, 8*tagLen)
			return pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, gp), gp
		}
		return pl, nil
	case 0:
		return pl, fmt.Errorf("%w: %s needs a block cipher mode", ports.ErrInvalidInput, alg)
	}
	return pl, fmt.Errorf("%w: pkcs11: block cipher mode %s", ports.ErrUnsupported, mode)
}

// finish turns the token's output into the port's result.
func (pl symPlan) finish(res []byte) (ports.CipherOutput, error) {
	out := ports.CipherOutput{IV: pl.iv}
	switch {
	case pl.gcm && pl.enc:
		if len(res) < pl.tagLen {
			return ports.CipherOutput{}, fmt.Errorf("%w: pkcs11: the token returned a short GCM result", ports.ErrCryptoFailure)
		}
		n := len(res) - pl.tagLen
		out.Data, out.Tag = res[:n], res[n:]
	case pl.goPad != 0 && !pl.enc:
		d, err := kmipparams.RemovePadding(res, pl.bs, pl.goPad)
		if err != nil {
			return ports.CipherOutput{}, err
		}
		out.Data = d
	default:
		out.Data = res
	}
	if out.Data == nil {
		out.Data = []byte{}
	}
	return out, nil
}
