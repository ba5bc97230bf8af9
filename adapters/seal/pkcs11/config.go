// Package pkcs11 is the HSM seal: the key-encryption key is a
// non-extractable AES-256 key in a PKCS#11 token, found by label (and made
// on first use), that wraps data keys with CKM_AES_GCM inside the token
// (ports.KEK). The KEK's bytes never leave the token.
package pkcs11

// Config names the token and the key.
type Config struct {
	// Module is the path of the PKCS#11 library.
	Module string
	// TokenLabel names the token; Slot numbers it instead (SlotSet).
	TokenLabel string
	Slot       uint
	SlotSet    bool
	// PIN is the user PIN; it is never logged nor put in an error.
	PIN string
	// KeyLabel is the CKA_LABEL of the KEK.
	KeyLabel string
	// Create makes the key when the token has none with KeyLabel (the
	// current KEK); without it a missing key is an error (a previous KEK).
	Create bool
}
