package cryptoops

import (
	"context"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/adapters/crypto/software"
	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/app"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
	"path/filepath"
)

// tryMsg sends one operation and returns its payload, or nil with the
// Result Reason and Result Message.
func (e *env) tryMsg(op kmip.Operation, payload ...*kmip.Item) (*kmip.Item, kmip.ResultReason, string) {
	e.t.Helper()
	req := kmip.Struct(kmip.TagRequestMessage,
		kmip.Struct(kmip.TagRequestHeader,
			kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, e.major), kmip.Int(kmip.TagProtocolVersionMinor, e.min)),
			kmip.Int(kmip.TagBatchCount, 1)),
		kmip.Struct(kmip.TagBatchItem, kmip.Enum(kmip.TagOperation, uint32(op)), kmip.Struct(kmip.TagRequestPayload, payload...)))
	bi := e.s.HandleMessage(ports.WithPeer(context.Background(), alice), req).Child(kmip.TagBatchItem)
	if st, _ := bi.Child(kmip.TagResultStatus).AsEnum(); st != uint32(kmip.ResultStatusSuccess) {
		r, _ := bi.Child(kmip.TagResultReason).AsEnum()
		m, _ := bi.Child(kmip.TagResultMessage).AsText()
		return nil, kmip.ResultReason(r), m
	}
	return bi.Child(kmip.TagResponsePayload), 0, ""
}

// eachVersion runs fn at every protocol version on a fresh SQLite store
// (Encrypt exists from KMIP 1.2: e.encrypts).
func eachVersion(t *testing.T, fn func(e *env)) {
	for _, v := range [][2]int32{{1, 0}, {1, 2}, {1, 4}, {2, 0}, {2, 1}} {
		st, err := sqlite.Open(filepath.Join(t.TempDir(), "k.sqlite"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(&env{t: t, s: app.New(app.Config{Store: st, Crypto: software.New()}), major: v[0], min: v[1]})
	}
}

// encrypts reports whether the version has Encrypt and Decrypt (1.2+).
func (e *env) encrypts() bool { return e.major >= 2 || e.min >= 2 }

// badParams is the version's reason for parameters the engine refuses.
func (e *env) badParams() kmip.ResultReason {
	if e.v2() {
		return kmip.ResultReasonBadCryptographicParameters
	}
	return kmip.ResultReasonInvalidField
}

// TestEngineRefusalsNameTheCause: an Invalid Field or Bad Cryptographic
// Parameters answer to a refused cryptographic request says which field and
// why, in the engine's words (issue 20.15), never hiding it behind "the data
// or parameters are not valid".
// The keys may Decrypt: a client that may not chooses no IV (test/attacker TestEncryptIsNotDecrypt).
func TestEngineRefusalsNameTheCause(t *testing.T) {
	eachVersion(t, func(e *env) {
		if !e.encrypts() {
			return
		}
		id, _ := e.symKey(kmip.CryptographicAlgorithmAES, 128, mask(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt))
		_, reason, msg := e.tryMsg(kmip.OperationEncrypt, uid(id), params(mode(kmip.BlockCipherModeCBC)),
			kmip.Bytes(kmip.TagData, make([]byte, 16)), kmip.Bytes(kmip.TagIVCounterNonce, make([]byte, 12)))
		if reason != e.badParams() || !strings.Contains(msg, "IV of 12 bytes (want 16)") {
			t.Errorf("%d.%d: short IV answered %s %q, want %s naming the IV length", e.major, e.min, reason, msg, e.badParams())
		}
	})
}

// TestLegacyAlgorithmKeysCreated: a key is created for a legacy algorithm
// whose key lengths its definition fixes (SKIPJACK: 80 bits) although no
// operation uses it; an operation with it is refused, naming the algorithm.
func TestLegacyAlgorithmKeysCreated(t *testing.T) {
	eachVersion(t, func(e *env) {
		id, key := e.symKey(kmip.CryptographicAlgorithmSKIPJACK, 80, mask(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt))
		if len(key) != 10 {
			t.Errorf("%d.%d: SKIPJACK key of %d bytes", e.major, e.min, len(key))
		}
		unsupported := kmip.ResultReasonInvalidField
		if e.v2() {
			unsupported = kmip.ResultReasonUnsupportedCryptographicParameters
		}
		if e.encrypts() {
			_, reason, msg := e.tryMsg(kmip.OperationEncrypt, uid(id), params(mode(kmip.BlockCipherModeCBC)),
				kmip.Bytes(kmip.TagData, make([]byte, 8)), kmip.Bytes(kmip.TagIVCounterNonce, make([]byte, 8)))
			if reason != unsupported || !strings.Contains(msg, "no SKIPJACK cipher") {
				t.Errorf("%d.%d: Encrypt with SKIPJACK answered %s %q", e.major, e.min, reason, msg)
			}
		}
		_, reason, msg := e.tryMsg(kmip.OperationCreate, kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSymmetricKey)),
			e.attrs(kmip.TagTemplateAttribute, algItem(kmip.CryptographicAlgorithmSKIPJACK), kmip.Int(kmip.TagCryptographicLength, 64),
				mask(kmip.CryptographicUsageMaskEncrypt)))
		if reason != kmip.ResultReasonInvalidField || !strings.Contains(msg, "allowed: 80") {
			t.Errorf("%d.%d: SKIPJACK-64 answered %s %q, want Invalid Field naming 80 bits", e.major, e.min, reason, msg)
		}
	})
}
