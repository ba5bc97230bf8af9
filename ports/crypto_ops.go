package ports

import "context"

// Optional engine capabilities. An engine implements those it can; the
// application finds them by type assertion and answers Operation Not
// Supported (or Feature Not Supported) for the rest. Each method performs a
// whole KMIP operation on a key the engine resolves from a KeyHandle, because
// HSMs implement modes and paddings as mechanisms of one call: handing out a
// raw cipher.Block from a token would make every block a round trip.
//
// Engines return ErrUnsupported for an algorithm, mode, padding or hash they
// lack, ErrInvalidLength for a bad key length, ErrInvalidInput (below) for
// data the operation cannot accept (wrong IV length, bad padding, data not a
// multiple of the block size), and ErrCryptoFailure when a check fails
// (authentication tag mismatch, unwrap integrity failure).

// KeyHandle is the key an operation uses, as the store holds it.
type KeyHandle struct {
	// ID is the key's Unique Identifier.
	ID string
	// ObjectType is the KMIP Object Type (Symmetric Key, Private Key ...).
	ObjectType uint32
	// Algorithm is the Cryptographic Algorithm; Length the Cryptographic Length in bits.
	Algorithm uint32
	Length    int
	// Format is the Key Format Type of Material (Raw, PKCS#1, PKCS#8, ...).
	Format uint32
	// Material is the key material; nil for keys kept inside the engine.
	Material []byte
	// Ref is the engine's reference for keys it keeps (HSM); empty otherwise.
	Ref string
}

// CryptoParams is the KMIP Cryptographic Parameters structure (KMIP 1.4 §3.6,
// 2.1 §4.12); zero values mean "absent" except where a Set flag says otherwise.
type CryptoParams struct {
	BlockCipherMode               uint32
	PaddingMethod                 uint32
	HashingAlgorithm              uint32
	KeyRoleType                   uint32
	DigitalSignatureAlgorithm     uint32
	CryptographicAlgorithm        uint32
	MaskGenerator                 uint32
	MaskGeneratorHashingAlgorithm uint32
	// RandomIV asks the engine to generate the IV/Counter/Nonce.
	RandomIV bool
	// IVLength, TagLength, FixedFieldLength, InvocationFieldLength and
	// CounterLength are in bits (Tag Length in bytes, as KMIP defines it).
	IVLength              int
	TagLength             int
	FixedFieldLength      int
	InvocationFieldLength int
	CounterLength         int
	InitialCounterValue   int64
	InitialCounterSet     bool
	SaltLength            int
	SaltLengthSet         bool
	PSource               []byte
	TrailerField          int
}

// CipherInput is one Encrypt or Decrypt request (KMIP 1.4 §4.29, §4.30).
type CipherInput struct {
	Data []byte
	// IV is the client's IV/Counter/Nonce; nil lets Encrypt generate one when
	// the mode needs it (and return it), and is an error for Decrypt.
	IV []byte
	// AAD is the Authenticated Encryption Additional Data (GCM).
	AAD []byte
	// Tag is the Authenticated Encryption Tag to check on Decrypt.
	Tag []byte
	// Partial marks a streamed part that is not the last (Final Indicator
	// false); State carries the engine's continuation from the previous part
	// and is nil on the first part.
	Partial bool
	State   []byte
}

// CipherOutput is the result of Encrypt or Decrypt.
type CipherOutput struct {
	Data []byte
	// IV is the IV/Counter/Nonce the engine generated (nil if the client gave one).
	IV []byte
	// Tag is the Authenticated Encryption Tag Encrypt produced.
	Tag []byte
	// State is the continuation for the next streamed part when the input was
	// Partial: chaining values, buffered input, and whatever else the engine
	// needs, such as GCM's GHASH accumulator, which gives away the hash
	// subkey. The application keeps it on the server (ports.ScratchStore) and
	// never hands it to a client; it holds no key itself, so it may be
	// stored like other server state.
	State []byte
}

// Cipher encrypts and decrypts with symmetric and asymmetric keys.
type Cipher interface {
	Encrypt(ctx context.Context, key KeyHandle, p CryptoParams, in CipherInput) (CipherOutput, error)
	Decrypt(ctx context.Context, key KeyHandle, p CryptoParams, in CipherInput) (CipherOutput, error)
}

// Signer signs and verifies (KMIP 1.4 §4.31, §4.32). digested says Data is
// already the hash (Digested Data) rather than the message.
type Signer interface {
	Sign(ctx context.Context, key KeyHandle, p CryptoParams, data []byte, digested bool) ([]byte, error)
	// Verify reports whether sig is valid; an invalid signature is (false,
	// nil), not an error.
	Verify(ctx context.Context, key KeyHandle, p CryptoParams, data []byte, digested bool, sig []byte) (bool, error)
}

