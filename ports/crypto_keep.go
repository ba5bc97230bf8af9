package ports

import "context"

// ImportSpec is key material to place inside an engine that keeps keys
// (Register, Join Split Key, Import of a key with plaintext material).
type ImportSpec struct {
	// ID is the Unique Identifier the key has; the engine labels the key with it.
	ID string
	// ObjectType is Symmetric Key, Private Key or Public Key.
	ObjectType uint32
	// Algorithm is the Cryptographic Algorithm; Length the Cryptographic Length in bits.
	Algorithm uint32
	Length    int
	// Format is the Key Format Type of Material: Raw for symmetric keys,
	// PKCS#1 or PKCS#8 for private keys, PKCS#1 or X.509 for public keys.
	Format   uint32
	Material []byte
	// UsageMask is the Cryptographic Usage Mask of the key.
	UsageMask int32
}

// KeyKeeper is the capability of an engine that keeps keys inside itself (an
// HSM). Keys it generates or imports come back with Key.Ref set and, for
// secret and private keys, no Material: the application stores the reference
// and hands it back in KeyHandle.Ref. Every other capability of such an
// engine accepts both referenced keys and keys given as Material.
type KeyKeeper interface {
	// ImportKey places spec's material in the engine and returns its
	// reference. It returns ErrUnsupported for a key type the engine cannot hold.
	ImportKey(ctx context.Context, spec ImportSpec) (Key, error)
	// ExportKey returns the material of the key kept under key.Ref, in the
	// format the engine chooses (Raw for symmetric keys, PKCS#8 for private
	// keys, X.509 for public keys), or ErrNotExtractable.
	ExportKey(ctx context.Context, key KeyHandle) (Key, error)
	// DestroyKey removes the key kept under key.Ref. Destroying a key that is
	// already gone is not an error, so a Destroy may be retried.
	DestroyKey(ctx context.Context, key KeyHandle) error
}
