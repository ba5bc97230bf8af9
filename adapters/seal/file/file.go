// Package file is the key-file seal: a 256-bit key-encryption key (KEK)
// kept in a file outside the database, readable by its owner only, that
// wraps data keys with AES-256-GCM (ports.KEK).
package file

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kmipd/kmipd/ports"
)

// KeySize is the KEK's size in bytes.
const KeySize = 32

// header starts every key file; the key follows in hex on the same line.
const header = "kmipd-seal-kek-v1 "

// wrapVersion is the first byte of a wrapped data key.
const wrapVersion = 1

// KEK is a key-encryption key read from a key file.
type KEK struct {
	id   string
	aead cipher.AEAD
}

var _ ports.KEK = (*KEK)(nil)

// Generate writes a new random KEK to path, created with mode 0600; it
// refuses to overwrite an existing file.
func Generate(path string) error {
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(header + hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// Open reads the KEK in path. The file must be a regular file that neither
// its group nor others may read or write (mode 0600 or stricter). Errors
// never contain key bytes.
func Open(path string) (*KEK, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("mode %04o lets others read it; chmod 600", fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := strings.TrimRight(string(b), "\r\n")
	if !strings.HasPrefix(text, header) {
		return nil, errors.New("not a kmipd seal key file (make one with kmipd seal keygen)")
	}
	key, err := hex.DecodeString(strings.TrimPrefix(text, header))
	if err != nil || len(key) != KeySize {
		return nil, errors.New("damaged seal key file: want 64 hex digits after the header")
	}
	return New(key)
}

// New returns the KEK of a 32-byte key.
func New(key []byte) (*KEK, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a KEK has %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("kmipd seal KEK id\x00"), key...))
	return &KEK{id: "file:" + hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// ID is "file:" and 16 hex digits of a SHA-256 digest of the key.
func (k *KEK) ID() string { return k.id }

// WrapKey encrypts dek with AES-256-GCM under a random 96-bit nonce, the
// KEK's ID as associated data: version byte, nonce, ciphertext and tag.
func (k *KEK) WrapKey(ctx context.Context, dek []byte) ([]byte, error) {
	if len(dek) < 16 || len(dek) > 64 {
		return nil, fmt.Errorf("seal: a data key has 16 to 64 bytes, not %d", len(dek))
	}
	out := make([]byte, 1+k.aead.NonceSize(), 1+k.aead.NonceSize()+len(dek)+k.aead.Overhead())
	out[0] = wrapVersion
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, out[1:], dek, []byte(k.id)), nil
}

// UnwrapKey reverses WrapKey; ports.ErrUnwrap if wrapped is not its output.
func (k *KEK) UnwrapKey(ctx context.Context, wrapped []byte) ([]byte, error) {
	n := 1 + k.aead.NonceSize()
	if len(wrapped) < n+k.aead.Overhead() || wrapped[0] != wrapVersion {
		return nil, fmt.Errorf("seal: %w: malformed", ports.ErrUnwrap)
	}
	dek, err := k.aead.Open(nil, wrapped[1:n], wrapped[n:], []byte(k.id))
	if err != nil {
		return nil, fmt.Errorf("seal: %w under %s", ports.ErrUnwrap, k.id)
	}
	return dek, nil
}
