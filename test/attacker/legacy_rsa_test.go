package attacker

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// weakClientCert is a clientAuth certificate for cn over key, signed by the
// server's development CA, written under the server's directory.
func weakClientCert(t *testing.T, srv *harness.Server, cn string, key crypto.Signer) (certFile, keyFile string) {
	t.Helper()
	ca, err := tls.LoadX509KeyPair(srv.PKI.DevPKI.CACert, srv.PKI.DevPKI.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(ca.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), ca.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(srv.Dir, "weak")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, cn+".pem"), filepath.Join(dir, cn+".key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// The kmipd binary lifts Go's 1024-bit RSA minimum for its legacy RSA-512
// keys (cmd/kmipd/main.go); its TLS refuses client certificates with RSA
// keys under 2048 bits or EC keys under 256 bits instead, whoever they name.
func TestWeakClientCertificatesRefused(t *testing.T) {
	tg := start(t, harness.Options{})
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, key := range map[string]crypto.Signer{"rsa1024": rsa1024, "p224": p224} {
		cert, k := weakClientCert(t, tg.srv, "alice-"+name, key)
		if served(t, tg.srv, clientConfig(t, tg.srv, cert, k)) {
			t.Errorf("a client certificate with a %s key was served", name)
		}
	}
	cert, k := weakClientCert(t, tg.srv, "alice-p256", p256)
	if !served(t, tg.srv, clientConfig(t, tg.srv, cert, k)) {
		t.Error("a P-256 client certificate was refused")
	}
}

// RSA-512 key pairs, which KMIP 1.x reference servers offer for Create Key
// Pair, are created, registered and used for Sign/Verify and
// Encrypt/Decrypt by the software engine of the real binary (legacy).
func TestRSA512KeyPairLegacy(t *testing.T) {
	tg := start(t, harness.Options{})
	c := tg.srv.Dial(t, "alice", 1, 2)
	attr := func(name string, v *kmip.Item) *kmip.Item {
		v = v.Clone()
		v.Tag = kmip.TagAttributeValue
		return kmip.Struct(kmip.TagAttribute, kmip.Text(kmip.TagAttributeName, name), v)
	}
	usage := func(m kmip.CryptographicUsageMask) *kmip.Item {
		return attr("Cryptographic Usage Mask", kmip.Int(0, int32(m)))
	}
	out := harness.Call(t, c, kmip.OperationCreateKeyPair,
		kmip.Struct(kmip.TagCommonTemplateAttribute,
			attr("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmRSA))),
			attr("Cryptographic Length", kmip.Int(0, 512))),
		kmip.Struct(kmip.TagPrivateKeyTemplateAttribute, usage(kmip.CryptographicUsageMaskSign|kmip.CryptographicUsageMaskDecrypt)),
		kmip.Struct(kmip.TagPublicKeyTemplateAttribute, usage(kmip.CryptographicUsageMaskVerify|kmip.CryptographicUsageMaskEncrypt)))
	priv, _ := out.Child(kmip.TagPrivateKeyUniqueIdentifier).AsText()
	pub, _ := out.Child(kmip.TagPublicKeyUniqueIdentifier).AsText()
	harness.Call(t, c, kmip.OperationActivate, uid(priv))
	harness.Call(t, c, kmip.OperationActivate, uid(pub))

	der, _ := harness.Call(t, c, kmip.OperationGet, uid(priv)).Path(kmip.TagPrivateKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	if n := len(der); n == 0 || n > 400 {
		t.Fatalf("private key material of %d bytes is no RSA-512 key", n)
	}
	// Registering the same 512-bit key works too.
	reg := harness.Call(t, c, kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypePrivateKey)),
		kmip.Struct(kmip.TagTemplateAttribute, usage(kmip.CryptographicUsageMaskSign)),
		kmip.Struct(kmip.TagPrivateKey, kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypePKCS_1)),
			kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, der)),
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)), kmip.Int(kmip.TagCryptographicLength, 512))))
	regID, _ := reg.Child(kmip.TagUniqueIdentifier).AsText()
	harness.Call(t, c, kmip.OperationActivate, uid(regID))

	pkcs1 := kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS1V1_5)),
		kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256)))
	msg := kmip.Bytes(kmip.TagData, []byte("legacy"))
	for _, signer := range []string{priv, regID} {
		sig, _ := harness.Call(t, c, kmip.OperationSign, uid(signer), pkcs1, msg).Child(kmip.TagSignatureData).AsBytes()
		v := harness.Call(t, c, kmip.OperationSignatureVerify, uid(pub), pkcs1, msg, kmip.Bytes(kmip.TagSignatureData, sig))
		if ind, _ := v.Child(kmip.TagValidityIndicator).AsEnum(); kmip.ValidityIndicator(ind) != kmip.ValidityIndicatorValid {
			t.Errorf("RSA-512 signature by %s not valid", signer)
		}
	}
	v15 := kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS1V1_5)))
	ct, _ := harness.Call(t, c, kmip.OperationEncrypt, uid(pub), v15, msg).Child(kmip.TagData).AsBytes()
	pt, _ := harness.Call(t, c, kmip.OperationDecrypt, uid(priv), v15, kmip.Bytes(kmip.TagData, ct)).Child(kmip.TagData).AsBytes()
	if string(pt) != "legacy" {
		t.Errorf("RSA-512 decryption gave %q", pt)
	}
}
