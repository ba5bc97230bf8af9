package kmipparams

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/kmipd/kmipd/ports"
)

// NewIV returns the caller's IV, checked to be want bytes (any length when
// want is 0), or for encryption a fresh random IV of the Cryptographic
// Parameters' IV Length (a multiple of 8 bits up to 1024, equal to want
// when want is set; def bytes when absent), with generated true.
// Decryption without an IV is ErrInvalidInput.
func NewIV(p ports.CryptoParams, in ports.CipherInput, enc bool, want, def int) (iv []byte, generated bool, err error) {
	if in.IV != nil {
		if want != 0 && len(in.IV) != want {
			return nil, false, fmt.Errorf("%w: IV of %d bytes (want %d)", ports.ErrInvalidInput, len(in.IV), want)
		}
		return in.IV, false, nil
	}
	if !enc {
		return nil, false, fmt.Errorf("%w: decryption needs the IV/Counter/Nonce", ports.ErrInvalidInput)
	}
	n := def
	if p.IVLength != 0 {
		if p.IVLength%8 != 0 || (want != 0 && p.IVLength/8 != want) || p.IVLength <= 0 || p.IVLength > 1024 {
			return nil, false, fmt.Errorf("%w: IV length %d bits", ports.ErrInvalidInput, p.IVLength)
		}
		n = p.IVLength / 8
	}
	iv = make([]byte, n)
	if _, err := rand.Read(iv); err != nil {
		return nil, false, err
	}
	return iv, true, nil
}

// CTRInitialBlock builds the first CTR counter block of a bs-byte block
// cipher when the client gives an Initial Counter Value (KMIP 1.4 §3.6):
// the IV is the nonce, the counter takes the rest of the block (Counter
// Length bits, 8 to 64, when given; else what the IV leaves; 32 bits when
// the engine generates the nonce) and starts at the value, as RFC 3686
// builds nonce || IV || counter from 1. It returns the block and the nonce
// it generated (nil when the client gave it). The caller runs the whole
// block as a big-endian counter, so the counter carries into the nonce if
// it wraps.
func CTRInitialBlock(p ports.CryptoParams, in ports.CipherInput, enc bool, bs int) (block, generated []byte, err error) {
	bad := func(why string) ([]byte, []byte, error) {
		return nil, nil, fmt.Errorf("%w: CTR with an Initial Counter Value: %s", ports.ErrInvalidInput, why)
	}
	c := 4
	switch {
	case p.CounterLength != 0:
		if p.CounterLength%8 != 0 || p.CounterLength < 8 || p.CounterLength > 64 || p.CounterLength/8 >= bs {
			return bad(fmt.Sprintf("Counter Length %d bits", p.CounterLength))
		}
		c = p.CounterLength / 8
	case in.IV != nil:
		c = bs - len(in.IV)
	}
	if in.IV != nil && len(in.IV) != bs-c {
		return bad(fmt.Sprintf("an IV of %d bytes leaves %d for the counter (want 1 to 8, as Counter Length says)", len(in.IV), bs-len(in.IV)))
	}
	if c < 1 || c > 8 {
		return bad(fmt.Sprintf("a %d-byte counter", c))
	}
	if p.InitialCounterValue < 0 || (c < 8 && p.InitialCounterValue >= 1<<(8*c)) {
		return bad(fmt.Sprintf("value %d does not fit a %d-bit counter", p.InitialCounterValue, 8*c))
	}
	nonce := in.IV
	if nonce == nil {
		if !enc {
			return nil, nil, fmt.Errorf("%w: decryption needs the IV/Counter/Nonce", ports.ErrInvalidInput)
		}
		nonce = make([]byte, bs-c)
		if _, err := rand.Read(nonce); err != nil {
			return nil, nil, err
		}
		generated = nonce
	}
	block = make([]byte, bs)
	copy(block, nonce)
	ctr := binary.BigEndian.AppendUint64(nil, uint64(p.InitialCounterValue))
	copy(block[bs-c:], ctr[8-c:])
	return block, generated, nil
}

// GCMTagLength is the GCM tag length in bytes: Tag Length when given,
// else the length of the tag a decryption brings, else 16; outside 12 to
// 16 it is ErrInvalidInput.
func GCMTagLength(p ports.CryptoParams, in ports.CipherInput, enc bool) (int, error) {
	tagLen := p.TagLength
	if tagLen == 0 {
		tagLen = 16
		if !enc && len(in.Tag) != 0 {
			tagLen = len(in.Tag)
		}
	}
	if tagLen < 12 || tagLen > 16 {
		return 0, fmt.Errorf("%w: GCM tag length %d bytes (allowed: 12 to 16)", ports.ErrInvalidInput, tagLen)
	}
	return tagLen, nil
}
