package ttlv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// readChunk is how much ReadMessage grows a fresh buffer by at a time, so that
// a peer announcing a large message must send it before memory is committed.
const readChunk = 64 << 10

// ReadMessage reads one whole TTLV message (KMIP 1.4 §9.1) from r and returns
// its bytes, header included, in buf's storage when buf's capacity suffices.
//
// The message must start with a Structure whose tag is 0x42xxxx or 0x54xxxx
// and its 8+Length bytes must not exceed maxSize (DefaultLimits.MaxSize if
// maxSize <= 0); otherwise the error wraps ErrFraming (ErrTooLarge for size).
// Memory beyond buf is committed only as body bytes arrive. A stream that
// ends cleanly before the first byte returns io.EOF; one that ends inside a
// message returns an error wrapping ErrFraming and io.ErrUnexpectedEOF.
// The body is not validated: pass the result to Decode. Error texts never
// quote the header's bytes, which may be payload if the stream lost step.
func ReadMessage(r io.Reader, buf []byte, maxSize int) ([]byte, error) {
	if maxSize <= 0 {
		maxSize = DefaultLimits.MaxSize
	}
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated message header: %w", ErrFraming, err)
		}
		return nil, err // io.EOF (clean close) or a transport error
	}
	if !validTagPrefix(hdr[0]) {
		return nil, fmt.Errorf("%w: message tag is not 0x42xxxx or 0x54xxxx", ErrFraming)
	}
	if hdr[3] != 0x01 {
		return nil, fmt.Errorf("%w: message item is not a Structure", ErrFraming)
	}
	total := headerLen + uint64(binary.BigEndian.Uint32(hdr[4:]))
	if total > uint64(maxSize) {
		return nil, fmt.Errorf("%w: message larger than the limit of %d bytes", ErrTooLarge, maxSize)
	}
	n := int(total)

	var msg []byte
	if cap(buf) >= n {
		msg = buf[:headerLen]
	} else {
		msg = make([]byte, headerLen, min(n, max(readChunk, cap(buf))))
	}
	copy(msg, hdr[:])
	for len(msg) < n {
		if len(msg) == cap(msg) {
			grown := make([]byte, len(msg), min(n, 2*cap(msg)))
			copy(grown, msg)
			msg = grown
		}
		m, err := io.ReadFull(r, msg[len(msg):min(cap(msg), n)])
		msg = msg[:len(msg)+m]
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: message truncated after %d bytes: %w", ErrFraming, len(msg), io.ErrUnexpectedEOF)
			}
			return nil, fmt.Errorf("ttlv: reading message body: %w", err)
		}
	}
	return msg, nil
}
