// Package fuzz drives the whole request path below TLS — binary TTLV decode,
// the message engine, every operation handler, a real bbolt store and the
// software crypto engine — with arbitrary bytes, seeded with every request of
// the OASIS conformance cases.
package fuzz

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/crypto/software"
	"github.com/kmipd/kmipd/adapters/storage/bolt"
	"github.com/kmipd/kmipd/adapters/transport/kmipxml"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/app"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/test/harness"
)

// seeds returns the binary encoding of every conformance request that has no
// unbound $VARIABLE in a typed value.
func seeds(t testing.TB) [][]byte {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(root), "shared", "conformance")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.xml"))
	var out [][]byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := kmipxml.Parse(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, n := range nodes {
			if n.Tag != kmip.TagRequestMessage {
				continue
			}
			it, err := n.Item()
			if err != nil {
				continue
			}
			b, err := ttlv.Encode(it)
			if err != nil {
				t.Fatalf("%s: a decoded request does not encode: %v", f, err)
			}
			out = append(out, b)
		}
	}
	return out
}

// syncBuffer is a log sink safe for the concurrent fuzz workers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) takePanics() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []string
	for _, line := range strings.Split(s.b.String(), "\n") {
		if strings.Contains(line, "panic") {
			found = append(found, line)
		}
	}
	s.b.Reset()
	return strings.Join(found, "\n")
}

// FuzzMessage checks that any input gets a well-formed KMIP response (or a
// classified decoding error) and that no handler panics: the engine turns a
// panic into General Failure, so the test watches the log for them.
func FuzzMessage(f *testing.F) {
	ss := seeds(f)
	if len(ss) == 0 {
		f.Log("no conformance cases found beside the repository; fuzzing from the built-in seed only")
	}
	for _, s := range ss {
		f.Add(s)
	}
	get, _ := ttlv.Encode(kmip.Struct(kmip.TagRequestMessage,
		kmip.Struct(kmip.TagRequestHeader,
			kmip.Struct(kmip.TagProtocolVersion, kmip.Int(kmip.TagProtocolVersionMajor, 1), kmip.Int(kmip.TagProtocolVersionMinor, 4)),
			kmip.Int(kmip.TagBatchCount, 1)),
		kmip.Struct(kmip.TagBatchItem, kmip.Enum(kmip.TagOperation, uint32(kmip.OperationGet)),
			kmip.Struct(kmip.TagRequestPayload, kmip.Text(kmip.TagUniqueIdentifier, "x")))))
	f.Add(get)

	store, err := bolt.Open(filepath.Join(f.TempDir(), "fuzz.db"), bolt.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	logs := &syncBuffer{}
	svc := app.New(app.Config{Store: store, Crypto: software.New(), Log: zerolog.New(logs)})
	ctx := ports.WithPeer(context.Background(), domain.Principal{Name: "fuzz"})

	f.Fuzz(func(t *testing.T, in []byte) {
		var resp *kmip.Item
		req, err := ttlv.Decode(in, ttlv.DefaultLimits)
		if err != nil {
			if !errors.Is(err, ttlv.ErrInvalid) && !errors.Is(err, ttlv.ErrFraming) {
				t.Fatalf("unclassified decoding error: %v", err)
			}
			resp = svc.HandleUndecodable(ctx, err)
		} else {
			resp = svc.HandleMessage(ctx, req)
		}
		if p := logs.takePanics(); p != "" {
			t.Fatalf("a handler panicked:\n%s", p)
		}
		if resp == nil || resp.Tag != kmip.TagResponseMessage {
			t.Fatalf("not a Response Message: %v", resp)
		}
		if _, err := ttlv.Encode(resp); err != nil {
			t.Fatalf("the response does not encode: %v", err)
		}
		items := resp.ChildrenOf(kmip.TagBatchItem)
		if len(items) == 0 {
			t.Fatal("response without batch items")
		}
		for _, bi := range items {
			if _, ok := bi.Child(kmip.TagResultStatus).AsEnum(); !ok {
				t.Fatalf("batch item without Result Status: %v", bi)
			}
		}
	})
}
