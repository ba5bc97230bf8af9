//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	_ "crypto/sha1" // registers the hashes signing uses
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/subtle"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/miekg/pkcs11"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// hashInfo is what the token needs to know about a KMIP hashing algorithm.
type hashInfo struct {
	h      crypto.Hash
	digest uint // CKM_SHA*, the C_Digest mechanism
	hmac   uint // CKM_SHA*_HMAC
	mgf    uint // CKG_MGF1_SHA*
	prefix []byte
}

var hashInfos = map[kmip.HashingAlgorithm]hashInfo{
	kmip.HashingAlgorithmSHA_1: {crypto.SHA1, pkcs11.CKM_SHA_1, pkcs11.CKM_SHA_1_HMAC, pkcs11.CKG_MGF1_SHA1,
		[]byte{0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14}},
	kmip.HashingAlgorithmSHA_224: {crypto.SHA224, pkcs11.CKM_SHA224, pkcs11.CKM_SHA224_HMAC, pkcs11.CKG_MGF1_SHA224,
		[]byte{0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c}},
	kmip.HashingAlgorithmSHA_256: {crypto.SHA256, pkcs11.CKM_SHA256, pkcs11.CKM_SHA256_HMAC, pkcs11.CKG_MGF1_SHA256,
		[]byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}},
	kmip.HashingAlgorithmSHA_384: {crypto.SHA384, pkcs11.CKM_SHA384, pkcs11.CKM_SHA384_HMAC, pkcs11.CKG_MGF1_SHA384,
		[]byte{0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30}},
	kmip.HashingAlgorithmSHA_512: {crypto.SHA512, pkcs11.CKM_SHA512, pkcs11.CKM_SHA512_HMAC, pkcs11.CKG_MGF1_SHA512,
		[]byte{0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40}},
}

// hmacOnly are HMAC and digest mechanisms outside the signing hashes.
var extraDigests = map[kmip.HashingAlgorithm]uint{kmip.HashingAlgorithmMD5: pkcs11.CKM_MD5}

// hashFor is the token's hashInfo for a required Hashing Algorithm
// (kmipparams.Hash over hashInfos).
func hashFor(alg uint32) (hashInfo, error) {
	return kmipparams.Hash(hashInfos, alg)
}

// Hash computes a digest with C_Digest (SHA-1, SHA-224/256/384/512, MD5
// when the token has them).
func (e *Engine) Hash(ctx context.Context, alg uint32, data []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, ok := extraDigests[kmip.HashingAlgorithm(alg)]
	if hi, found := hashInfos[kmip.HashingAlgorithm(alg)]; found {
		m, ok = hi.digest, true
	}
	if !ok || !e.has(m) {
		return nil, fmt.Errorf("%w: pkcs11: hashing algorithm %s", ports.ErrUnsupported, kmip.HashingAlgorithm(alg))
	}
	var out []byte
	err := e.do(ctx, func(s pkcs11.SessionHandle) error {
		if err := e.p.DigestInit(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(m, nil)}); err != nil {
			return initErr(err)
		}
		var err error
		out, err = e.p.Digest(s, data)
		return err
	})
	return out, translate(opErr{op: "hashing"}, err)
}

// RandomBytes returns n bytes from the token's RNG (C_GenerateRandom).
func (e *Engine) RandomBytes(ctx context.Context, n int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := kmipparams.RandomLength(n); err != nil {
		return nil, err
	}
	if n == 0 {
		return []byte{}, nil
	}
	var out []byte
	err := e.do(ctx, func(s pkcs11.SessionHandle) error {
		var err error
		out, err = e.p.GenerateRandom(s, n)
		return err
	})
	if err == nil && len(out) != n {
		return nil, fmt.Errorf("%w: pkcs11: the token returned %d random bytes, not %d", ports.ErrUnavailable, len(out), n)
	}
	return out, translate(opErr{op: "generating random bytes"}, err)
}

