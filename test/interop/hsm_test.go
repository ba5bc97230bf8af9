//go:build cgo

package interop

import (
	"os"
	"strings"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11/softhsm"
	"github.com/kmipd/kmipd/test/harness"
)

// TestPyKMIPOnSoftHSM runs hsm_client.py (Debian's PyKMIP) against the real
// binary with crypto.type = "pkcs11" on a SoftHSM2 token, then asks the
// token itself, from a PKCS#11 session of the test's own, whether the keys
// the script created are there (labelled with their Unique Identifier),
// sensitive and not extractable, and whether the destroyed one is gone.
// The PIN comes from KMIPD_PKCS11_PIN and must not appear in the log.
func TestPyKMIPOnSoftHSM(t *testing.T) {
	requirePyKMIP(t)
	const pin = "71829364"
	tok := softhsm.Setup(t, "kmipd-interop", pin)
	py := script(t, "hsm_client.py")
	for _, version := range []string{"1.2", "1.4", "2.0"} {
		t.Run("KMIP-"+version, func(t *testing.T) {
			srv := harness.Start(t, harness.HSMOptions(tok, "sessions = 4"))
			steps := runScenario(t, py, clientArgs(srv, version, "hsm"))
			ids := map[string]string{}
			for _, s := range steps {
				for k, v := range s.Saw {
					if id, ok := v.(string); ok && strings.HasSuffix(k, "_id") {
						ids[k] = id
					}
				}
			}
			token := openToken(t, tok)
			for _, k := range []string{"aes_id", "registered_id", "mac_id", "private_id"} {
				id := ids[k]
				if id == "" {
					t.Errorf("the script reported no %s", k)
					continue
				}
				hs := token.findByLabel(t, id)
				if len(hs) != 1 {
					t.Errorf("%s %s: %d objects with that label in the token, want 1", k, id, len(hs))
					continue
				}
				if !token.boolAttr(t, hs[0], pkcs11.CKA_SENSITIVE) || token.boolAttr(t, hs[0], pkcs11.CKA_EXTRACTABLE) {
					t.Errorf("%s %s: the token object is not sensitive and non-extractable", k, id)
				}
				if _, err := token.p.GetAttributeValue(token.s, hs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)}); err == nil {
					t.Errorf("%s %s: the token released CKA_VALUE", k, id)
				}
			}
			if id := ids["public_id"]; id == "" || len(token.findByLabel(t, id)) != 1 {
				t.Errorf("public key %q is not in the token", id)
			}
			if id := ids["destroyed_id"]; id == "" || len(token.findByLabel(t, id)) != 0 {
				t.Errorf("destroyed key %q is still in the token (or was not reported)", id)
			}
			log, err := os.ReadFile(srv.LogPath)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(log), pin) {
				t.Error("the server log contains the PIN")
			}
		})
	}
}

// tokenSession is the test's own logged-in session on the token.
type tokenSession struct {
	p *pkcs11.Ctx
	s pkcs11.SessionHandle
}

func openToken(t *testing.T, tok *softhsm.Token) *tokenSession {
	t.Helper()
	p := pkcs11.New(tok.Module)
	if p == nil {
		t.Fatalf("cannot load %s", tok.Module)
	}
	if err := p.Initialize(); err != nil {
		t.Fatalf("C_Initialize: %v", err)
	}
	t.Cleanup(func() { p.Finalize(); p.Destroy() })
	slots, err := p.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, slot := range slots {
		info, err := p.GetTokenInfo(slot)
		if err != nil || strings.TrimRight(info.Label, " \x00") != tok.Label {
			continue
		}
		s, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Login(s, pkcs11.CKU_USER, tok.PIN); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Logout(s); p.CloseSession(s) })
		return &tokenSession{p: p, s: s}
	}
	t.Fatalf("no token labelled %q", tok.Label)
	return nil
}

func (ts *tokenSession) findByLabel(t *testing.T, label string) []pkcs11.ObjectHandle {
	t.Helper()
	if err := ts.p.FindObjectsInit(ts.s, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}); err != nil {
		t.Fatal(err)
	}
	defer ts.p.FindObjectsFinal(ts.s)
	hs, _, err := ts.p.FindObjects(ts.s, 16)
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

func (ts *tokenSession) boolAttr(t *testing.T, h pkcs11.ObjectHandle, attr uint) bool {
	t.Helper()
	a, err := ts.p.GetAttributeValue(ts.s, h, []*pkcs11.Attribute{pkcs11.NewAttribute(attr, nil)})
	if err != nil {
		t.Fatalf("C_GetAttributeValue: %v", err)
	}
	return len(a) == 1 && len(a[0].Value) == 1 && a[0].Value[0] == 1
}
