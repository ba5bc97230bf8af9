package app

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// memScratch gives every memStore a ports.ScratchStore. Expiry is the
// Service's business in these tests (its clock is fixed or stepped), so the
// test double keeps values until they are deleted.
var memScratch sync.Map // *memStore -> *scratchSpace

type scratchSpace struct {
	mu   sync.Mutex
	vals map[string][]byte
}

func (m *memStore) space() *scratchSpace {
	v, _ := memScratch.LoadOrStore(m, &scratchSpace{vals: map[string][]byte{}})
	return v.(*scratchSpace)
}

func (m *memStore) PutScratch(_ context.Context, key string, value []byte, _ time.Time, quotas ...ports.ScratchQuota) error {
	sp := m.space()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for _, q := range quotas {
		n, total := 0, int64(0)
		if strings.HasPrefix(key, q.Prefix) {
			n, total = 1, int64(len(value))
		}
		for k, v := range sp.vals {
			if k != key && strings.HasPrefix(k, q.Prefix) {
				n, total = n+1, total+int64(len(v))
			}
		}
		if q.Exceeded(n, total) {
			return fmt.Errorf("scratch %q: %w", key, ports.ErrQuotaExceeded)
		}
	}
	sp.vals[key] = bytes.Clone(value)
	return nil
}

func (m *memStore) AddScratch(_ context.Context, key string, value []byte, _ time.Time) error {
	sp := m.space()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if _, ok := sp.vals[key]; ok {
		return fmt.Errorf("scratch %q: %w", key, ports.ErrExists)
	}
	sp.vals[key] = bytes.Clone(value)
	return nil
}

func (m *memStore) GetScratch(_ context.Context, key string) ([]byte, error) {
	sp := m.space()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	v, ok := sp.vals[key]
	if !ok {
		return nil, fmt.Errorf("scratch %q: %w", key, ports.ErrNotFound)
	}
	return bytes.Clone(v), nil
}

func (m *memStore) TakeScratch(_ context.Context, key string) ([]byte, error) {
	sp := m.space()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	v, ok := sp.vals[key]
	if !ok {
		return nil, fmt.Errorf("scratch %q: %w", key, ports.ErrNotFound)
	}
	delete(sp.vals, key)
	return v, nil
}

func (m *memStore) DeleteScratch(_ context.Context, key string) error {
	sp := m.space()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	delete(sp.vals, key)
	return nil
}

func (m *memStore) scratchCount() int {
	sp := m.space()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return len(sp.vals)
}

// plainStore hides the scratch capability of a memStore.
type plainStore struct{ ports.Store }

func TestStreamRecordRoundTrip(t *testing.T) {
	t.Parallel()
	st := stream{owner: "alice", op: kmip.OperationEncrypt, keyID: "k-1", expires: testNow, state: []byte{1, 2, 3}}
	got, ok := decodeStream(st.encode())
	if !ok || got.owner != "alice" || got.op != st.op || got.keyID != "k-1" || !got.expires.Equal(testNow) || !bytes.Equal(got.state, st.state) {
		t.Fatalf("round trip failed: %+v %v", got, ok)
	}
	enc := st.encode()
	for i := range len(enc) - len(st.state) {
		if _, ok := decodeStream(enc[:i]); ok {
			t.Fatalf("truncated record of %d bytes accepted", i)
		}
	}
	enc[0] = 2 // a future format version
	if _, ok := decodeStream(enc); ok {
		t.Fatal("unknown version accepted")
	}
}

// The state stays on the server: the Correlation Value is 16 random bytes,
// the same for every part, and the store holds the state until the final
// part, which deletes it.
func TestStreamStateStaysOnServer(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	s := New(Config{Store: st, Crypto: cryptoFake{}, Clock: fixedClock{testNow}})
	// Decrypt too: only a client that may decrypt chooses the IV (checkEncryptIV).
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
	iv := kmip.Bytes(kmip.TagIVCounterNonce, bytes.Repeat([]byte{7}, 16))
	p1 := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), iv, data([]byte("abc")),
		kmip.Bool(kmip.TagInitIndicator, true))))
	cv := bytesOf(t, p1, kmip.TagCorrelationValue)
	if len(cv) != 16 {
		t.Fatalf("Correlation Value of %d bytes, want 16", len(cv))
	}
	if st.scratchCount() != 1 {
		t.Fatalf("%d scratch values, want 1", st.scratchCount())
	}
	for range 3 {
		p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), data([]byte("defghijklmnopqrstuvwxyz")),
			kmip.Bytes(kmip.TagCorrelationValue, cv))))
		if got := bytesOf(t, p, kmip.TagCorrelationValue); !bytes.Equal(got, cv) {
			t.Fatalf("Correlation Value changed: %x then %x", cv, got)
		}
	}
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), kmip.Bytes(kmip.TagCorrelationValue, cv),
		kmip.Bool(kmip.TagFinalIndicator, true))))
	if st.scratchCount() != 0 {
		t.Fatalf("%d scratch values after the final part, want 0", st.scratchCount())
	}
}

