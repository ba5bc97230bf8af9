package harness

import (
	"fmt"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11/softhsm"
)

// HSMOptions runs kmipd on the SoftHSM2 token tok: crypto.type pkcs11, the
// PIN passed in KMIPD_PKCS11_PIN (never in the configuration file), and
// extraKeys (e.g. "sessions = 2") added to [crypto.pkcs11].
func HSMOptions(tok *softhsm.Token, extraKeys string) Options {
	return Options{
		Crypto: "pkcs11",
		Env:    append(tok.Env(), "KMIPD_PKCS11_PIN="+tok.PIN),
		ExtraTOML: fmt.Sprintf("[crypto.pkcs11]\nmodule = %q\ntoken_label = %q\n%s\n",
			tok.Module, tok.Label, extraKeys),
	}
}