// MACer computes and verifies MACs (KMIP 1.4 §4.33, §4.34): HMAC by the
// hashing algorithm, CMAC by the key's block cipher.
type MACer interface {
	MAC(ctx context.Context, key KeyHandle, p CryptoParams, data []byte) ([]byte, error)
	// VerifyMAC compares in constant time; a mismatch is (false, nil).
	VerifyMAC(ctx context.Context, key KeyHandle, p CryptoParams, data, mac []byte) (bool, error)
}

// KeyPairSpec asks for a new asymmetric key pair (KMIP 1.4 §4.2).
type KeyPairSpec struct {
	PrivateID, PublicID string
	// Algorithm is RSA, EC, ECDSA or Ed25519 (Cryptographic Algorithm).
	Algorithm uint32
	// Length is the modulus length for RSA and the curve's size otherwise.
	Length int
	// Curve is the Recommended Curve enumeration; zero lets Length choose.
	Curve                   uint32
	PrivateMask, PublicMask int32
}

// KeyPair is a generated pair. Each half's Material is in the Key's Format,
// which the engine chooses (the software engine: PKCS#1 for both RSA halves,
// as PyKMIP; PKCS#8 private and X.509 SubjectPublicKeyInfo public keys for
// EC and Ed25519).
type KeyPair struct {
	Private, Public Key
}

// KeyPairGenerator creates asymmetric key pairs.
type KeyPairGenerator interface {
	GenerateKeyPair(ctx context.Context, spec KeyPairSpec) (KeyPair, error)
}

// DeriveSpec is one Derive Key request (KMIP 1.4 §4.6, §3.1.x Derivation Parameters).
type DeriveSpec struct {
	// Method is the Derivation Method enumeration.
	Method uint32
	Params CryptoParams
	// Base is the key derived from (for PBKDF2 a Secret Data password).
	Base KeyHandle
	// Data is the Derivation Data; Salt and Iterations are PBKDF2's; IV is
	// the Encrypt method's.
	Data, Salt, IV []byte
	Iterations     int
	// Length is the requested Cryptographic Length in bits.
	Length int
}

// Deriver derives key material from a base key.
type Deriver interface {
	DeriveKey(ctx context.Context, spec DeriveSpec) (Key, error)
}

// Hasher computes a message digest with a KMIP Hashing Algorithm (KMIP 2.1 §6.1.25).
type Hasher interface {
	Hash(ctx context.Context, alg uint32, data []byte) ([]byte, error)
}

// RandomSeeder accepts seed material for the engine's RNG (KMIP 1.4 §4.36),
// returning how many bytes it used.
type RandomSeeder interface {
	SeedRandom(ctx context.Context, seed []byte) (int, error)
}

// KeyWrapper encrypts and decrypts keys with a wrapping key (KMIP 1.4 §2.1.5
// Key Wrapping Specification, Encrypt method): AES Key Wrap (RFC 3394, RFC
// 5649 with padding) and RSA-OAEP.
type KeyWrapper interface {
	// WrapKey wraps target: its Material when present (the application puts
	// there the bytes to wrap, raw key or TTLV-encoded Key Value), otherwise
	// the key the engine keeps under target.Ref.
	WrapKey(ctx context.Context, wrapping KeyHandle, p CryptoParams, target KeyHandle) ([]byte, error)
	// UnwrapKey returns the unwrapped bytes.
	UnwrapKey(ctx context.Context, wrapping KeyHandle, p CryptoParams, wrapped []byte) ([]byte, error)
}

// RNGInfo describes a crypto engine's random number generator with the
// fields of KMIP 2.1 §2.1.18 RNG Parameters (enumeration values from
// domain/kmip; zero = not applicable).
type RNGInfo struct {
	Algorithm       uint32 // RNG Algorithm (kmip.RNGAlgorithm...)
	CryptoAlgorithm uint32 // Cryptographic Algorithm of a block-cipher RNG
	Length          int    // Cryptographic Length, bits
	HashAlgorithm   uint32 // Hashing Algorithm of a hash-based RNG
	DRBGAlgorithm   uint32 // DRBG Algorithm
}

// RNGDescriber is the optional capability of an engine that can name the
// generator its keys and random output come from. Engines without it are
// reported as RNG Algorithm Unspecified.
type RNGDescriber interface {
	RNG() RNGInfo
}

// RNGLister is the optional capability of an engine that uses more than one
// generator (say, one for key material and the operating system's for IVs,
// nonces and padding): RNGs lists them all, the key generator first. Query
// RNGs reports this list; engines without it report their RNG() alone.
type RNGLister interface {
	RNGs() []RNGInfo
}

// PKCS12Encoder bundles a private key and its certificate chain into a
// PKCS#12 (PFX) file encrypted under a password (KMIP 1.4 §9.1.3.2.3 Key
// Format Type PKCS#12): key derivation and encryption are the engine's.
type PKCS12Encoder interface {
	// EncodePKCS12 returns the PFX of key with chain (DER certificates, the
	// key's own first); an empty password yields an unencrypted-password PFX.
	EncodePKCS12(ctx context.Context, key KeyHandle, chain [][]byte, password string) ([]byte, error)
}
