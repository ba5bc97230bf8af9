package software

import (
	"context"
	"crypto/hmac"
	"encoding/binary"
	"hash"
)

// pbkdf2CheckEvery is how many PBKDF2 iterations run between two checks of
// the request's deadline: a few milliseconds of one core.
const pbkdf2CheckEvery = 4096

// pbkdf2Key is PBKDF2 (RFC 8018 §5.2) with HMAC over h, the same output as
// crypto/pbkdf2.Key, that stops with ctx's error when ctx ends: the
// iterations are the longest computation a client controls, so the request
// deadline bounds them rather than only maxPBKDF2Work.
func pbkdf2Key(ctx context.Context, h func() hash.Hash, password, salt []byte, iter, keyLen int) ([]byte, error) {
	prf := hmac.New(h, password)
	size := prf.Size()
	out := make([]byte, 0, (keyLen+size-1)/size*size)
	u := make([]byte, size)
	t := make([]byte, size)
	for block := uint32(1); len(out) < keyLen; block++ {
		prf.Reset()
		prf.Write(salt)
		prf.Write(binary.BigEndian.AppendUint32(nil, block))
		u = prf.Sum(u[:0])
		copy(t, u)
		for i := 1; i < iter; i++ {
			if i%pbkdf2CheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					clear(out[:cap(out)])
					return nil, err
				}
			}
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			for j := range t {
				t[j] ^= u[j]
			}
		}
		out = append(out, t...)
	}
	clear(u)
	clear(t)
	return out[:keyLen], nil
}
