// Package ttlv is the binary TTLV encoding of KMIP messages (KMIP 1.4 §9.1,
// KMIP 2.1 §10.1 "TTLV Encoding"): it turns kmip.Item trees into bytes and
// back, strictly, and frames whole messages on a byte stream.
//
// Each item is Tag (3 bytes, 0x42xxxx or 0x54xxxx), Type (1 byte), Length
// (4 bytes, big-endian) and Value, padded with zero bytes to a multiple of 8.
//
// Errors come in two kinds, both matchable with errors.Is: ErrFraming means
// the message boundaries cannot be trusted and the connection must be closed;
// ErrInvalid means the boundaries are sound but the content is not, so the
// peer can be answered with a KMIP "Invalid Message" result.
package ttlv

import (
	"errors"
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
)

var (
	// ErrFraming reports broken message framing: a truncated header or body,
	// an outer length that disagrees with the bytes at hand, a message too
	// large, or a stream that does not start with a TTLV Structure. The byte
	// stream can no longer be trusted; close the connection.
	ErrFraming = errors.New("ttlv: framing error")

	// ErrInvalid reports a message whose outer framing is sound but whose
	// content is not valid TTLV (bad inner length, padding, type, tag, value,
	// UTF-8, or a decoding limit exceeded). Encode also returns it for items
	// that cannot be encoded. A server answers it with Result Reason
	// "Invalid Message".
	ErrInvalid = errors.New("ttlv: invalid message")

	// ErrTooLarge reports a message longer than the configured maximum size;
	// it wraps ErrFraming.
	ErrTooLarge = fmt.Errorf("%w: message too large", ErrFraming)
)

// Limits bounds what Decode accepts; a zero field means DefaultLimits' value.
type Limits struct {
	// MaxDepth is the deepest Structure nesting accepted; the root item is
	// depth 1. It is capped at 4096 whatever its value.
	MaxDepth int
	// MaxItems is the largest number of items (the root included) accepted.
	MaxItems int
	// MaxSize is the largest encoded message, in bytes, accepted.
	MaxSize int
}

// DefaultLimits are the limits used for fields of Limits left zero.
var DefaultLimits = Limits{MaxDepth: 64, MaxItems: 100000, MaxSize: 16 << 20}

// maxDepthCeiling bounds recursion whatever Limits.MaxDepth says.
const maxDepthCeiling = 4096

// headerLen is the size of an item's Tag, Type and Length fields.
const headerLen = 8

// effective returns l with zero fields replaced by DefaultLimits and the
// depth capped at maxDepthCeiling.
func (l Limits) effective() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxDepth > maxDepthCeiling {
		l.MaxDepth = maxDepthCeiling
	}
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultLimits.MaxItems
	}
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultLimits.MaxSize
	}
	return l
}

// validTagPrefix reports whether the tag's first byte is 0x42 (standard) or
// 0x54 (extension), as KMIP 1.4 §9.1.3.1 requires.
func validTagPrefix(b0 byte) bool { return b0 == 0x42 || b0 == 0x54 }

// pad8 rounds n up to a multiple of 8.
func pad8(n int) int { return (n + 7) &^ 7 }

// PeekTag returns the tag of the item encoded at the start of b, without
// validating anything else; ok is false if b is shorter than a tag.
func PeekTag(b []byte) (kmip.Tag, bool) {
	if len(b) < 3 {
		return 0, false
	}
	return kmip.Tag(uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])), true
}
