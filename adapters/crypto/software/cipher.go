package software

import (
	"context"
	"crypto/cipher"
	"crypto/rc4"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"math"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Encrypt encrypts with a symmetric key (block ciphers in ECB, CBC, CFB,
// OFB, CTR and GCM; RC4; ChaCha20; ChaCha20-Poly1305) or an RSA key
// (PKCS#1 v1.5, OAEP). See the port for IVs, tags and streaming.
func (e *Engine) Encrypt(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput) (ports.CipherOutput, error) {
	return e.crypt(ctx, key, p, in, true)
}

// Decrypt reverses Encrypt; a failed GCM or Poly1305 tag is ErrCryptoFailure.
func (e *Engine) Decrypt(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput) (ports.CipherOutput, error) {
	return e.crypt(ctx, key, p, in, false)
}

func (e *Engine) crypt(ctx context.Context, key ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput, enc bool) (ports.CipherOutput, error) {
	if err := ctx.Err(); err != nil {
		return ports.CipherOutput{}, err
	}
	alg, err := kmipparams.OperationAlgorithm(key, p, chachaFamily)
	if err != nil {
		return ports.CipherOutput{}, err
	}
	switch alg {
	case kmip.CryptographicAlgorithmRSA:
		if in.Partial || in.State != nil {
			return ports.CipherOutput{}, fmt.Errorf("%w: streaming RSA encryption", ports.ErrUnsupported)
		}
		var out []byte
		if enc {
			out, err = rsaEncrypt(key, p, in.Data)
		} else {
			out, err = rsaDecrypt(key, p, in.Data)
		}
		return ports.CipherOutput{Data: out}, err
	case kmip.CryptographicAlgorithmRC4:
		return cryptRC4(key, in)
	case kmip.CryptographicAlgorithmChaCha20:
		if kmip.BlockCipherMode(p.BlockCipherMode) == kmip.BlockCipherModeAEAD {
			return cryptChaChaPoly(key, p, in, enc)
		}
		return cryptChaCha(key, p, in, enc)
	case kmip.CryptographicAlgorithmChaCha20Poly1305:
		return cryptChaChaPoly(key, p, in, enc)
	}
	if key.Material == nil {
		return ports.CipherOutput{}, fmt.Errorf("%w: key %q has no material", ports.ErrInvalidInput, key.ID)
	}
	b, err := newBlock(alg, key.Material)
	if err != nil {
		return ports.CipherOutput{}, err
	}
	mode := kmip.BlockCipherMode(p.BlockCipherMode)
	if mode == kmip.BlockCipherModeGCM {
		return cryptGCM(b, alg, p, in, enc)
	}
	return cryptBlock(b, alg, p, in, enc)
}

// chachaFamily: a ChaCha20 key serves ChaCha20-Poly1305 and the other way
// round (kmipparams.OperationAlgorithm).
var chachaFamily = []kmip.CryptographicAlgorithm{kmip.CryptographicAlgorithmChaCha20, kmip.CryptographicAlgorithmChaCha20Poly1305}

// cryptGCM runs AES-GCM (any block cipher with 16-byte blocks). Tag Length
// is 12 to 16 bytes (default 16); any nonce length from 1 byte works
// (default 12). Truncated tags are checked by recomputing the full tag.
// Streamed parts run cryptGCMStream.
func cryptGCM(b cipher.Block, alg kmip.CryptographicAlgorithm, p ports.CryptoParams, in ports.CipherInput, enc bool) (ports.CipherOutput, error) {
	if b.BlockSize() != 16 {
		return ports.CipherOutput{}, fmt.Errorf("%w: GCM needs a 128-bit block cipher", ports.ErrInvalidInput)
	}
	if in.Partial || in.State != nil {
		return cryptGCMStream(b, alg, p, in, enc)
	}
	tagLen, err := kmipparams.GCMTagLength(p, in, enc)
	if err != nil {
		return ports.CipherOutput{}, err
	}
	iv, gen, err := kmipparams.NewIV(p, in, enc, 0, 12)
	if err != nil {
		return ports.CipherOutput{}, err
	}
	if len(iv) == 0 {
		return ports.CipherOutput{}, fmt.Errorf("%w: empty GCM nonce", ports.ErrInvalidInput)
	}
	aead, err := cipher.NewGCMWithNonceSize(b, len(iv))
	if err != nil {
		return ports.CipherOutput{}, fmt.Errorf("%w: GCM: %v", ports.ErrInvalidInput, err)
	}
	if enc {
		sealed := aead.Seal(nil, iv, in.Data, in.AAD)
		n := len(in.Data)
		out := ports.CipherOutput{Data: sealed[:n], Tag: sealed[n : n+tagLen]}
		if gen {
			out.IV = iv
		}
		return out, nil
	}
	if len(in.Tag) != tagLen {
		return ports.CipherOutput{}, fmt.Errorf("%w: GCM tag of %d bytes (want %d)", ports.ErrInvalidInput, len(in.Tag), tagLen)
	}
	return openTruncated(aead, iv, in, tagLen, "GCM")
}

// cryptRC4 runs RC4. Its running state is equivalent to the key, so it
// cannot be handed to the client: streaming answers ErrUnsupported.
func cryptRC4(key ports.KeyHandle, in ports.CipherInput) (ports.CipherOutput, error) {
	if in.Partial || in.State != nil {
		return ports.CipherOutput{}, fmt.Errorf("%w: streaming RC4 (its state is key material)", ports.ErrUnsupported)
	}
	c, err := rc4.NewCipher(key.Material)
	if err != nil {
		return ports.CipherOutput{}, fmt.Errorf("%w: %d-byte RC4 key", ports.ErrInvalidLength, len(key.Material))
	}
	out := make([]byte, len(in.Data))
	c.XORKeyStream(out, in.Data)
	return ports.CipherOutput{Data: out}, nil
}

// cryptChaChaPoly runs ChaCha20-Poly1305 (RFC 8439 §2.8): 12-byte nonce,
// tag of Tag Length 12 to 16 bytes (default 16). A truncated tag is the
// prefix of the full one; Decrypt recomputes the full tag and compares the
// prefix in constant time. It does not stream.
func cryptChaChaPoly(key ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput, enc bool) (ports.CipherOutput, error) {
	if in.Partial || in.State != nil {
		return ports.CipherOutput{}, fmt.Errorf("%w: streaming ChaCha20-Poly1305", ports.ErrUnsupported)
	}
	tagLen := p.TagLength
	if tagLen == 0 {
		tagLen = chacha20poly1305.Overhead
		if !enc && len(in.Tag) != 0 {
			tagLen = len(in.Tag)
		}
	}
	if tagLen < 12 || tagLen > chacha20poly1305.Overhead {
		return ports.CipherOutput{}, fmt.Errorf("%w: ChaCha20-Poly1305 tag length %d (allowed: 12 to 16)", ports.ErrInvalidInput, tagLen)
	}
	aead, err := chacha20poly1305.New(key.Material)
	if err != nil {
		return ports.CipherOutput{}, fmt.Errorf("%w: %d-byte ChaCha20-Poly1305 key", ports.ErrInvalidLength, len(key.Material))
	}
	iv, gen, err := kmipparams.NewIV(p, in, enc, chacha20poly1305.NonceSize, chacha20poly1305.NonceSize)
	if err != nil {
		return ports.CipherOutput{}, err
	}
	if enc {
		sealed := aead.Seal(nil, iv, in.Data, in.AAD)
		out := ports.CipherOutput{Data: sealed[:len(in.Data)], Tag: sealed[len(in.Data) : len(in.Data)+tagLen]}
		if gen {
			out.IV = iv
		}
		return out, nil
	}
	if len(in.Tag) != tagLen {
		return ports.CipherOutput{}, fmt.Errorf("%w: Poly1305 tag of %d bytes (want %d)", ports.ErrInvalidInput, len(in.Tag), tagLen)
	}
	return openTruncated(aead, iv, in, tagLen, "Poly1305")
}

// cryptChaCha runs the ChaCha20 stream cipher (RFC 8439 §2.4). The nonce is
// 12 bytes with the block counter from Initial Counter Value (default 0);
// 8 bytes, the original 64-bit nonce with a 64-bit counter (supported while
// the counter stays below 2^32, where it equals RFC 8439 with four zero
// bytes before the nonce); or 16 bytes: a little-endian 32-bit counter then
// the nonce (OpenSSL's layout). Streaming keeps the nonce, the next counter and any input short
// of a 64-byte block in State.
func cryptChaCha(key ports.KeyHandle, p ports.CryptoParams, in ports.CipherInput, enc bool) (ports.CipherOutput, error) {
	if len(key.Material) != chacha20.KeySize {
		return ports.CipherOutput{}, fmt.Errorf("%w: %d-byte ChaCha20 key", ports.ErrInvalidLength, len(key.Material))
	}
	var (
		st  streamState
		out ports.CipherOutput
	)
	if in.State != nil {
		if err := st.unmarshal(in.State, kmip.CryptographicAlgorithmChaCha20, 0, enc); err != nil {
			return ports.CipherOutput{}, err
		}
		if len(st.chain) != 16 || len(st.buf) >= 64 {
			return ports.CipherOutput{}, errState
		}
	} else {
		iv, gen, err := kmipparams.NewIV(p, in, enc, 0, chacha20.NonceSize)
		if err != nil {
			return ports.CipherOutput{}, err
		}
		var ctr uint32
		switch len(iv) {
		case chacha20.NonceSize:
			if p.InitialCounterSet {
				if p.InitialCounterValue < 0 || p.InitialCounterValue > math.MaxUint32 {
					return ports.CipherOutput{}, fmt.Errorf("%w: ChaCha20 initial counter %d (allowed: 0 to 2^32-1)", ports.ErrInvalidInput, p.InitialCounterValue)
				}
				ctr = uint32(p.InitialCounterValue)
			}
		case 8:
			// The original ChaCha20 (Bernstein): a 64-bit block counter and
			// a 64-bit nonce. While the counter stays below 2^32 it equals
			// RFC 8439's layout with the nonce 0x00000000 || nonce.
			if p.InitialCounterSet {
				if p.InitialCounterValue < 0 || p.InitialCounterValue > math.MaxUint32 {
					return ports.CipherOutput{}, fmt.Errorf("%w: ChaCha20 initial counter %d (supported: 0 to 2^32-1)", ports.ErrInvalidInput, p.InitialCounterValue)
				}
				ctr = uint32(p.InitialCounterValue)
			}
		case 16:
			if gen {
				// A generated counter || nonce starts the counter at 0,
				// not at a random value that may be near its end.
				clear(iv[:4])
			}
			ctr = binary.LittleEndian.Uint32(iv)
		default:
			return ports.CipherOutput{}, fmt.Errorf("%w: ChaCha20 nonce of %d bytes (want 12, 8, or 16 with the counter)", ports.ErrInvalidInput, len(iv))
		}
		if gen {
			out.IV = iv // all of it: with 16 bytes, the counter too
		}
		switch len(iv) {
		case 16:
			iv = iv[4:]
		case 8:
			iv = append(make([]byte, 4, 12), iv...)
		}
		st = streamState{alg: kmip.CryptographicAlgorithmChaCha20, enc: enc, chain: binary.LittleEndian.AppendUint32(append([]byte{}, iv...), ctr)}
	}
	data := append(st.buf, in.Data...)
	n := len(data)
	if in.Partial {
		n -= n % 64
	}
	nonce, ctr := st.chain[:12], binary.LittleEndian.Uint32(st.chain[12:])
	// The 32-bit block counter must not wrap (RFC 8439 §2.4): that would
	// reuse keystream, and x/crypto/chacha20 panics. A partial part must
	// also leave a block for the parts that follow.
	blocks := (uint64(n) + 63) / 64
	if in.Partial {
		blocks = uint64(n)/64 + 1
	}
	if uint64(ctr)+blocks > 1<<32 {
		return ports.CipherOutput{}, fmt.Errorf("%w: ChaCha20 block counter would wrap", ports.ErrInvalidInput)
	}
	c, err := chacha20.NewUnauthenticatedCipher(key.Material, nonce)
	if err != nil {
		return ports.CipherOutput{}, fmt.Errorf("%w: ChaCha20: %v", ports.ErrInvalidInput, err)
	}
	c.SetCounter(ctr)
	out.Data = make([]byte, n)
	c.XORKeyStream(out.Data, data[:n])
	if in.Partial {
		st.buf = data[n:]
		binary.LittleEndian.PutUint32(st.chain[12:], ctr+uint32(n/64))
		out.State = st.marshal()
	}
	return out, nil
}

// openTruncated decrypts and authenticates in.Data with an AEAD whose tag may
// be truncated to tagLen bytes (the first tagLen bytes of the full tag): a
// full tag goes through Open; a short one decrypts with the keystream (what
// Seal adds to zeros), recomputes the full tag over the result and compares
// its prefix in constant time. A mismatch releases no plaintext.
func openTruncated(aead cipher.AEAD, iv []byte, in ports.CipherInput, tagLen int, name string) (ports.CipherOutput, error) {
	if tagLen == aead.Overhead() {
		pt, err := aead.Open(nil, iv, append(append([]byte{}, in.Data...), in.Tag...), in.AAD)
		if err != nil {
			return ports.CipherOutput{}, fmt.Errorf("%w: %s authentication tag mismatch", ports.ErrCryptoFailure, name)
		}
		return ports.CipherOutput{Data: pt}, nil
	}
	ks := aead.Seal(nil, iv, make([]byte, len(in.Data)), nil)[:len(in.Data)]
	pt := make([]byte, len(in.Data))
	subtle.XORBytes(pt, in.Data, ks)
	full := aead.Seal(nil, iv, pt, in.AAD)[len(pt):]
	if subtle.ConstantTimeCompare(full[:tagLen], in.Tag) != 1 {
		clear(pt)
		return ports.CipherOutput{}, fmt.Errorf("%w: %s authentication tag mismatch", ports.ErrCryptoFailure, name)
	}
	return ports.CipherOutput{Data: pt}, nil
}
