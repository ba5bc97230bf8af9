package attacker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// x509Item is a Validate request's Certificate holding der.
func x509Item(der []byte) *kmip.Item {
	return kmip.Struct(kmip.TagCertificate, kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)),
		kmip.Bytes(kmip.TagCertificateValue, der))
}

// validityOf has c validate a chain and returns the Validity Indicator.
func validityOf(t *testing.T, c *kmipclient.Client, items ...*kmip.Item) kmip.ValidityIndicator {
	t.Helper()
	out := harness.Call(t, c, kmip.OperationValidate, items...)
	e, ok := out.Child(kmip.TagValidityIndicator).AsEnum()
	if !ok {
		t.Fatalf("Validate: no Validity Indicator in %v", out)
	}
	return kmip.ValidityIndicator(e)
}

// Validate against the real binary: a certificate kmipd's configured CA
// issued (the server's own) is Valid only with [ca] set; bob's forgery,
// naming that CA as its issuer but signed by his own key, is Invalid; and
// naming alice's unshared key gets bob Permission Denied, not a hint of what
// the object is.
func TestValidateTrustsOnlyWhatTheCASigned(t *testing.T) {
	tg := start(t, harness.Options{})
	pemBytes, err := os.ReadFile(tg.srv.PKI.ServerCertFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatal("server certificate: no PEM block")
	}
	server, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if got := validityOf(t, tg.bob, x509Item(server.Raw)); got != kmip.ValidityIndicatorInvalid {
		t.Errorf("without [ca], a chain ending below a root it does not carry is %s, want Invalid", got)
	}

	private := createAES(t, tg.alice, "", kmip.CryptographicUsageMaskEncrypt)
	if _, err := tg.bob.Call(kmip.OperationValidate, uid(private)); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("bob validating alice's unshared key: %v, want Permission Denied", err)
	}

	withOwnCA(t, tg)
	if got := validityOf(t, tg.bob, x509Item(server.Raw)); got != kmip.ValidityIndicatorValid {
		t.Errorf("the server's certificate, issued by the configured CA: %s, want Valid", got)
	}
	bobKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "alice"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	fakeCA := &x509.Certificate{SerialNumber: big.NewInt(8), RawSubject: server.RawIssuer,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, forged, fakeCA, &bobKey.PublicKey, bobKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := validityOf(t, tg.bob, x509Item(der)); got != kmip.ValidityIndicatorInvalid {
		t.Errorf("a forgery naming the configured CA as issuer: %s, want Invalid", got)
	}
}
