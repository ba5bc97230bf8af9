package attacker

import (
	"crypto/rand"
	"github.com/kmipd/kmipd/ports/storetest"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// registerAES registers a 256-bit AES key with the given bytes for c and
// returns its identifier.
func registerAES(t *testing.T, c *kmipclient.Client, key []byte) string {
	t.Helper()
	out := harness.Call(t, c, kmip.OperationRegister,
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
		kmip.Struct(kmip.TagTemplateAttribute, kmipclient.Attribute("Cryptographic Usage Mask",
			kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt)))),
		kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
			kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
			kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, key)),
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
			kmip.Int(kmip.TagCryptographicLength, 256))))
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	if id == "" {
		t.Fatalf("register: no Unique Identifier in %v", out)
	}
	return id
}

// storeFilesHolding returns the server's store files that contain b.
func storeFilesHolding(t *testing.T, srv *harness.Server, b []byte) []string {
	return storetest.StoreFilesHolding(t, srv.DBPath, b)
}

// A key alice registered with known bytes and then destroyed is in none of
// the store's files once Destroy has answered, nor after kmipd stopped; a key
// she did not destroy is found, so the scan sees the files.
func TestDestroyedKeyLeavesNoBytesInStore(t *testing.T) {
	for _, storage := range []string{"sqlite", "bbolt"} {
		t.Run(storage, func(t *testing.T) {
			tg := start(t, harness.Options{Storage: storage})
			keys := map[string][]byte{}
			var ids []string
			for range 20 {
				key := make([]byte, 32)
				if _, err := rand.Read(key); err != nil {
					t.Fatal(err)
				}
				id := registerAES(t, tg.alice, key)
				keys[id] = key
				ids = append(ids, id)
			}
			gone, kept := ids[5], ids[12]
			harness.Call(t, tg.alice, kmip.OperationDestroy, uid(gone))
			if _, err := tg.alice.Call(kmip.OperationGet, uid(gone)); err == nil {
				t.Fatal("Get of the destroyed key succeeded")
			}
			check := func(when string) {
				t.Helper()
				if f := storeFilesHolding(t, tg.srv, keys[gone]); len(f) > 0 {
					t.Errorf("%s: %v hold the destroyed key's bytes", when, f)
				}
				if len(storeFilesHolding(t, tg.srv, keys[kept])) == 0 {
					t.Errorf("%s: no store file holds the key that was not destroyed; the scan sees nothing", when)
				}
			}
			check("right after Destroy")
			tg.srv.Stop(t)
			check("after kmipd stopped")
		})
	}
}
