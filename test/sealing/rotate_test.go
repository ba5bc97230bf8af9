package sealing

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// createMany creates n AES keys in batches and returns their identifiers.
func createMany(t *testing.T, c *kmipclient.Client, n int) []string {
	t.Helper()
	var ids []string
	for len(ids) < n {
		var items []*kmip.Item
		for i := 0; i < min(100, n-len(ids)); i++ {
			items = append(items, kmipclient.BatchItem(kmip.OperationCreate, kmipclient.CreateSymmetricKey(
				kmip.CryptographicAlgorithmAES, 256, kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, "")...))
		}
		resp, err := c.RoundTrip(c.Request(items...))
		if err != nil {
			t.Fatal(err)
		}
		rs, err := kmipclient.Results(resp)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			id, _ := r.Payload.Child(kmip.TagUniqueIdentifier).AsText()
			ids = append(ids, id)
		}
	}
	return ids
}

// writeConfig replaces the [seal] table of srv's configuration.
func writeConfig(t *testing.T, srv *harness.Server, seal string) {
	t.Helper()
	b, err := os.ReadFile(srv.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	if i := strings.Index(cfg, "\n[seal]"); i >= 0 {
		cfg = cfg[:i]
	}
	if err := os.WriteFile(srv.ConfigPath, []byte(cfg+seal), 0o600); err != nil {
		t.Fatal(err)
	}
}

// KEK rotation while kmipd serves: kmipd started with a new key_file and
// the old one in previous_key_files rewraps every data key in the
// background while clients read, create and update keys; no request fails,
// no object is lost, the rotation reports completion, and afterwards the
// store opens with the new key file alone and no longer with the old one.
func TestRotateUnderLoad(t *testing.T) {
	for _, storage := range []string{"sqlite", "bbolt"} {
		t.Run(storage, func(t *testing.T) {
			keys := t.TempDir()
			oldKey, newKey := keygen(t, keys, "old"), keygen(t, keys, "new")
			srv := harness.Start(t, harness.Options{Storage: storage, ExtraTOML: sealTOML(oldKey)})
			ids := createMany(t, srv.Dial(t, "admin", 1, 4), 1500)
			srv.Stop(t)

			writeConfig(t, srv, sealTOML(newKey, oldKey))
			srv.Restart(t)
			const workers = 4
			clients := make([]*kmipclient.Client, workers)
			for i := range clients {
				clients[i] = srv.Dial(t, "admin", 1, 4)
			}
			var (
				stop     atomic.Bool
				ops      atomic.Int64
				mu       sync.Mutex
				failures []string
				created  []string
				wg       sync.WaitGroup
			)
			fail := func(format string, args ...any) {
				mu.Lock()
				failures = append(failures, fmt.Sprintf(format, args...))
				mu.Unlock()
			}
			for w, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for i := 0; !stop.Load(); i++ {
						id := ids[r.IntN(len(ids))]
						var err error
						switch i % 3 {
						case 0:
							var out *kmip.Item
							out, err = c.Call(kmip.OperationGet, uid(id))
							if err == nil {
								if k, _ := out.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); len(k) != 32 {
									fail("Get %s: no key material", id)
								}
							}
						case 1:
							_, err = c.Call(kmip.OperationAddAttribute, uid(id),
								kmipclient.Attribute("x-load", kmip.Text(kmip.TagAttributeValue, fmt.Sprint(i))))
						case 2:
							var out *kmip.Item
							out, err = c.Call(kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128,
								kmip.CryptographicUsageMaskEncrypt, "")...)
							if err == nil {
								nid, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
								mu.Lock()
								created = append(created, nid)
								mu.Unlock()
							}
						}
						if err != nil {
							fail("op %d on %s: %v", i%3, id, err)
						}
						ops.Add(1)
					}
				}()
			}
			var opsBeforeDone int64 = -1
			deadline := time.Now().Add(2 * time.Minute)
			for time.Now().Before(deadline) {
				n := ops.Load()
				if strings.Contains(srv.LogContents(t), "seal rotation complete") {
					opsBeforeDone = n
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			stop.Store(true)
			wg.Wait()
			if opsBeforeDone < 0 {
				t.Fatalf("no \"seal rotation complete\" in the log within 2 minutes")
			}
			if opsBeforeDone == 0 {
				t.Fatalf("the rotation ended before any request: nothing ran under load")
			}
			for _, f := range failures {
				t.Error(f)
			}
			t.Logf("%d requests during the rotation, %d in all", opsBeforeDone, ops.Load())
			if storage == "sqlite" { // a second process beside the serving one: nothing left to do
				r := harness.Run(t, srv.Dir, "seal", "rotate", "-config", srv.ConfigPath)
				if r.ExitCode != 0 || !strings.Contains(r.Stdout, " 0 resealed") {
					t.Errorf("kmipd seal rotate beside kmipd: exit %d: %s%s", r.ExitCode, r.Stdout, r.Stderr)
				}
			}
			srv.Stop(t)

			// The old key file alone no longer opens the store.
			writeConfig(t, srv, sealTOML(oldKey))
			r := harness.Run(t, srv.Dir, "-config", srv.ConfigPath)
			if r.ExitCode != 78 || !strings.Contains(r.Stderr, "seal.key_file") {
				t.Errorf("old key file after rotation: exit %d, %s", r.ExitCode, r.Stderr)
			}
			// The new one alone opens every object.
			writeConfig(t, srv, sealTOML(newKey))
			srv.Restart(t)
			c := srv.Dial(t, "admin", 1, 4)
			for _, id := range append(ids, created...) {
				if _, err := c.Call(kmip.OperationGet, uid(id)); err != nil {
					t.Fatalf("Get %s with the new KEK alone: %v", id, err)
				}
			}
			srv.Stop(t) // a bbolt store admits one process
			rs := harness.Run(t, srv.Dir, "seal", "status", "-config", srv.ConfigPath)
			if rs.ExitCode != 0 || strings.Count(rs.Stdout, "sampled objects sealed under KEK") != 1 || !strings.Contains(rs.Stdout, "current KEK") {
				t.Errorf("seal status after rotation: exit %d: %s%s", rs.ExitCode, rs.Stdout, rs.Stderr)
			}
		})
	}
}

