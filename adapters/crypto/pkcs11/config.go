// Package pkcs11 is the crypto engine that keeps keys inside a PKCS#11
// token (an HSM, or SoftHSM2 for development and tests). Keys are generated
// and imported as token objects and every operation on them runs in the
// token; the application stores only the engine's reference (Key.Ref).
//
// The engine needs cgo (it loads the vendor's PKCS#11 library); built with
// CGO_ENABLED=0, New answers an error that says how to build it.
package pkcs11

// Config selects the PKCS#11 module, token and PIN. The zero value of each
// field is documented with it.
type Config struct {
	// Module is the path of the PKCS#11 library (required).
	Module string
	// TokenLabel selects the token by its label; when empty, Slot is used.
	TokenLabel string
	// Slot is the slot ID of the token, used when SlotSet and TokenLabel is empty.
	Slot    uint
	SlotSet bool
	// PIN is the user PIN. It is never logged and never appears in an error.
	PIN string
	// Sessions is the size of the session pool shared by concurrent calls;
	// zero means DefaultSessions.
	Sessions int
	// Extractable makes the keys the engine generates or imports extractable
	// (CKA_EXTRACTABLE true, CKA_SENSITIVE false). The default, false, keeps
	// key material inside the token for good.
	Extractable bool
}

// DefaultSessions is the session pool size when Config.Sessions is zero.
const DefaultSessions = 8
