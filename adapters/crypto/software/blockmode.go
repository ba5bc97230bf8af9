package software

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// cryptBlock runs a block cipher in ECB, CBC, CFB (full-block feedback),
// OFB or CTR (the whole IV block is a big-endian counter; with an Initial
// Counter Value, the IV is the nonce before it: kmipparams.CTRInitialBlock) mode, with PKCS#5
// (= PKCS#7), ANSI X9.23 or ISO 10126 padding for ECB and CBC.
//
// Streaming: on a Partial part it processes whole blocks only and returns
// the rest, with the chaining value (never the key), in State; decryption
// with padding also holds back the last whole block, which may be the
// padded one, until the final part.
func cryptBlock(b cipher.Block, alg kmip.CryptographicAlgorithm, p ports.CryptoParams, in ports.CipherInput, enc bool) (ports.CipherOutput, error) {
	mode := kmip.BlockCipherMode(p.BlockCipherMode)
	switch mode {
	case kmip.BlockCipherModeECB, kmip.BlockCipherModeCBC, kmip.BlockCipherModeCFB, kmip.BlockCipherModeOFB, kmip.BlockCipherModeCTR:
	case 0:
		return ports.CipherOutput{}, fmt.Errorf("%w: %s needs a block cipher mode", ports.ErrInvalidInput, alg)
	default:
		return ports.CipherOutput{}, fmt.Errorf("%w: block cipher mode %s", ports.ErrUnsupported, mode)
	}
	padded := mode == kmip.BlockCipherModeECB || mode == kmip.BlockCipherModeCBC
	pad, err := kmipparams.BlockPadding(p)
	if err != nil {
		return ports.CipherOutput{}, err
	}
	if !padded {
		pad = 0 // stream-like modes need no padding
	}
	bs := b.BlockSize()
	var (
		st  streamState
		out ports.CipherOutput
	)
	if in.State != nil {
		if err := st.unmarshal(in.State, alg, mode, enc); err != nil {
			return ports.CipherOutput{}, err
		}
		if st.pad != pad {
			return ports.CipherOutput{}, fmt.Errorf("%w: streaming state has another padding method", ports.ErrInvalidInput)
		}
		if (mode != kmip.BlockCipherModeECB && len(st.chain) != bs) || len(st.buf) > bs {
			return ports.CipherOutput{}, errState
		}
	} else {
		st = streamState{alg: alg, mode: mode, pad: pad, enc: enc}
		if mode != kmip.BlockCipherModeECB {
			var (
				iv  []byte
				gen bool
				err error
			)
			if mode == kmip.BlockCipherModeCTR && p.InitialCounterSet {
				iv, out.IV, err = kmipparams.CTRInitialBlock(p, in, enc, bs)
			} else {
				iv, gen, err = kmipparams.NewIV(p, in, enc, bs, bs)
				if gen {
					out.IV = iv
				}
			}
			if err != nil {
				return ports.CipherOutput{}, err
			}
			st.chain = append([]byte{}, iv...)
		}
	}
	data := append(append([]byte{}, st.buf...), in.Data...)
	n := len(data)
	switch {
	case in.Partial:
		n -= n % bs
		if padded && pad != 0 && !enc && n == len(data) && n > 0 {
			n -= bs
		}
	case padded && pad != 0 && enc:
		data = kmipparams.AddPadding(data, bs, pad)
		n = len(data)
	case padded && n%bs != 0:
		return ports.CipherOutput{}, fmt.Errorf("%w: %d bytes is not a multiple of the %d-byte block", ports.ErrInvalidInput, n, bs)
	}
	res := make([]byte, n)
	runMode(b, mode, enc, st.chain, res, data[:n])
	if in.Partial {
		st.buf = data[n:]
		out.State = st.marshal()
	} else if padded && pad != 0 && !enc {
		var err error
		if res, err = kmipparams.RemovePadding(res, bs, pad); err != nil {
			return ports.CipherOutput{}, err
		}
	}
	out.Data = res
	return out, nil
}

