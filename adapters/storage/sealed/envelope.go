package sealed

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/kmipd/kmipd/ports"
)

// The envelope of a sealed value (format version 1), with str = uvarint
// length + bytes:
//
//	byte 1, str KEK ID, str wrapped data key, 12-byte nonce,
//	AES-256-GCM ciphertext and tag of the value
//
// The data key is 32 random bytes wrapped by the KEK the ID names; the
// associated data binds the envelope to where it is stored (objectAAD,
// scratchAAD).
const envelopeVersion = 1

const (
	dekSize   = 32
	nonceSize = 12
)

// ErrUnseal reports a sealed value that cannot be opened: its KEK is not
// configured, its data key does not unwrap, or the value was altered or
// moved to another object, revision or key.
var ErrUnseal = errors.New("sealed value cannot be unsealed")

// envelope is a parsed sealed value.
type envelope struct {
	kekID      string
	wrapped    []byte
	nonce, box []byte
}

func (e envelope) marshal() []byte {
	b := appendHeader(make([]byte, 0, 1+2+len(e.kekID)+2+len(e.wrapped)+len(e.nonce)+len(e.box)), e.kekID, e.wrapped)
	b = append(b, e.nonce...)
	return append(b, e.box...)
}

// appendHeader appends what an envelope holds before its nonce: the
// version, the KEK ID and the wrapped data key.
func appendHeader(b []byte, kekID string, wrapped []byte) []byte {
	b = append(b, envelopeVersion)
	b = binary.AppendUvarint(b, uint64(len(kekID)))
	b = append(b, kekID...)
	b = binary.AppendUvarint(b, uint64(len(wrapped)))
	return append(b, wrapped...)
}

// headerLen is the length of the header of k's envelopes.
func (k *dataKey) headerLen() int { return len(appendHeader(nil, k.kekID, k.wrapped)) }

func parseEnvelope(b []byte) (envelope, error) {
	bad := fmt.Errorf("%w: malformed envelope", ErrUnseal)
	if len(b) == 0 || b[0] != envelopeVersion {
		return envelope{}, bad
	}
	b = b[1:]
	field := func() []byte {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			b = nil
			return nil
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v
	}
	id := field()
	wrapped := field()
	if id == nil || wrapped == nil || len(b) < nonceSize+16 {
		return envelope{}, bad
	}
	return envelope{kekID: string(id), wrapped: wrapped, nonce: b[:nonceSize], box: b[nonceSize:]}, nil
}

// dataKey is an unwrapped data key and its wrapped form under a KEK.
type dataKey struct {
	key     []byte
	kekID   string
	wrapped []byte
}

func (k *dataKey) wipe() {
	if k != nil {
		clear(k.key)
	}
}

// newDataKey makes a random data key wrapped under kek.
func newDataKey(ctx context.Context, kek ports.KEK) (*dataKey, error) {
	key := make([]byte, dekSize)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, err
	}
	wrapped, err := kek.WrapKey(ctx, key)
	if err != nil {
		clear(key)
		return nil, fmt.Errorf("seal: wrapping a data key: %w", err)
	}
	return &dataKey{key: key, kekID: kek.ID(), wrapped: wrapped}, nil
}

// rewrap returns k wrapped under kek: k itself when it already is.
func (k *dataKey) rewrap(ctx context.Context, kek ports.KEK) (*dataKey, error) {
	if k.kekID == kek.ID() {
		return k, nil
	}
	wrapped, err := kek.WrapKey(ctx, k.key)
	if err != nil {
		return nil, fmt.Errorf("seal: wrapping a data key: %w", err)
	}
	return &dataKey{key: k.key, kekID: kek.ID(), wrapped: wrapped}, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts plaintext under k with the associated data aad.
func (k *dataKey) seal(plaintext, aad []byte) ([]byte, error) {
	aead, err := gcm(k.key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceSize)
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	e := envelope{kekID: k.kekID, wrapped: k.wrapped, nonce: nonce, box: aead.Seal(nil, nonce, plaintext, aad)}
	return e.marshal(), nil
}

// open unwraps the data key of the envelope in b with the KEK it names
// (one of keks) and decrypts the value; errors wrap ErrUnseal and never
// hold the value.
func open(ctx context.Context, keks map[string]ports.KEK, b, aad []byte) ([]byte, *dataKey, error) {
	e, err := parseEnvelope(b)
	if err != nil {
		return nil, nil, err
	}
	kek, ok := keks[e.kekID]
	if !ok {
		return nil, nil, fmt.Errorf("%w: sealed under KEK %s, which is not configured", ErrUnseal, e.kekID)
	}
	key, err := kek.UnwrapKey(ctx, e.wrapped)
	if err != nil {
		if errors.Is(err, ports.ErrUnwrap) {
			return nil, nil, fmt.Errorf("%w: data key does not unwrap under KEK %s", ErrUnseal, e.kekID)
		}
		return nil, nil, fmt.Errorf("seal: unwrapping a data key: %w", err)
	}
	dk := &dataKey{key: key, kekID: e.kekID, wrapped: e.wrapped}
	aead, err := gcm(key)
	if err != nil {
		dk.wipe()
		return nil, nil, fmt.Errorf("%w: %v", ErrUnseal, err)
	}
	plain, err := aead.Open(nil, e.nonce, e.box, aad)
	if err != nil {
		dk.wipe()
		return nil, nil, fmt.Errorf("%w: the value was altered, or moved from another object or revision", ErrUnseal)
	}
	return plain, dk, nil
}
