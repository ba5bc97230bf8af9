//go:build cgo

package multinode

import (
	"bytes"
	"testing"

	"github.com/kmipd/kmipd/adapters/crypto/pkcs11/softhsm"
	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// TestHSMKeyAcrossNodes: two kmipd processes share one SQLite database and
// one SoftHSM2 token. A key created on node A lives in the token under a
// reference both nodes resolve: B decrypts what A encrypted, B destroys
// it, and A can no longer use it.
func TestHSMKeyAcrossNodes(t *testing.T) {
	const pin = "31415926"
	tok := softhsm.Setup(t, "kmipd-nodes", pin)
	a, b := twoNodesWith(t, harness.HSMOptions(tok, "sessions = 2"))
	ca, cb := dial(t, a, "alice", 1, 4), dial(t, b, "alice", 1, 4)
	create := call(t, ca, kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256,
		kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, "")...)
	id, _ := create.Child(kmip.TagUniqueIdentifier).AsText()
	uid := kmip.Text(kmip.TagUniqueIdentifier, id)
	call(t, ca, kmip.OperationActivate, uid)
	cbc := kmip.Struct(kmip.TagCryptographicParameters,
		kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeCBC)),
		kmip.Enum(kmip.TagPaddingMethod, uint32(kmip.PaddingMethodPKCS5)))
	iv := kmip.Bytes(kmip.TagIVCounterNonce, bytes.Repeat([]byte{7}, 16))
	msg := []byte("encrypted in the token by node A")
	ct := field(t, call(t, ca, kmip.OperationEncrypt, uid, cbc, iv, kmip.Bytes(kmip.TagData, msg)), kmip.TagData)
	back := field(t, call(t, cb, kmip.OperationDecrypt, uid, cbc, iv, kmip.Bytes(kmip.TagData, ct)), kmip.TagData)
	if !bytes.Equal(back, msg) {
		t.Fatalf("node B decrypted %q", back)
	}
	_, err := cb.Call(kmip.OperationGet, uid)
	wantReason(t, err, kmip.ResultReasonNotExtractable)

	call(t, cb, kmip.OperationRevoke, uid, kmip.Struct(kmip.TagRevocationReason,
		kmip.Enum(kmip.TagRevocationReasonCode, uint32(kmip.RevocationReasonCodeCessationOfOperation))))
	call(t, cb, kmip.OperationDestroy, uid)
	_, err = ca.Call(kmip.OperationDecrypt, uid, cbc, iv, kmip.Bytes(kmip.TagData, ct))
	wantReason(t, err, kmip.ResultReasonKeyValueNotPresent) // the object has been destroyed
}