// A rotation interrupted by a crash resumes at the next start and reseals
// only what the first run had not: every envelope names its KEK.
func TestRotationResumesAfterKill(t *testing.T) {
	keys := t.TempDir()
	oldKey, newKey := keygen(t, keys, "old"), keygen(t, keys, "new")
	srv := harness.Start(t, harness.Options{ExtraTOML: sealTOML(oldKey)})
	const n = 1500
	ids := createMany(t, srv.Dial(t, "admin", 1, 4), n)
	srv.Stop(t)
	writeConfig(t, srv, sealTOML(newKey, oldKey))
	srv.Restart(t)
	waitLog := func(what string) string {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			for _, line := range strings.Split(srv.LogContents(t), "\n") {
				if strings.Contains(line, what) {
					return line
				}
			}
		}
		t.Fatalf("no %q in the log", what)
		return ""
	}
	waitLog("seal rotation progress")
	srv.Kill(t)
	if strings.Contains(srv.LogContents(t), "seal rotation complete") {
		t.Skip("the rotation completed before the kill")
	}
	os.Remove(srv.LogPath)
	srv.Restart(t)
	var done struct{ Resealed, Seen int }
	if err := json.Unmarshal([]byte(waitLog("seal rotation complete")), &done); err != nil {
		t.Fatal(err)
	}
	if done.Resealed == 0 || done.Resealed >= n || done.Seen != n {
		t.Errorf("resumed rotation resealed %d of %d seen, want fewer than %d (the first run's work kept)", done.Resealed, done.Seen, n)
	}
	srv.Stop(t)
	writeConfig(t, srv, sealTOML(newKey))
	srv.Restart(t)
	c := srv.Dial(t, "admin", 1, 4)
	for _, id := range ids {
		harness.Call(t, c, kmip.OperationGet, uid(id))
	}
}