// A stream expires streamTTL after its last part.
func TestStreamExpires(t *testing.T) {
	t.Parallel()
	clk := &stepClock{t: testNow}
	s := New(Config{Store: newMemStore(), Crypto: cryptoFake{}, Clock: clk})
	// Decrypt too: only a client that may decrypt chooses the IV (checkEncryptIV).
	id := aesKey(t, s, v21, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
	iv := kmip.Bytes(kmip.TagIVCounterNonce, bytes.Repeat([]byte{7}, 16))
	p1 := mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), iv, data([]byte("abc")),
		kmip.Bool(kmip.TagInitIndicator, true))))
	cv := bytesOf(t, p1, kmip.TagCorrelationValue)
	clk.advance(streamTTL - time.Second)
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationEncrypt, cbc(), data([]byte("d")), kmip.Bytes(kmip.TagCorrelationValue, cv))))
	clk.advance(streamTTL - time.Second) // the last part renewed it
	mustOK(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationEncrypt, cbc(), data([]byte("e")), kmip.Bytes(kmip.TagCorrelationValue, cv))))
	clk.advance(streamTTL)
	mustFail(t, sendOne(t, s, alice, v21, batchItem(kmip.OperationEncrypt, cbc(), data([]byte("f")), kmip.Bytes(kmip.TagCorrelationValue, cv))),
		kmip.ResultReasonInvalidCorrelationValue)
}

// Without scratch space a store cannot keep stream state: streaming is
// refused, never made stateless; single requests still work.
func TestStreamNeedsScratchStore(t *testing.T) {
	t.Parallel()
	s := New(Config{Store: plainStore{newMemStore()}, Crypto: cryptoFake{}, Clock: fixedClock{testNow}})
	// Decrypt too: only a client that may decrypt chooses the IV (checkEncryptIV).
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
	iv := kmip.Bytes(kmip.TagIVCounterNonce, bytes.Repeat([]byte{7}, 16))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), iv, data([]byte("abc")),
		kmip.Bool(kmip.TagInitIndicator, true))), kmip.ResultReasonFeatureNotSupported)
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), data([]byte("abc")),
		kmip.Bytes(kmip.TagCorrelationValue, make([]byte, 16)))), kmip.ResultReasonFeatureNotSupported)
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), iv, data([]byte("abc")))))
	// And Query says so.
	caps := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryCapabilities)))))
	if on, ok := caps.Path(kmip.TagCapabilityInformation, kmip.TagStreamingCapability).AsBool(); !ok || on {
		t.Fatalf("Streaming Capability %v (present %v) without a scratch store, want false", on, ok)
	}
}

// Streamed Hash buffers at most maxStreamData bytes on the server.
func TestStreamBufferBounded(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	sha := kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256)))
	chunk := make([]byte, maxStreamData/2)
	p := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationHash, sha, data(chunk), kmip.Bool(kmip.TagInitIndicator, true))))
	cv := bytesOf(t, p, kmip.TagCorrelationValue)
	mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationHash, sha, data(chunk), kmip.Bytes(kmip.TagCorrelationValue, cv))))
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationHash, sha, data([]byte{1}), kmip.Bytes(kmip.TagCorrelationValue, cv))),
		kmip.ResultReasonInvalidField)
	// The failed part ended the stream.
	mustFail(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationHash, sha, kmip.Bytes(kmip.TagCorrelationValue, cv), kmip.Bool(kmip.TagFinalIndicator, true))),
		kmip.ResultReasonItemNotFound)
}

// Parts of one stream are serialized: of concurrent parts presenting the
// same state at most one continues the stream, the others find nothing, so
// no keystream is used twice.
func TestStreamConcurrentPartsDoNotFork(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	s := New(Config{Store: st, Crypto: cryptoFake{}, Clock: fixedClock{testNow}})
	// Decrypt too: only a client that may decrypt chooses the IV (checkEncryptIV).
	id := aesKey(t, s, v14, mask(kmip.CryptographicUsageMaskEncrypt, kmip.CryptographicUsageMaskDecrypt), activeNow())
	iv := kmip.Bytes(kmip.TagIVCounterNonce, bytes.Repeat([]byte{7}, 16))
	p1 := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, uidItem(id), cbc(), iv, data([]byte("abc")),
		kmip.Bool(kmip.TagInitIndicator, true))))
	cv := bytesOf(t, p1, kmip.TagCorrelationValue)
	const parts = 8
	ok := make(chan bool, parts)
	for range parts {
		go func() {
			r := sendOne(t, s, alice, v14, batchItem(kmip.OperationEncrypt, cbc(), data(bytes.Repeat([]byte("x"), 40)), kmip.Bytes(kmip.TagCorrelationValue, cv)))
			ok <- r.status == kmip.ResultStatusSuccess
		}()
	}
	won := 0
	for range parts {
		if <-ok {
			won++
		}
	}
	if won < 1 || st.scratchCount() != 1 {
		t.Fatalf("%d parts succeeded, %d states stored", won, st.scratchCount())
	}
	// Every successful part continued from the one before: the fake
	// engine's state ends with the keystream offset.
	rec, err := st.GetScratch(context.Background(), scratchKey(alice.Name, cv))
	if err != nil {
		t.Fatal(err)
	}
	last, _ := decodeStream(rec)
	if off := binary.BigEndian.Uint64(last.state[len(last.state)-8:]); off != uint64(3+40*won) {
		t.Fatalf("keystream offset %d after %d successful parts, want %d: parts forked", off, won, 3+40*won)
	}
}