// SeedRandom mixes seed into the token's RNG with C_SeedRandom; a token
// that refuses seeding answers ErrUnsupported.
func (e *Engine) SeedRandom(ctx context.Context, seed []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(seed) == 0 {
		return 0, nil
	}
	err := e.do(ctx, func(s pkcs11.SessionHandle) error { return e.p.SeedRandom(s, seed) })
	if err != nil {
		return 0, translate(opErr{op: "seeding the RNG"}, err)
	}
	return len(seed), nil
}

// sigScheme is a resolved signature scheme (kmipparams.ResolveSig, with
// the token's hash), or EdDSA.
type sigScheme struct {
	kmipparams.SigScheme[hashInfo]
	eddsa bool
}

// resolveSig works out the scheme for the key's type with the software
// engine's rules (kmipparams.ResolveSig). Ed25519 is decided here: the
// token signs the message itself (CKM_EDDSA), so Digital Signature
// Algorithm and Padding Method are refused and a given digest (Ed25519ph)
// is ErrUnsupported.
func resolveSig(keyType uint, p ports.CryptoParams, digested bool) (sigScheme, error) {
	family := map[uint]kmip.CryptographicAlgorithm{pkcs11.CKK_RSA: kmip.CryptographicAlgorithmRSA, pkcs11.CKK_EC: kmip.CryptographicAlgorithmECDSA,
		ckkECEdwards: kmip.CryptographicAlgorithmEd25519}[keyType]
	if family == 0 {
		return sigScheme{}, fmt.Errorf("%w: pkcs11: signing with a key of type 0x%x", ports.ErrUnsupported, keyType)
	}
	if family == kmip.CryptographicAlgorithmEd25519 {
		if h := kmip.HashingAlgorithm(p.HashingAlgorithm); h != 0 && h != kmip.HashingAlgorithmSHA_512 {
			return sigScheme{}, fmt.Errorf("%w: Ed25519 uses SHA-512 only", ports.ErrInvalidInput)
		}
		if p.DigitalSignatureAlgorithm != 0 || p.PaddingMethod != 0 {
			return sigScheme{}, fmt.Errorf("%w: Ed25519 takes no signature algorithm or padding", ports.ErrInvalidInput)
		}
		if digested {
			return sigScheme{}, fmt.Errorf("%w: pkcs11: Ed25519ph (signing a digest)", ports.ErrUnsupported)
		}
		return sigScheme{eddsa: true}, nil
	}
	s, err := kmipparams.ResolveSig(family, p, digested, hashFor)
	return sigScheme{SigScheme: s}, err
}

// sigInput is the mechanism and the token's input for a signature: the
// digest is computed here (or given), then signed in the token with
// CKM_RSA_PKCS (over DigestInfo), CKM_RSA_PKCS_PSS or CKM_ECDSA.
func sigInput(s sigScheme, p ports.CryptoParams, data []byte, digested bool) (*pkcs11.Mechanism, []byte, error) {
	d := data
	if s.Hashed {
		if digested {
			if len(data) != s.Hash.h.Size() {
				return nil, nil, fmt.Errorf("%w: digested data of %d bytes for %s (want %d)", ports.ErrInvalidInput, len(data), s.Hash.h, s.Hash.h.Size())
			}
		} else {
			w := s.Hash.h.New()
			w.Write(data)
			d = w.Sum(nil)
		}
	}
	switch {
	case s.eddsa:
		return pkcs11.NewMechanism(ckmEdDSA, nil), data, nil
	case s.PKCS1:
		return pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil), append(append([]byte{}, s.Hash.prefix...), d...), nil
	case s.PSS:
		mgf := s.Hash.mgf
		if p.MaskGeneratorHashingAlgorithm != 0 {
			mh, err := hashFor(p.MaskGeneratorHashingAlgorithm)
			if err != nil {
				return nil, nil, err
			}
			mgf = mh.mgf
		}
		salt := s.Hash.h.Size()
		if p.SaltLengthSet {
			if p.SaltLength < 0 || p.SaltLength > 1024 {
				return nil, nil, fmt.Errorf("%w: salt length %d", ports.ErrInvalidInput, p.SaltLength)
			}
			salt = p.SaltLength
		}
		return pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(s.Hash.digest, mgf, uint(salt))), d, nil
	}
	return pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil), d, nil
}

