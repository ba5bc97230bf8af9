package software

import (
	"context"
	"crypto"
	"crypto/hkdf"
	"crypto/hmac"
	"encoding/binary"
	"fmt"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// maxDerived caps a derived object (1 MiB).
const maxDerived = 1 << 20

// maxPBKDF2Work caps the HMAC computations of one PBKDF2 derivation
// (Iteration Count times output blocks), about ten seconds of one core with
// SHA-512: above current recommendations (OWASP 2023: 1,300,000 iterations
// for SHA-1, 600,000 for SHA-256), far below what lets a client occupy a
// core for minutes.
const maxPBKDF2Work = 1 << 22

// DeriveKey derives key material (KMIP 1.4 §4.6):
//
//   - PBKDF2 (RFC 8018): the password is the base object's material, or the
//     Derivation Data when there is no base material; PRF HMAC with the
//     Hashing Algorithm, SHA-1 when absent (PKCS #5's default); Salt and
//     a positive Iteration Count are required, and Iteration Count times
//     output blocks may not exceed maxPBKDF2Work.
//   - HASH: the digest of the base key or of the Derivation Data — exactly
//     one of the two, as the spec and PyKMIP require.
//   - HMAC: HMAC of the Derivation Data keyed with the base key; the hash
//     is the base key's HMAC algorithm, else the Hashing Algorithm.
//   - HKDF (RFC 5869, KMIP 2.1): Salt, base key as input keying material,
//     Derivation Data as info.
//   - ENCRYPT: the Derivation Data encrypted with the base key under the
//     Cryptographic Parameters and the given IV.
//   - NIST800-108-C (SP 800-108 counter mode): PRF HMAC, a 32-bit counter
//     before the fixed input data, which is the Derivation Data as given
//     (Label || 0x00 || Context || [L]2, built by the client), as PyKMIP.
//
// The output is truncated to Length bits; a Length beyond what the method
// produces is ErrInvalidLength, as KMIP and the seed require.
func (e *Engine) DeriveKey(ctx context.Context, spec ports.DeriveSpec) (ports.Key, error) {
	if err := ctx.Err(); err != nil {
		return ports.Key{}, err
	}
	if spec.Length <= 0 || spec.Length%8 != 0 || spec.Length/8 > maxDerived {
		return ports.Key{}, fmt.Errorf("%w: derived length %d bits (want a positive multiple of 8)", ports.ErrInvalidLength, spec.Length)
	}
	n := spec.Length / 8
	base := spec.Base.Material
	p := spec.Params
	var (
		out []byte
		err error
	)
	switch kmip.DerivationMethod(spec.Method) {
	case kmip.DerivationMethodPBKDF2:
		h, err := kmipparams.GoHashOr(p.HashingAlgorithm, crypto.SHA1)
		if err != nil {
			return ports.Key{}, err
		}
		password := base
		if len(password) == 0 {
			password = spec.Data
		}
		switch {
		case len(spec.Salt) == 0:
			return ports.Key{}, fmt.Errorf("%w: PBKDF2 needs a salt", ports.ErrInvalidInput)
		case spec.Iterations <= 0:
			return ports.Key{}, fmt.Errorf("%w: PBKDF2 needs a positive iteration count", ports.ErrInvalidInput)
		case spec.Iterations > maxPBKDF2Work/((n+h.Size()-1)/h.Size()):
			return ports.Key{}, fmt.Errorf("%w: PBKDF2 iteration count %d times %d output blocks exceeds %d", ports.ErrInvalidInput, spec.Iterations, (n+h.Size()-1)/h.Size(), maxPBKDF2Work)
		}
		if out, err = pbkdf2Key(ctx, h.New, password, spec.Salt, spec.Iterations, n); err != nil {
			return ports.Key{}, err
		}
	case kmip.DerivationMethodHASH:
		h, err := kmipparams.GoHash(p.HashingAlgorithm)
		if err != nil {
			return ports.Key{}, err
		}
		in := base
		switch {
		case len(base) > 0 && len(spec.Data) > 0:
			return ports.Key{}, fmt.Errorf("%w: HASH derivation takes the base key or derivation data, not both", ports.ErrInvalidInput)
		case len(base) == 0 && len(spec.Data) == 0:
			return ports.Key{}, fmt.Errorf("%w: HASH derivation needs a base key or derivation data", ports.ErrInvalidInput)
		case len(base) == 0:
			in = spec.Data
		}
		w := h.New()
		w.Write(in)
		out = w.Sum(nil)
	case kmip.DerivationMethodHMAC:
		h, ok := hmacHashes[kmip.CryptographicAlgorithm(spec.Base.Algorithm)]
		if !ok {
			if h, err = kmipparams.GoHash(p.HashingAlgorithm); err != nil {
				return ports.Key{}, err
			}
		}
		if len(base) == 0 {
			return ports.Key{}, fmt.Errorf("%w: HMAC derivation needs a base key", ports.ErrInvalidInput)
		}
		out = hmacSum(h, base, spec.Data)
	case kmip.DerivationMethodHKDF:
		h, err := kmipparams.GoHash(p.HashingAlgorithm)
		if err != nil {
			return ports.Key{}, err
		}
		if n > 255*h.Size() {
			return ports.Key{}, fmt.Errorf("%w: HKDF-%s yields at most %d bytes", ports.ErrInvalidLength, h, 255*h.Size())
		}
		out, err = hkdf.Key(h.New, base, spec.Salt, string(spec.Data), n)
		if err != nil {
			return ports.Key{}, fmt.Errorf("%w: HKDF: %v", ports.ErrInvalidInput, err)
		}
	case kmip.DerivationMethodENCRYPT:
		if len(spec.Data) == 0 {
			return ports.Key{}, fmt.Errorf("%w: ENCRYPT derivation needs derivation data", ports.ErrInvalidInput)
		}
		res, err := e.Encrypt(ctx, spec.Base, p, ports.CipherInput{Data: spec.Data, IV: spec.IV})
		if err != nil {
			return ports.Key{}, err
		}
		out = res.Data
	case kmip.DerivationMethodNIST800_108_C:
		h, ok := hmacHashes[kmip.CryptographicAlgorithm(spec.Base.Algorithm)]
		if p.HashingAlgorithm != 0 || !ok {
			if h, err = kmipparams.GoHash(p.HashingAlgorithm); err != nil {
				return ports.Key{}, err
			}
		}
		if len(base) == 0 {
			return ports.Key{}, fmt.Errorf("%w: NIST 800-108 derivation needs a base key", ports.ErrInvalidInput)
		}
		out = kdfCounter(h, base, spec.Data, n)
	default:
		return ports.Key{}, fmt.Errorf("%w: derivation method %s", ports.ErrUnsupported, kmip.DerivationMethod(spec.Method))
	}
	if len(out) < n {
		clear(out)
		return ports.Key{}, fmt.Errorf("%w: %d bits exceed the %d bits the derivation method yields", ports.ErrInvalidLength, spec.Length, 8*len(out))
	}
	return ports.Key{Material: out[:n:n], Format: uint32(kmip.KeyFormatTypeRaw)}, nil
}

// kdfCounter is the SP 800-108 KDF in counter mode with an HMAC PRF and a
// 32-bit big-endian counter before the fixed input data.
func kdfCounter(h crypto.Hash, key, fixed []byte, n int) []byte {
	out := make([]byte, 0, n+h.Size())
	var ctr [4]byte
	for i := uint32(1); len(out) < n; i++ {
		m := hmac.New(h.New, key)
		binary.BigEndian.PutUint32(ctr[:], i)
		m.Write(ctr[:])
		m.Write(fixed)
		out = m.Sum(out)
	}
	return out
}
