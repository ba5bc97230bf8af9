// Package sealing tests key material sealed at rest ([seal], issue 14)
// against the kmipd binary: no key byte in any store file, a wrong or
// missing KEK stops kmipd before it listens, migration of a store written
// by an earlier release, and KEK rotation while kmipd serves.
package sealing

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"github.com/kmipd/kmipd/ports/storetest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

func uid(id string) *kmip.Item { return kmip.Text(kmip.TagUniqueIdentifier, id) }

// keygen makes a KEK file with kmipd seal keygen.
func keygen(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if r := harness.Run(t, dir, "seal", "keygen", path); r.ExitCode != 0 {
		t.Fatalf("kmipd seal keygen: exit %d: %s%s", r.ExitCode, r.Stdout, r.Stderr)
	}
	return path
}

// sealTOML is the [seal] table of a key-file seal.
func sealTOML(keyFile string, previous ...string) string {
	s := fmt.Sprintf("\n[seal]\ntype = \"file\"\nkey_file = %q\n", keyFile)
	if len(previous) > 0 {
		s += fmt.Sprintf("previous_key_files = [%q]\n", strings.Join(previous, `", "`))
	}
	return s
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func keyBlock(format kmip.KeyFormatType, material []byte, extra ...*kmip.Item) *kmip.Item {
	return kmip.Struct(kmip.TagKeyBlock, append([]*kmip.Item{
		kmip.Enum(kmip.TagKeyFormatType, uint32(format)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, material)),
	}, extra...)...)
}

func register(t *testing.T, c *kmipclient.Client, typ kmip.ObjectType, obj *kmip.Item) string {
	t.Helper()
	attrs := kmip.Struct(kmip.TagTemplateAttribute)
	if typ == kmip.ObjectTypeSymmetricKey {
		attrs.Add(kmipclient.Attribute("Cryptographic Usage Mask",
			kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt))))
	}
	out := harness.Call(t, c, kmip.OperationRegister, kmip.Enum(kmip.TagObjectType, uint32(typ)), attrs, obj)
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	if id == "" {
		t.Fatalf("register: no Unique Identifier in %v", out)
	}
	return id
}

// secret is an object written with known key bytes.
type secret struct {
	name  string
	id    string
	bytes []byte
}

// writeSecrets registers one object of each secret kind with known random
// bytes and creates a server-generated key (whose bytes Get tells), and
// returns them.
func writeSecrets(t *testing.T, c *kmipclient.Client) []secret {
	t.Helper()
	aes, sd, split, opaque := randomBytes(t, 32), randomBytes(t, 40), randomBytes(t, 32), randomBytes(t, 48)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(rk)
	if err != nil {
		t.Fatal(err)
	}
	out := []secret{
		{"symmetric", register(t, c, kmip.ObjectTypeSymmetricKey, kmip.Struct(kmip.TagSymmetricKey, keyBlock(kmip.KeyFormatTypeRaw, aes,
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)), kmip.Int(kmip.TagCryptographicLength, 256)))), aes},
		{"secret data", register(t, c, kmip.ObjectTypeSecretData, kmip.Struct(kmip.TagSecretData,
			kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)), keyBlock(kmip.KeyFormatTypeOpaque, sd))), sd},
		// The prime P appears whole in every encoding of the private key.
		{"private key", register(t, c, kmip.ObjectTypePrivateKey, kmip.Struct(kmip.TagPrivateKey, keyBlock(kmip.KeyFormatTypePKCS_8, pkcs8,
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)), kmip.Int(kmip.TagCryptographicLength, 2048)))), rk.Primes[0].Bytes()},
		{"split key", register(t, c, kmip.ObjectTypeSplitKey, kmip.Struct(kmip.TagSplitKey, kmip.Int(kmip.TagSplitKeyParts, 3),
			kmip.Int(kmip.TagKeyPartIdentifier, 1), kmip.Int(kmip.TagSplitKeyThreshold, 2),
			kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodXOR)), keyBlock(kmip.KeyFormatTypeRaw, split,
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)), kmip.Int(kmip.TagCryptographicLength, 256)))), split},
		{"opaque", register(t, c, kmip.ObjectTypeOpaqueObject, kmip.Struct(kmip.TagOpaqueObject,
			kmip.Enum(kmip.TagOpaqueDataType, 0x80000010), kmip.Bytes(kmip.TagOpaqueDataValue, opaque))), opaque},
	}
	created := harness.Call(t, c, kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256,
		kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, "")...)
	id, _ := created.Child(kmip.TagUniqueIdentifier).AsText()
	got := harness.Call(t, c, kmip.OperationGet, uid(id))
	key, _ := got.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	if len(key) != 32 {
		t.Fatalf("created key: %v", got)
	}
	return append(out, secret{"created", id, key})
}

// checkSecrets reads each secret back through kmipd.
func checkSecrets(t *testing.T, c *kmipclient.Client, secrets []secret) {
	t.Helper()
	for _, s := range secrets {
		out := harness.Call(t, c, kmip.OperationGet, uid(s.id))
		if !containsBytes(out, s.bytes) {
			t.Errorf("%s: Get did not return its bytes", s.name)
		}
	}
}

// containsBytes reports whether b is in the value of a Byte String of it,
// or (a prime) in a key's DER.
func containsBytes(it *kmip.Item, b []byte) bool {
	if v, ok := it.AsBytes(); ok && bytes.Contains(v, b) {
		return true
	}
	for _, k := range it.Children() {
		if containsBytes(k, b) {
			return true
		}
	}
	return false
}

// storeFilesHolding returns the files of the store at dbPath that contain b.
func storeFilesHolding(t *testing.T, dbPath string, b []byte) []string {
	return storetest.StoreFilesHolding(t, dbPath, b)
}
