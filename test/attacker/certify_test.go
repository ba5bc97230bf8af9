package attacker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// withOwnCA restarts the target with [ca] set to the very CA its TLS
// listener trusts for client certificates (the riskiest configuration) and
// reconnects alice and bob.
func withOwnCA(t *testing.T, tg *target) {
	t.Helper()
	base, err := os.ReadFile(tg.srv.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	tg.srv.Stop(t)
	ca := fmt.Sprintf("\n[ca]\ncertificate_path = %q\nkey_path = %q\n", tg.srv.PKI.CAFile, tg.srv.PKI.CAKey)
	if err := os.WriteFile(tg.srv.ConfigPath, append(base, ca...), 0o600); err != nil {
		t.Fatal(err)
	}
	tg.srv.Restart(t)
	tg.alice, tg.bob = tg.srv.Dial(t, "alice", 1, 4), tg.srv.Dial(t, "bob", 1, 4)
}

// certifyCSR has c certify a PKCS#10 request for k with the given CN.
func certifyCSR(c *kmipclient.Client, k *ecdsa.PrivateKey, cn string) (string, error) {
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, k)
	if err != nil {
		return "", err
	}
	out, err := c.Call(kmip.OperationCertify, kmip.Enum(kmip.TagCertificateRequestType, uint32(kmip.CertificateRequestTypePKCS_10)),
		kmip.Bytes(kmip.TagCertificateRequest, csr))
	if err != nil {
		return "", err
	}
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	return id, nil
}

// Certify with kmipd's own client CA must not mint identities: bob cannot
// have a certificate naming alice issued, and the certificate he gets for
// himself logs in as bob, cannot act on alice's objects and cannot issue
// certificates of its own.
func TestCertifyCannotMintAnotherIdentity(t *testing.T) {
	tg := start(t, harness.Options{})
	withOwnCA(t, tg)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := certifyCSR(tg.bob, k, "alice"); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Fatalf("bob had a certificate for alice issued: %v", err)
	}
	id, err := certifyCSR(tg.bob, k, "bob")
	if err != nil {
		t.Fatal(err)
	}
	out := harness.Call(t, tg.bob, kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, id))
	der, _ := out.Path(kmip.TagCertificate, kmip.TagCertificateValue).AsBytes()
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if cert.IsCA || !cert.BasicConstraintsValid {
		t.Error("an issued certificate may issue certificates")
	}
	secret := createAES(t, tg.alice, "", kmip.CryptographicUsageMaskEncrypt)
	cfg := tg.srv.ClientTLSConfig(t, "bob").Clone()
	cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: k}}
	c, err := kmipclient.Dial(context.Background(), tg.srv.Addr, cfg)
	if err != nil {
		t.Fatalf("the issued certificate does not log in: %v", err)
	}
	defer c.Close()
	c.Major, c.Minor = 1, 4
	if _, err := c.Call(kmip.OperationGet, kmip.Text(kmip.TagUniqueIdentifier, secret)); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("bob's issued certificate reads alice's key: %v", err)
	}

	// Re-certify of alice's own (public) client certificate, registered by
	// bob, renews it for bob, not for alice.
	aliceCert := tg.srv.ClientTLSConfig(t, "alice").Certificates[0].Certificate[0]
	reg := harness.Call(t, tg.bob, kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeCertificate)),
		kmip.Struct(kmip.TagCertificate, kmip.Enum(kmip.TagCertificateType, uint32(kmip.CertificateTypeX_509)),
			kmip.Bytes(kmip.TagCertificateValue, aliceCert)))
	out = harness.Call(t, tg.bob, kmip.OperationReCertify, reg.Child(kmip.TagUniqueIdentifier))
	out = harness.Call(t, tg.bob, kmip.OperationGet, out.Child(kmip.TagUniqueIdentifier))
	der, _ = out.Path(kmip.TagCertificate, kmip.TagCertificateValue).AsBytes()
	if renewed, err := x509.ParseCertificate(der); err != nil {
		t.Error(err)
	} else if renewed.Subject.CommonName != "bob" {
		t.Errorf("bob renewed alice's certificate for %q", renewed.Subject.CommonName)
	}
}
