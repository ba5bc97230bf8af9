// Package multinode runs two real kmipd processes on one SQLite database and
// checks that no truth lives in one process: a streamed operation started on
// one node continues on the other.
package multinode

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// twoNodes starts node A, then node B on A's database file (SQLite in WAL
// mode lets two processes share it).
func twoNodes(t *testing.T) (a, b *harness.Server) {
	t.Helper()
	return twoNodesWith(t, harness.Options{Storage: "sqlite"})
}

// twoNodesWith is twoNodes with both nodes started with o.
func twoNodesWith(t *testing.T, o harness.Options) (a, b *harness.Server) {
	t.Helper()
	a = harness.Start(t, o)
	b = harness.Start(t, o)
	b.Stop(t)
	cfg, err := os.ReadFile(b.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	shared := strings.ReplaceAll(string(cfg), b.DBPath, a.DBPath)
	if shared == string(cfg) {
		t.Fatal("node B's configuration does not name its database path")
	}
	if err := os.WriteFile(b.ConfigPath, []byte(shared), 0o600); err != nil {
		t.Fatal(err)
	}
	b.DBPath = a.DBPath
	b.Restart(t)
	return a, b
}

func dial(t *testing.T, srv *harness.Server, cn string, major, minor int32) *kmipclient.Client {
	t.Helper()
	return srv.Dial(t, cn, major, minor)
}

var (
	call  = harness.Call
	field = harness.Field
)

func wantReason(t *testing.T, err error, want kmip.ResultReason) {
	t.Helper()
	var oe *kmipclient.OperationError
	if !errors.As(err, &oe) || oe.Reason != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// A GCM encryption streamed across two nodes: part 1 on A, part 2 on B,
// the final part on A; the result equals a one-shot encryption, and the
// stream is bound to its client and gone after its final part.
func TestStreamAcrossNodes(t *testing.T) {
	a, b := twoNodes(t)
	for _, v := range [][2]int32{{1, 4}, {2, 1}} {
		ca, cb := dial(t, a, "alice", v[0], v[1]), dial(t, b, "alice", v[0], v[1])
		create := call(t, ca, kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256,
			kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, "")...)
		if v[0] >= 2 {
			create = call(t, ca, kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
				kmip.Struct(kmip.TagAttributes,
					kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
					kmip.Int(kmip.TagCryptographicLength, 256),
					kmip.Int(kmip.TagCryptographicUsageMask, int32(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt))))
		}
		id, _ := create.Child(kmip.TagUniqueIdentifier).AsText()
		uid := kmip.Text(kmip.TagUniqueIdentifier, id)
		call(t, ca, kmip.OperationActivate, uid)
		gcm := kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagBlockCipherMode, uint32(kmip.BlockCipherModeGCM)))
		iv := kmip.Bytes(kmip.TagIVCounterNonce, bytes.Repeat([]byte{9}, 12))
		aad := kmip.Bytes(kmip.TagAuthenticatedEncryptionAdditionalData, []byte("header"))
		msg := []byte("a message long enough to cross several GCM blocks, in three parts")

		one := call(t, ca, kmip.OperationEncrypt, uid, gcm, iv, aad, kmip.Bytes(kmip.TagData, msg))

		p1 := call(t, ca, kmip.OperationEncrypt, uid, gcm, iv, aad, kmip.Bytes(kmip.TagData, msg[:21]), kmip.Bool(kmip.TagInitIndicator, true))
		cv := kmip.Bytes(kmip.TagCorrelationValue, field(t, p1, kmip.TagCorrelationValue))
		got := bytes.Clone(p1.Child(kmip.TagData).Value.([]byte))

		// Another client on node B cannot continue alice's stream.
		bad := kmip.ResultReasonItemNotFound
		if v[0] >= 2 {
			bad = kmip.ResultReasonInvalidCorrelationValue
		}
		_, err := dial(t, b, "bob", v[0], v[1]).Call(kmip.OperationEncrypt, gcm, kmip.Bytes(kmip.TagData, msg[21:40]), cv)
		wantReason(t, err, bad)

		p2 := call(t, cb, kmip.OperationEncrypt, uid, gcm, kmip.Bytes(kmip.TagData, msg[21:40]), cv)
		if !bytes.Equal(field(t, p2, kmip.TagCorrelationValue), cv.Value.([]byte)) {
			t.Fatal("node B changed the Correlation Value")
		}
		if d := p2.Child(kmip.TagData); d != nil {
			got = append(got, d.Value.([]byte)...)
		}
		p3 := call(t, ca, kmip.OperationEncrypt, uid, gcm, kmip.Bytes(kmip.TagData, msg[40:]), cv, kmip.Bool(kmip.TagFinalIndicator, true))
		got = append(got, field(t, p3, kmip.TagData)...)
		if !bytes.Equal(got, field(t, one, kmip.TagData)) {
			t.Fatalf("%d.%d: streamed ciphertext %x, one-shot %x", v[0], v[1], got, field(t, one, kmip.TagData))
		}
		if !bytes.Equal(field(t, p3, kmip.TagAuthenticatedEncryptionTag), field(t, one, kmip.TagAuthenticatedEncryptionTag)) {
			t.Fatalf("%d.%d: streamed tag differs from one-shot", v[0], v[1])
		}
		// The final part ended the stream on every node.
		_, err = cb.Call(kmip.OperationEncrypt, uid, gcm, kmip.Bytes(kmip.TagData, msg), cv)
		wantReason(t, err, bad)
	}
}
