package sealing

import (
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// Keys written with known bytes (registered symmetric, private and split
// keys, secret data, opaque data, a created key) are in no file of a sealed
// store, SQLite or bbolt, neither while kmipd runs nor after it stopped,
// destroyed or not; they read back across a restart; Query reports
// cryptographic shredding. The same writes to a store without [seal] are
// found by the same scan, so the scan sees the files.
func TestNoKeyBytesAtRest(t *testing.T) {
	for _, storage := range []string{"sqlite", "bbolt"} {
		for _, sealed := range []bool{true, false} {
			name := storage + "/clear-control"
			if sealed {
				name = storage + "/sealed"
			}
			t.Run(name, func(t *testing.T) {
				opts := harness.Options{Storage: storage}
				if sealed {
					opts.ExtraTOML = sealTOML(keygen(t, t.TempDir(), "kek"))
				}
				srv := harness.Start(t, opts)
				c := srv.Dial(t, "admin", 1, 4)
				secrets := writeSecrets(t, c)
				checkSecrets(t, c, secrets)
				for _, s := range secrets {
					if s.name == "symmetric" || s.name == "split key" {
						harness.Call(t, c, kmip.OperationDestroy, uid(s.id))
					}
				}
				q := harness.Call(t, c, kmip.OperationQuery, kmip.Enum(kmip.TagQueryFunction, uint32(kmip.QueryFunctionQueryCapabilities)))
				shred, _ := q.Path(kmip.TagCapabilityInformation, kmip.TagShreddingAlgorithm).AsEnum()
				wantShred := kmip.ShreddingAlgorithmUnspecified
				if sealed {
					wantShred = kmip.ShreddingAlgorithmCryptographic
				}
				if kmip.ShreddingAlgorithm(shred) != wantShred {
					t.Errorf("Shredding Algorithm %v, want %v", kmip.ShreddingAlgorithm(shred), wantShred)
				}
				scan := func(when string) {
					t.Helper()
					found := 0
					for _, s := range secrets {
						files := storeFilesHolding(t, srv.DBPath, s.bytes)
						found += len(files)
						if sealed && len(files) > 0 {
							t.Errorf("%s: %v hold the %s bytes", when, files, s.name)
						}
					}
					if !sealed && found == 0 {
						t.Errorf("%s: no store file holds a clear key: the scan sees nothing", when)
					}
				}
				scan("while serving")
				srv.Stop(t)
				scan("after kmipd stopped")
				warned := strings.Contains(srv.LogContents(t), "key material is stored in clear")
				if warned == sealed {
					t.Errorf("warning about clear key material logged: %v, want %v", warned, !sealed)
				}
				srv.Restart(t)
				c = srv.Dial(t, "admin", 1, 4)
				var kept []secret
				for _, s := range secrets {
					if s.name != "symmetric" && s.name != "split key" {
						kept = append(kept, s)
					}
				}
				checkSecrets(t, c, kept)
			})
		}
	}
}
