// Package migration moves managed objects from one real kmipd to another
// with Export and Import (KMIP 2.1 §6.1.18, §6.1.25): from a server on
// SQLite to one on bbolt, keeping identifiers, values and attributes.
package migration

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

func dial(t *testing.T, srv *harness.Server, cn string) *kmipclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := kmipclient.Dial(ctx, srv.Addr, srv.ClientTLSConfig(t, cn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Major, c.Minor = 2, 1
	return c
}

func call(t *testing.T, c *kmipclient.Client, op kmip.Operation, payload ...*kmip.Item) *kmip.Item {
	t.Helper()
	p, err := c.Call(op, payload...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return p
}

func uid(id string) *kmip.Item { return kmip.Text(kmip.TagUniqueIdentifier, id) }

func TestMigrateSQLiteToBbolt(t *testing.T) {
	src := harness.Start(t, harness.Options{Storage: "sqlite"})
	dst := harness.Start(t, harness.Options{Storage: "bbolt"})
	from, to := dial(t, src, "alice"), dial(t, dst, "alice")

	// Two keys on the source, one of them active, and a secret.
	for i, name := range []string{"payments", "backups"} {
		attrs := kmip.Struct(kmip.TagAttributes,
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
			kmip.Int(kmip.TagCryptographicLength, 256),
			kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt)),
			kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, name),
				kmip.Enum(kmip.TagNameType, uint32(kmip.NameTypeUninterpretedTextString))))
		p := call(t, from, kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)), attrs)
		if i == 0 {
			id, _ := p.Child(kmip.TagUniqueIdentifier).AsText()
			call(t, from, kmip.OperationActivate, uid(id))
		}
	}
	call(t, from, kmip.OperationRegister,
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSecretData)),
		kmip.Struct(kmip.TagAttributes, kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskDeriveKey))),
		kmip.Struct(kmip.TagSecretData,
			kmip.Enum(kmip.TagSecretDataType, uint32(kmip.SecretDataTypePassword)),
			kmip.Struct(kmip.TagKeyBlock,
				kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeOpaque)),
				kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, []byte("not-a-real-secret"))))))

	// Export every object the source holds and import it into the target.
	var ids []string
	for _, it := range call(t, from, kmip.OperationLocate).ChildrenOf(kmip.TagUniqueIdentifier) {
		id, _ := it.AsText()
		ids = append(ids, id)
	}
	if len(ids) != 3 {
		t.Fatalf("source holds %d objects, want 3", len(ids))
	}
	exported := map[string]*kmip.Item{}
	for _, id := range ids {
		exp := call(t, from, kmip.OperationExport, uid(id))
		exported[id] = exp
		ot, _ := exp.Child(kmip.TagObjectType).AsEnum()
		value := exp.Child(kmip.TagSymmetricKey)
		if kmip.ObjectType(ot) == kmip.ObjectTypeSecretData {
			value = exp.Child(kmip.TagSecretData)
		}
		if value == nil {
			t.Fatalf("Export of %s returned no object", id)
		}
		got := call(t, to, kmip.OperationImport, uid(id), exp.Child(kmip.TagObjectType),
			exp.Child(kmip.TagAttributes), value)
		if gid, _ := got.Child(kmip.TagUniqueIdentifier).AsText(); gid != id {
			t.Fatalf("Import answered %q, want %q", gid, id)
		}
	}

	// The target keeps them across a restart, with the same values and attributes.
	dst.Restart(t)
	to = dial(t, dst, "alice")
	for _, id := range ids {
		again := call(t, to, kmip.OperationExport, uid(id))
		want := exported[id]
		if !again.Child(kmip.TagAttributes).Equal(want.Child(kmip.TagAttributes)) {
			t.Errorf("%s: attributes differ after migration:\n got %v\nwant %v", id,
				again.Child(kmip.TagAttributes), want.Child(kmip.TagAttributes))
		}
		a, _ := again.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		b, _ := want.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		if a == nil {
			a, _ = again.Path(kmip.TagSecretData, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
			b, _ = want.Path(kmip.TagSecretData, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		}
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: value differs after migration", id)
		}
	}

	// The migrated active key works on the target; a second import of the
	// same identifier is refused unless it replaces.
	found := call(t, to, kmip.OperationLocate, kmip.Struct(kmip.TagAttributes,
		kmip.Struct(kmip.TagName, kmip.Text(kmip.TagNameValue, "payments"),
			kmip.Enum(kmip.TagNameType, uint32(kmip.NameTypeUninterpretedTextString)))))
	pid, _ := found.Child(kmip.TagUniqueIdentifier).AsText()
	if exported[pid] == nil {
		t.Fatalf("Locate by name on the target found %q", pid)
	}
	ct := call(t, to, kmip.OperationEncrypt, uid(pid),
		kmip.Struct(kmip.TagCryptographicParameters,
			kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeGCM)),
			kmip.Int(kmip.TagTagLength, 16)),
		kmip.Bytes(kmip.TagData, []byte("hello")))
	pt := call(t, from, kmip.OperationDecrypt, uid(pid),
		kmip.Struct(kmip.TagCryptographicParameters,
			kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeGCM)),
			kmip.Int(kmip.TagTagLength, 16)),
		ct.Child(kmip.TagData), ct.Child(kmip.TagIVCounterNonce), ct.Child(kmip.TagAuthenticatedEncryptionTag))
	if d, _ := pt.Child(kmip.TagData).AsBytes(); string(d) != "hello" {
		t.Errorf("the source cannot decrypt what the target encrypted with the migrated key: %q", d)
	}
	exp := exported[pid]
	_, err := to.Call(kmip.OperationImport, uid(pid), exp.Child(kmip.TagObjectType),
		exp.Child(kmip.TagAttributes), exp.Child(kmip.TagSymmetricKey))
	var oe *kmipclient.OperationError
	if !errors.As(err, &oe) || oe.Reason != kmip.ResultReasonObjectAlreadyExists {
		t.Errorf("second Import: %v, want Object Already Exists", err)
	}
	call(t, to, kmip.OperationImport, uid(pid), exp.Child(kmip.TagObjectType), kmip.Bool(kmip.TagReplaceExisting, true),
		exp.Child(kmip.TagAttributes), exp.Child(kmip.TagSymmetricKey))
}
