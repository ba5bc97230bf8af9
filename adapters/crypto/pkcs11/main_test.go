//go:build cgo

package pkcs11

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11/softhsm"
)

// The package's tests share one SoftHSM2 token: SoftHSM2 reads
// SOFTHSM2_CONF once per C_Initialize, so one process sees one token
// directory.
var (
	token    *softhsm.Token
	tokenErr error
)

const (
	testLabel = "kmipd-test"
	testPIN   = "user-pin-4711"
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "kmipd-softhsm-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if token, tokenErr = softhsm.Create(dir, testLabel, testPIN); tokenErr == nil {
			os.Setenv("SOFTHSM2_CONF", token.Conf)
		}
		return m.Run()
	}()
	os.Exit(code)
}

// needToken skips (or, with CI set, fails) a test when SoftHSM2 is missing.
func needToken(t testing.TB) {
	t.Helper()
	if tokenErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (CI is set: SoftHSM2 must be installed)", tokenErr)
		}
		t.Skipf("%v; skipping", tokenErr)
	}
}

func testConfig() Config {
	return Config{Module: token.Module, TokenLabel: token.Label, PIN: token.PIN, Sessions: 4}
}

// newEngine opens an engine on the test token, closed at the end of the test.
func newEngine(t testing.TB, edit func(*Config)) *Engine {
	t.Helper()
	needToken(t)
	cfg := testConfig()
	if edit != nil {
		edit(&cfg)
	}
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// raw is a session of the test's own, outside the engine, on the same
// token: the token itself answers what it holds. It never finalizes the
// library (that would end the engine's sessions too).
type raw struct {
	p    *pkcs11.Ctx
	s    pkcs11.SessionHandle
	slot uint
}

func rawSession(t *testing.T) *raw {
	t.Helper()
	p := pkcs11.New(token.Module)
	if p == nil {
		t.Fatal("cannot load the module")
	}
	if err := p.Initialize(); err != nil && !isRV(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		t.Fatal(err)
	}
	slots, err := p.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, sl := range slots {
		ti, err := p.GetTokenInfo(sl)
		if err != nil || ti.Label != testLabel {
			continue
		}
		s, err := p.OpenSession(sl, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Login(s, pkcs11.CKU_USER, testPIN); err != nil && !isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
			t.Fatal(err)
		}
		r := &raw{p: p, s: s, slot: sl}
		t.Cleanup(func() { _ = p.CloseSession(s) })
		return r
	}
	t.Fatalf("token %q not found", testLabel)
	return nil
}

// findByLabel returns the token objects labelled label.
func (r *raw) findByLabel(t *testing.T, label string) []pkcs11.ObjectHandle {
	t.Helper()
	if err := r.p.FindObjectsInit(r.s, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}); err != nil {
		t.Fatal(err)
	}
	hs, _, err := r.p.FindObjects(r.s, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.p.FindObjectsFinal(r.s); err != nil {
		t.Fatal(err)
	}
	return hs
}

func (r *raw) boolAttr(t *testing.T, h pkcs11.ObjectHandle, typ uint) bool {
	t.Helper()
	a, err := r.p.GetAttributeValue(r.s, h, []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
	if err != nil {
		t.Fatalf("reading attribute 0x%x: %v", typ, err)
	}
	return len(a[0].Value) == 1 && a[0].Value[0] != 0
}
