// Package certify runs kmipd as a certificate authority for its clients
// (issue 20.10): Certify and Re-certify against the binary, with the CA key
// in a file or held by kmipd itself, the issued certificates checked with
// Go's x509.
package certify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// devCA is a second development PKI whose CA kmipd issues with; the TLS
// listener trusts another.
func devCA(t *testing.T) harness.PKI {
	t.Helper()
	p, err := harness.NewPKI(filepath.Join(t.TempDir(), "issuing"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func caCert(t *testing.T, p harness.PKI) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(p.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func uid(id string) *kmip.Item { return kmip.Text(kmip.TagUniqueIdentifier, id) }

func text(t *testing.T, p *kmip.Item, tag kmip.Tag) string {
	t.Helper()
	s, ok := p.Child(tag).AsText()
	if !ok {
		t.Fatalf("no %s in %v", tag.SpecName(), p)
	}
	return s
}

// rsaPair creates an RSA key pair for signing and returns the public key's ID.
func rsaPair(t *testing.T, c *kmipclient.Client) string {
	t.Helper()
	out := harness.Call(t, c, kmip.OperationCreateKeyPair,
		kmip.Struct(kmip.TagCommonTemplateAttribute,
			kmipclient.Attribute("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmRSA))),
			kmipclient.Attribute("Cryptographic Length", kmip.Int(0, 2048))),
		kmip.Struct(kmip.TagPrivateKeyTemplateAttribute,
			kmipclient.Attribute("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskSign)))),
		kmip.Struct(kmip.TagPublicKeyTemplateAttribute,
			kmipclient.Attribute("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskVerify)))))
	return text(t, out, kmip.TagPublicKeyUniqueIdentifier)
}

// getCert Gets certificate id and verifies it against the issuing CA for
// TLS client authentication.
func getCert(t *testing.T, c *kmipclient.Client, id string, ca *x509.Certificate) *x509.Certificate {
	t.Helper()
	out := harness.Call(t, c, kmip.OperationGet, uid(id))
	cert, err := x509.ParseCertificate(harness.Field(t, out.Child(kmip.TagCertificate), kmip.TagCertificateValue))
	if err != nil {
		t.Fatalf("Get returned no X.509 certificate: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("the certificate does not verify against the CA: %v", err)
	}
	return cert
}

// publicKey Gets public key id as X.509 SubjectPublicKeyInfo.
func publicKey(t *testing.T, c *kmipclient.Client, id string) any {
	t.Helper()
	out := harness.Call(t, c, kmip.OperationGet, uid(id), kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeX_509)))
	spki, _ := out.Path(kmip.TagPublicKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	k, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sameKey reports whether two public keys are equal.
func sameKey(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

func reason(err error) kmip.ResultReason {
	var oe *kmipclient.OperationError
	if errors.As(err, &oe) {
		return oe.Reason
	}
	return 0
}

func queryOps(t *testing.T, c *kmipclient.Client) map[kmip.Operation]bool {
	t.Helper()
	out := harness.Call(t, c, kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryOperations)))
	m := map[kmip.Operation]bool{}
	for _, it := range out.ChildrenOf(kmip.TagOperation) {
		op, _ := it.AsEnum()
		m[kmip.Operation(op)] = true
	}
	return m
}

// With [ca] naming the dev CA's files, a client certifies its key pair's
// public key (KMIP 1.4) and a PKCS#10 request (KMIP 2.1), renews the
// certificate, and every certificate verifies against the CA; the CA key
// never reaches the log.
func TestCertifyWithCAFiles(t *testing.T) {
	ca := devCA(t)
	srv := harness.Start(t, harness.Options{ExtraTOML: fmt.Sprintf("[ca]\ncertificate_path = %q\nkey_path = %q\nvalidity = \"720h\"\n", ca.CAFile, ca.CAKey)})
	caX := caCert(t, ca)

	c := srv.Dial(t, "alice", 1, 4)
	if ops := queryOps(t, c); !ops[kmip.OperationCertify] || !ops[kmip.OperationReCertify] {
		t.Error("Query does not list Certify and Re-certify")
	}
	pub := rsaPair(t, c)
	id := text(t, harness.Call(t, c, kmip.OperationCertify, uid(pub)), kmip.TagUniqueIdentifier)
	cert := getCert(t, c, id, caX)
	if cert.Subject.CommonName != "alice" || !sameKey(cert.PublicKey, publicKey(t, c, pub)) {
		t.Errorf("certificate for %q, or for another key", cert.Subject.CommonName)
	}
	if d := time.Until(cert.NotAfter); d > 720*time.Hour || d < 719*time.Hour {
		t.Errorf("NotAfter %v is not validity = 720h from now", cert.NotAfter)
	}
	// Re-certify: a new certificate for the same key, linked both ways.
	renewed := text(t, harness.Call(t, c, kmip.OperationReCertify, uid(id)), kmip.TagUniqueIdentifier)
	cert2 := getCert(t, c, renewed, caX)
	if cert2.SerialNumber.Cmp(cert.SerialNumber) == 0 || !sameKey(cert2.PublicKey, cert.PublicKey) {
		t.Error("Re-certify did not issue a new certificate for the same key")
	}
	links := harness.Call(t, c, kmip.OperationGetAttributes, uid(pub), kmip.Text(kmip.TagAttributeName, "Link"))
	if !strings.Contains(fmt.Sprint(links), renewed) {
		t.Errorf("the public key does not link to the renewed certificate: %v", links)
	}
	// Another client cannot have alice's key certified.
	if _, err := srv.Dial(t, "bob", 1, 4).Call(kmip.OperationCertify, uid(pub)); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("bob certifying alice's key: %v", err)
	}

	c21 := srv.Dial(t, "alice", 2, 1)
	k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice", Organization: []string{"acme"}}}, k)
	id = text(t, harness.Call(t, c21, kmip.OperationCertify,
		kmip.Enum(kmip.TagCertificateRequestType, uint32(kmip.CertificateRequestTypePKCS_10)),
		kmip.Bytes(kmip.TagCertificateRequestValue, csr)), kmip.TagUniqueIdentifier)
	if cert := getCert(t, c21, id, caX); cert.Subject.Organization[0] != "acme" || !k.PublicKey.Equal(cert.PublicKey) {
		t.Errorf("the certificate is not the request's: %v", cert.Subject)
	}
	csr[len(csr)-2] ^= 1
	if _, err := c21.Call(kmip.OperationCertify, kmip.Enum(kmip.TagCertificateRequestType, uint32(kmip.CertificateRequestTypePKCS_10)),
		kmip.Bytes(kmip.TagCertificateRequestValue, csr)); reason(err) != kmip.ResultReasonInvalidCSR {
		t.Errorf("a request whose signature fails: %v", err)
	}

	keyPEM, err := os.ReadFile(ca.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(keyPEM)
	log := srv.LogContents(t)
	for _, line := range strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: blk.Type, Bytes: blk.Bytes})), "\n")[1:3] {
		if strings.Contains(log, line) {
			t.Fatal("the CA key appears in the log")
		}
	}
	if !strings.Contains(log, "certificate authority configured") {
		t.Error("the log does not say a CA is configured")
	}
}

// A CA whose key and certificate are objects in kmipd (registered by the
// operator's client) signs through the crypto engine; before it is
// configured Certify is not offered. A [ca] naming a missing object stops
// kmipd with exit status 78 and one line naming the key.
func TestCertifyWithCAObjects(t *testing.T) { certifyWithCAObjects(t, harness.Options{}) }

// certifyWithCAObjects runs TestCertifyWithCAObjects on a kmipd started
// with o and returns it and the CA key's identifier.
func certifyWithCAObjects(t *testing.T, o harness.Options) (*harness.Server, string) {
	ca := devCA(t)
	srv := harness.Start(t, o)
	admin := srv.Dial(t, "", 1, 4)
	if queryOps(t, admin)[kmip.OperationCertify] {
		t.Error("Query lists Certify without a CA")
	}
	pubBefore := rsaPair(t, admin)
	if _, err := admin.Call(kmip.OperationCertify, uid(pubBefore)); reason(err) != kmip.ResultReasonOperationNotSupported {
		t.Errorf("Certify without a CA: %v", err)
	}

	keyPEM, err := os.ReadFile(ca.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(keyPEM)
	var pkcs8 []byte
	switch blk.Type {
	case "PRIVATE KEY":
		pkcs8 = blk.Bytes
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		pkcs8, _ = x509.MarshalPKCS8PrivateKey(k)
	default:
		t.Fatalf("dev CA key is a %s", blk.Type)
	}
	activated := kmip.Struct(kmip.TagTemplateAttribute,
		kmipclient.Attribute("Activation Date", kmip.DateTime(0, time.Now().Add(-time.Minute).Truncate(time.Second))))
	keyID := text(t, harness.Call(t, admin, kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypePrivateKey)),
		activated, kmip.Struct(kmip.TagPrivateKey, kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypePKCS_8)),
			kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, pkcs8))))), kmip.TagUniqueIdentifier)
	caX := caCert(t, ca)
	certID := text(t, harness.Call(t, admin, kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeCertificate)),
		kmip.Struct(kmip.TagCertificate, kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)),
			kmip.Bytes(kmip.TagCertificateValue, caX.Raw))), kmip.TagUniqueIdentifier)

	base, err := os.ReadFile(srv.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop(t)
	if o.Crypto == "" { // harness.Run passes no PIN to a pkcs11 configuration
		bad := filepath.Join(srv.Dir, "bad.toml")
		if err := os.WriteFile(bad, append(append([]byte(nil), base...), fmt.Sprintf("\n[ca]\ncertificate_id = %q\nkey_id = \"no-such-key\"\n", certID)...), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := harness.Run(t, srv.Dir, "-config", bad); r.ExitCode != 78 || !strings.Contains(r.Stderr, "ca.key_id") {
			t.Errorf("a [ca] key_id naming no object: exit %d, %q", r.ExitCode, r.Stderr)
		}
	}
	if err := os.WriteFile(srv.ConfigPath, append(base, fmt.Sprintf("\n[ca]\ncertificate_id = %q\nkey_id = %q\n", certID, keyID)...), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.Restart(t)

	c := srv.Dial(t, "carol", 2, 1)
	pub := rsaPair21(t, c)
	id := text(t, harness.Call(t, c, kmip.OperationCertify, uid(pub)), kmip.TagUniqueIdentifier)
	if cert := getCert(t, c, id, caX); cert.Subject.CommonName != "carol" {
		t.Errorf("subject %v", cert.Subject)
	}
	links := harness.Call(t, c, kmip.OperationGetAttributes, uid(id), kmip.Enum(kmip.TagAttributeReference, uint32(kmip.TagLink)))
	if s := fmt.Sprint(links); !strings.Contains(s, certID) || !strings.Contains(s, pub) {
		t.Errorf("the certificate does not link to its issuer and its key: %v", links)
	}
	// The CA key stays the operator client's: carol cannot read it.
	if _, err := c.Call(kmip.OperationGet, uid(keyID)); err == nil {
		t.Error("a client read the CA key")
	}
	return srv, keyID
}

// rsaPair21 is rsaPair in KMIP 2.1 form.
func rsaPair21(t *testing.T, c *kmipclient.Client) string {
	t.Helper()
	out := harness.Call(t, c, kmip.OperationCreateKeyPair,
		kmip.Struct(kmip.TagCommonAttributes,
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)), kmip.Int(kmip.TagCryptographicLength, 2048)),
		kmip.Struct(kmip.TagPrivateKeyAttributes, kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskSign))),
		kmip.Struct(kmip.TagPublicKeyAttributes, kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskVerify))))
	return text(t, out, kmip.TagPublicKeyUniqueIdentifier)
}