// sigSetup resolves the key a Sign (rolePrivate) or Verify (rolePublic)
// uses and builds its mechanism and input; cleanup releases a session
// object made for a key given as material, and is a no-op on error.
func (e *Engine) sigSetup(s pkcs11.SessionHandle, key ports.KeyHandle, r role, p ports.CryptoParams, data []byte, digested bool) (o keyObj, cleanup func(), m *pkcs11.Mechanism, in []byte, err error) {
	o, cleanup, err = e.resolve(s, key, r)
	if err != nil {
		return keyObj{}, func() {}, nil, nil, err
	}
	sc, err := resolveSig(o.keyType, p, digested)
	if err == nil {
		m, in, err = sigInput(sc, p, data, digested)
	}
	if err != nil {
		cleanup()
		return keyObj{}, func() {}, nil, nil, err
	}
	return o, cleanup, m, in, nil
}

// Sign signs in the token with a private RSA (PKCS#1 v1.5, PSS) or EC
// (ECDSA, ASN.1 DER signature as the software engine) key. The message is
// hashed in Go unless digested; the private-key operation runs in the token.
func (e *Engine) Sign(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, data []byte, digested bool) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var sig []byte
	err := e.do(ctx, func(s pkcs11.SessionHandle) error {
		o, cleanup, m, in, err := e.sigSetup(s, key, rolePrivate, p, data, digested)
		if err != nil {
			return err
		}
		defer cleanup()
		if err := e.p.SignInit(s, []*pkcs11.Mechanism{m}, o.h); err != nil {
			return initErr(err)
		}
		if sig, err = e.p.Sign(s, in); err != nil {
			return err
		}
		if o.keyType == pkcs11.CKK_EC {
			sig, err = ecdsaDER(sig)
		}
		return err
	})
	if err != nil {
		return nil, translate(opErr{op: "signing"}, err)
	}
	return sig, nil
}

// Verify checks sig in the token with the public key (or the public half
// of a private key); an invalid signature is (false, nil).
func (e *Engine) Verify(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, data []byte, digested bool, sig []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	valid := false
	err := e.do(ctx, func(s pkcs11.SessionHandle) error {
		o, cleanup, m, in, err := e.sigSetup(s, key, rolePublic, p, data, digested)
		if err != nil {
			return err
		}
		defer cleanup()
		raw := sig
		if o.keyType == pkcs11.CKK_EC {
			if raw = ecdsaRaw(sig, (o.curve.Params().BitSize+7)/8); raw == nil {
				return nil // not a DER ECDSA signature of this curve: invalid
			}
		}
		if err := e.p.VerifyInit(s, []*pkcs11.Mechanism{m}, o.h); err != nil {
			return initErr(err)
		}
		err = e.p.Verify(s, in, raw)
		if isRV(err, pkcs11.CKR_SIGNATURE_INVALID) || isRV(err, pkcs11.CKR_SIGNATURE_LEN_RANGE) {
			return nil
		}
		valid = err == nil
		return err
	})
	if err != nil {
		return false, translate(opErr{op: "verifying a signature"}, err)
	}
	return valid, nil
}

// ecdsaDER turns the token's r||s into the ASN.1 DER signature.
func ecdsaDER(raw []byte) ([]byte, error) {
	if len(raw) == 0 || len(raw)%2 != 0 {
		return nil, fmt.Errorf("%w: pkcs11: the token returned a malformed ECDSA signature", ports.ErrCryptoFailure)
	}
	n := len(raw) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:])})
}

