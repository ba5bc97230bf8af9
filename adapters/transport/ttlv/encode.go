package ttlv

import (
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Encode returns the TTLV encoding of it (KMIP 1.4 §9.1.1). It fails with
// ErrInvalid if any item's Value lacks the Go type its Type requires (see
// kmip.Item), a tag is not 0x42xxxx or 0x54xxxx, a Text String is not valid
// UTF-8, a Date-Time Extended does not fit 64-bit microseconds, or a length
// does not fit 32 bits. The encoder itself is kmip.AppendTTLV.
func Encode(it *kmip.Item) ([]byte, error) { return AppendEncode(nil, it) }

// AppendEncode appends the TTLV encoding of it to dst, growing dst at most
// once; on error it returns dst unchanged along with an ErrInvalid error.
func AppendEncode(dst []byte, it *kmip.Item) ([]byte, error) {
	out, err := kmip.AppendTTLV(dst, it)
	if err != nil {
		return dst, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return out, nil
}

// EncodedLen returns the number of bytes Encode(it) produces, or -1 if it
// cannot be encoded.
func EncodedLen(it *kmip.Item) int { return kmip.TTLVLen(it) }
