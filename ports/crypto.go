package ports

import "context"

// SymmetricKeySpec asks an engine for a new symmetric key.
type SymmetricKeySpec struct {
	// ID is the Unique Identifier the key will have; engines that keep keys
	// (HSMs) label the key with it.
	ID string
	// Algorithm is a Cryptographic Algorithm enumeration value.
	Algorithm uint32
	// Length is the key length in bits.
	Length int
	// UsageMask is the Cryptographic Usage Mask of the new key.
	UsageMask int32
}

// Key is key material produced by an engine: the bytes themselves for engines
// that hand keys out, or a reference for engines that keep keys inside (HSM).
type Key struct {
	// Material is in Format (a Key Format Type; zero means Raw).
	Material []byte
	Format   uint32
	// Ref identifies a key kept inside the engine; empty for software keys.
	// A kept public key may come with its Material too.
	Ref string
	// NonExtractable reports that the engine will not release the material
	// of the key kept under Ref (ExportKey answers ErrNotExtractable).
	NonExtractable bool
}

// CryptoEngine performs key generation and cryptographic operations. Optional
// capabilities (encryption, signing, MAC, wrapping ...) are separate small
// interfaces that an engine may also implement.
type CryptoEngine interface {
	// Name identifies the engine in logs and Query responses ("software", "pkcs11").
	Name() string
	// GenerateSymmetricKey creates a new key. It returns ErrUnsupported for an
	// algorithm the engine lacks and ErrInvalidLength for a length the
	// algorithm does not allow.
	GenerateSymmetricKey(ctx context.Context, spec SymmetricKeySpec) (Key, error)
	// RandomBytes returns n bytes from the engine's approved RNG.
	RandomBytes(ctx context.Context, n int) ([]byte, error)
}
