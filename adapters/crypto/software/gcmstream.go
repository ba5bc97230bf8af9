package software

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"fmt"

	"github.com/kmipd/kmipd/adapters/crypto/internal/kmipparams"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Streamed GCM (NIST SP 800-38D §7): the counter-mode keystream and GHASH
// over the AAD and the ciphertext, run part by part. The state between
// parts is the pre-counter block J0, the GHASH accumulator, the AAD and
// ciphertext lengths, the Tag Length and any input short of a block. The
// accumulator reveals the hash subkey to whoever also sees the ciphertext,
// so the state must stay on the server (ports.CipherOutput.State).
//
// Streamed decryption hands out plaintext before the final part checks the
// tag: a caller must discard all of it if the final part fails.

// gcmElement is an element of GF(2^128) in GCM's bit order: the first byte's
// most significant bit is the coefficient of x^0.
type gcmElement struct{ low, high uint64 }

// ghash is the GHASH function for one hash subkey, with the 4-bit
// multiplication table of Shoup's method.
type ghash struct{ table [16]gcmElement }

func reverse4(i int) int {
	i = ((i << 2) & 0xc) | ((i >> 2) & 0x3)
	return ((i << 1) & 0xa) | ((i >> 1) & 0x5)
}

func double(x gcmElement) gcmElement {
	msb := x.high&1 == 1
	d := gcmElement{high: x.high>>1 | x.low<<63, low: x.low >> 1}
	if msb {
		d.low ^= 0xe100000000000000
	}
	return d
}

func newGHASH(h []byte) *ghash {
	g := &ghash{}
	x := gcmElement{low: binary.BigEndian.Uint64(h), high: binary.BigEndian.Uint64(h[8:])}
	g.table[reverse4(1)] = x
	for i := 2; i < 16; i += 2 {
		g.table[reverse4(i)] = double(g.table[reverse4(i/2)])
		t := g.table[reverse4(i)]
		g.table[reverse4(i+1)] = gcmElement{low: t.low ^ x.low, high: t.high ^ x.high}
	}
	return g
}

var ghashReduction = [16]uint16{
	0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0,
	0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0,
}

// mul sets y to y·H.
func (g *ghash) mul(y *gcmElement) {
	var z gcmElement
	for i := range 2 {
		word := y.high
		if i == 1 {
			word = y.low
		}
		for j := 0; j < 64; j += 4 {
			msw := z.high & 0xf
			z.high = z.high>>4 | z.low<<60
			z.low = z.low>>4 ^ uint64(ghashReduction[msw])<<48
			t := g.table[word&0xf]
			z.low ^= t.low
			z.high ^= t.high
			word >>= 4
		}
	}
	*y = z
}

// update absorbs data into y, the last block padded with zeros.
func (g *ghash) update(y *gcmElement, data []byte) {
	for len(data) > 0 {
		var blk [16]byte
		n := copy(blk[:], data)
		data = data[n:]
		y.low ^= binary.BigEndian.Uint64(blk[:])
		y.high ^= binary.BigEndian.Uint64(blk[8:])
		g.mul(y)
	}
}

// gcmState is the continuation of a streamed GCM operation.
type gcmState struct {
	j0            [16]byte
	y             gcmElement
	aadLen, ctLen uint64 // bytes
	tagLen        int    // 0: not given, the final part's tag decides
}

const gcmStateLen = 16 + 16 + 8 + 8 + 1

func (s *gcmState) marshal() []byte {
	b := append([]byte{}, s.j0[:]...)
	b = binary.BigEndian.AppendUint64(b, s.y.low)
	b = binary.BigEndian.AppendUint64(b, s.y.high)
	b = binary.BigEndian.AppendUint64(b, s.aadLen)
	b = binary.BigEndian.AppendUint64(b, s.ctLen)
	return append(b, byte(s.tagLen))
}

func (s *gcmState) unmarshal(b []byte) error {
	if len(b) != gcmStateLen {
		return errState
	}
	copy(s.j0[:], b)
	s.y = gcmElement{low: binary.BigEndian.Uint64(b[16:]), high: binary.BigEndian.Uint64(b[24:])}
	s.aadLen = binary.BigEndian.Uint64(b[32:])
	s.ctLen = binary.BigEndian.Uint64(b[40:])
	s.tagLen = int(b[48])
	if s.ctLen%16 != 0 || (s.tagLen != 0 && (s.tagLen < 12 || s.tagLen > 16)) {
		return errState
	}
	return nil
}

// gcmMaxBlocks is the most blocks one GCM message may encrypt (2^32 - 2).
const gcmMaxBlocks = 1<<32 - 2