// ecdsaRaw turns a DER ECDSA signature into r||s of size bytes each, or
// nil when it is not one.
func ecdsaRaw(der []byte, size int) []byte {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 || sig.R.Sign() <= 0 || sig.S.Sign() <= 0 ||
		len(sig.R.Bytes()) > size || len(sig.S.Bytes()) > size {
		return nil
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out
}

// MAC computes an HMAC (SHA-1/2 family, MD5) or a CMAC (AES, 3DES when the
// token has CKM_AES_CMAC / CKM_DES3_CMAC) in the token. The algorithm is
// chosen as the software engine does: the parameters' Cryptographic
// Algorithm, else their Hashing Algorithm (HMAC), else the key's.
func (e *Engine) MAC(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, data []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if key.Ref == "" && len(key.Material) == 0 {
		return nil, fmt.Errorf("%w: key %q has no material", ports.ErrInvalidInput, key.ID)
	}
	var mech uint
	hmac := false
	alg := kmip.CryptographicAlgorithm(p.CryptographicAlgorithm)
	hmacHash := map[kmip.CryptographicAlgorithm]kmip.HashingAlgorithm{
		kmip.CryptographicAlgorithmHMAC_SHA1: kmip.HashingAlgorithmSHA_1, kmip.CryptographicAlgorithmHMAC_SHA224: kmip.HashingAlgorithmSHA_224,
		kmip.CryptographicAlgorithmHMAC_SHA256: kmip.HashingAlgorithmSHA_256, kmip.CryptographicAlgorithmHMAC_SHA384: kmip.HashingAlgorithmSHA_384,
		kmip.CryptographicAlgorithmHMAC_SHA512: kmip.HashingAlgorithmSHA_512,
	}
	switch {
	case alg == 0 && p.HashingAlgorithm != 0:
		hi, err := hashFor(p.HashingAlgorithm)
		if err != nil {
			return nil, err
		}
		mech, hmac = hi.hmac, true
	default:
		if alg == 0 {
			alg = kmip.CryptographicAlgorithm(key.Algorithm)
		}
		switch alg {
		case kmip.CryptographicAlgorithmAES, kmip.CryptographicAlgorithmDES3:
			if ka := kmip.CryptographicAlgorithm(key.Algorithm); ka != 0 && ka != alg {
				return nil, fmt.Errorf("%w: CMAC-%s with a %s key", ports.ErrInvalidInput, alg, ka)
			}
			mech = map[kmip.CryptographicAlgorithm]uint{kmip.CryptographicAlgorithmAES: pkcs11.CKM_AES_CMAC, kmip.CryptographicAlgorithmDES3: pkcs11.CKM_DES3_CMAC}[alg]
		case kmip.CryptographicAlgorithmHMAC_MD5:
			mech, hmac = pkcs11.CKM_MD5_HMAC, true
		case 0:
			return nil, fmt.Errorf("%w: no MAC algorithm for key %q", ports.ErrInvalidInput, key.ID)
		default:
			h, ok := hmacHash[alg]
			if !ok {
				return nil, fmt.Errorf("%w: pkcs11: MAC algorithm %s", ports.ErrUnsupported, alg)
			}
			mech, hmac = hashInfos[h].hmac, true
		}
	}
	if err := e.need(mech, "this MAC"); err != nil {
		return nil, err
	}
	var mac []byte
	err := e.do(ctx, func(s pkcs11.SessionHandle) error {
		var (
			o       keyObj
			cleanup = func() {}
			err     error
		)
		if hmac && key.Ref == "" {
			// Any bytes are an HMAC key: a generic secret.
			if len(key.Material) > maxMaterial {
				return fmt.Errorf("%w: %d-byte HMAC key", ports.ErrInvalidLength, len(key.Material))
			}
			o, cleanup, err = e.sessionSecret(s, pkcs11.CKK_GENERIC_SECRET, key.Material)
		} else {
			o, cleanup, err = e.resolve(s, key, roleSecret)
		}
		if err != nil {
			return err
		}
		defer cleanup()
		if err := e.p.SignInit(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, o.h); err != nil {
			return initErr(err)
		}
		mac, err = e.p.Sign(s, data)
		return err
	})
	if err != nil {
		return nil, translate(opErr{op: "computing a MAC", keySize: true}, err)
	}
	return mac, nil
}

// VerifyMAC recomputes the MAC in the token and compares it in constant
// time with the full-length MAC.
func (e *Engine) VerifyMAC(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, data, mac []byte) (bool, error) {
	want, err := e.MAC(ctx, key, p, data)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(want, mac) == 1, nil
}