// runMode processes src into dst, updating chain (the IV, previous
// ciphertext, previous output or next counter) in place. src is whole
// blocks except, for the stream-like modes, a final short block.
func runMode(b cipher.Block, mode kmip.BlockCipherMode, enc bool, chain, dst, src []byte) {
	bs := b.BlockSize()
	ks := make([]byte, bs)
	for off := 0; off < len(src); off += bs {
		end := min(off+bs, len(src))
		s, d := src[off:end], dst[off:end]
		switch mode {
		case kmip.BlockCipherModeECB:
			if enc {
				b.Encrypt(d, s)
			} else {
				b.Decrypt(d, s)
			}
		case kmip.BlockCipherModeCBC:
			if enc {
				subtle.XORBytes(d, s, chain)
				b.Encrypt(d, d)
				copy(chain, d)
			} else {
				next := append([]byte{}, s...)
				b.Decrypt(d, s)
				subtle.XORBytes(d, d, chain)
				copy(chain, next)
			}
		case kmip.BlockCipherModeCFB:
			b.Encrypt(ks, chain)
			if enc {
				subtle.XORBytes(d, s, ks)
				copy(chain, d)
			} else {
				copy(chain, s)
				subtle.XORBytes(d, s, ks)
			}
		case kmip.BlockCipherModeOFB:
			b.Encrypt(chain, chain)
			subtle.XORBytes(d, s, chain)
		case kmip.BlockCipherModeCTR:
			b.Encrypt(ks, chain)
			subtle.XORBytes(d, s, ks)
			for i := bs - 1; i >= 0; i-- {
				chain[i]++
				if chain[i] != 0 {
					break
				}
			}
		}
	}
}

// streamState is the continuation of a streamed Encrypt or Decrypt: the
// algorithm, mode and padding it was started with, its direction, the
// chaining value and the buffered input. It never holds key material.
type streamState struct {
	alg   kmip.CryptographicAlgorithm
	mode  kmip.BlockCipherMode
	pad   kmip.PaddingMethod
	enc   bool
	chain []byte
	buf   []byte
}

const stateVersion = 1

var errState = fmt.Errorf("%w: streaming state (correlation value) is malformed", ports.ErrInvalidInput)

func (s *streamState) marshal() []byte {
	b := []byte{'k', stateVersion, 0}
	if s.enc {
		b[2] = 1
	}
	b = binary.BigEndian.AppendUint32(b, uint32(s.alg))
	b = binary.BigEndian.AppendUint32(b, uint32(s.mode))
	b = binary.BigEndian.AppendUint32(b, uint32(s.pad))
	b = append(b, byte(len(s.chain)))
	b = append(b, s.chain...)
	return append(b, s.buf...)
}

// unmarshal decodes a state and checks it continues an operation of the
// same algorithm, mode and direction.
func (s *streamState) unmarshal(b []byte, alg kmip.CryptographicAlgorithm, mode kmip.BlockCipherMode, enc bool) error {
	if len(b) < 16 || b[0] != 'k' || b[1] != stateVersion || b[2] > 1 {
		return errState
	}
	s.enc = b[2] == 1
	s.alg = kmip.CryptographicAlgorithm(binary.BigEndian.Uint32(b[3:]))
	s.mode = kmip.BlockCipherMode(binary.BigEndian.Uint32(b[7:]))
	s.pad = kmip.PaddingMethod(binary.BigEndian.Uint32(b[11:]))
	n := int(b[15])
	if len(b) < 16+n {
		return errState
	}
	s.chain = append([]byte{}, b[16:16+n]...)
	s.buf = append([]byte{}, b[16+n:]...)
	if s.alg != alg || s.mode != mode || s.enc != enc {
		return errors.Join(errState, fmt.Errorf("state is for %s %s (encrypt %v)", s.alg, s.mode, s.enc))
	}
	if len(s.buf) > 64 || (mode != kmip.BlockCipherModeECB && n == 0) {
		return errState
	}
	return nil
}