// cryptGCMStream runs one part of a streamed GCM Encrypt or Decrypt. AAD is
// taken on the first part only; a part that is not the last processes whole
// blocks and keeps the rest; the last produces (Encrypt) or checks (Decrypt)
// the tag.
func cryptGCMStream(b cipher.Block, alg kmip.CryptographicAlgorithm, p ports.CryptoParams, in ports.CipherInput, enc bool) (ports.CipherOutput, error) {
	var (
		st  streamState
		g   gcmState
		out ports.CipherOutput
		h   [16]byte
	)
	b.Encrypt(h[:], h[:])
	gh := newGHASH(h[:])
	clear(h[:])
	if in.State != nil {
		if err := st.unmarshal(in.State, alg, kmip.BlockCipherModeGCM, enc); err != nil {
			return ports.CipherOutput{}, err
		}
		if err := g.unmarshal(st.chain); err != nil {
			return ports.CipherOutput{}, err
		}
		if len(st.buf) >= 16 {
			return ports.CipherOutput{}, errState
		}
		if in.AAD != nil {
			return ports.CipherOutput{}, fmt.Errorf("%w: streamed GCM takes the additional data on the first part only", ports.ErrInvalidInput)
		}
		if p.TagLength != 0 && g.tagLen != 0 && p.TagLength != g.tagLen {
			return ports.CipherOutput{}, fmt.Errorf("%w: GCM tag length changed during the stream", ports.ErrInvalidInput)
		}
		if g.tagLen == 0 {
			g.tagLen = p.TagLength
		}
	} else {
		if p.TagLength != 0 && (p.TagLength < 12 || p.TagLength > 16) {
			return ports.CipherOutput{}, fmt.Errorf("%w: GCM tag length %d bytes (allowed: 12 to 16)", ports.ErrInvalidInput, p.TagLength)
		}
		g.tagLen = p.TagLength
		iv, gen, err := kmipparams.NewIV(p, in, enc, 0, 12)
		if err != nil {
			return ports.CipherOutput{}, err
		}
		if len(iv) == 0 {
			return ports.CipherOutput{}, fmt.Errorf("%w: empty GCM nonce", ports.ErrInvalidInput)
		}
		if gen {
			out.IV = iv
		}
		if len(iv) == 12 {
			copy(g.j0[:], iv)
			g.j0[15] = 1
		} else {
			var y gcmElement
			gh.update(&y, iv)
			var lens [16]byte
			binary.BigEndian.PutUint64(lens[8:], uint64(len(iv))*8)
			gh.update(&y, lens[:])
			binary.BigEndian.PutUint64(g.j0[:], y.low)
			binary.BigEndian.PutUint64(g.j0[8:], y.high)
		}
		gh.update(&g.y, in.AAD)
		g.aadLen = uint64(len(in.AAD))
		st = streamState{alg: alg, mode: kmip.BlockCipherModeGCM, enc: enc}
	}
	data := append(st.buf, in.Data...)
	n := len(data)
	if in.Partial {
		n -= n % 16
	}
	done := g.ctLen / 16
	if done+(uint64(n)+15)/16 > gcmMaxBlocks {
		return ports.CipherOutput{}, fmt.Errorf("%w: GCM message longer than 2^32-2 blocks", ports.ErrInvalidInput)
	}
	// Counter blocks inc32(J0)+done+1, ... (SP 800-38D §6.5, GCTR).
	ctr := g.j0
	c32 := binary.BigEndian.Uint32(g.j0[12:]) + 1 + uint32(done)
	out.Data = make([]byte, n)
	var ks [16]byte
	for off := 0; off < n; off += 16 {
		binary.BigEndian.PutUint32(ctr[12:], c32)
		c32++
		b.Encrypt(ks[:], ctr[:])
		subtle.XORBytes(out.Data[off:min(off+16, n)], data[off:min(off+16, n)], ks[:])
	}
	ct := data[:n]
	if enc {
		ct = out.Data
	}
	gh.update(&g.y, ct)
	g.ctLen += uint64(n)
	if in.Partial {
		st.chain = g.marshal()
		st.buf = append([]byte{}, data[n:]...)
		out.State = st.marshal()
		return out, nil
	}
	var lens [16]byte
	binary.BigEndian.PutUint64(lens[:], g.aadLen*8)
	binary.BigEndian.PutUint64(lens[8:], g.ctLen*8)
	gh.update(&g.y, lens[:])
	var tag [16]byte // E(K, J0) xor S
	b.Encrypt(tag[:], g.j0[:])
	var s [16]byte
	binary.BigEndian.PutUint64(s[:], g.y.low)
	binary.BigEndian.PutUint64(s[8:], g.y.high)
	subtle.XORBytes(tag[:], tag[:], s[:])
	tagLen := g.tagLen
	if enc {
		if tagLen == 0 {
			tagLen = 16
		}
		out.Tag = append([]byte{}, tag[:tagLen]...)
		return out, nil
	}
	if tagLen == 0 {
		tagLen = len(in.Tag)
	}
	if tagLen < 12 || tagLen > 16 || len(in.Tag) != tagLen {
		clear(out.Data)
		return ports.CipherOutput{}, fmt.Errorf("%w: GCM tag of %d bytes (want %d)", ports.ErrInvalidInput, len(in.Tag), tagLen)
	}
	if subtle.ConstantTimeCompare(tag[:tagLen], in.Tag) != 1 {
		clear(out.Data)
		return ports.CipherOutput{}, fmt.Errorf("%w: GCM authentication tag mismatch", ports.ErrCryptoFailure)
	}
	return out, nil
}
