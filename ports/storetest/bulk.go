package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// testCreateAll checks ports.BulkCreator when the store has it: all objects
// or none are written.
func testCreateAll(t *testing.T, open Opener) {
	s, _ := fresh(t, open)
	bulk, ok := s.(ports.BulkCreator)
	if !ok {
		t.Skip("store has no CreateAll")
	}
	objs := population(20)
	if err := bulk.CreateAll(context.Background(), objs[:10]); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs[:10] {
		checkSame(t, get(t, s, o.ID), o)
	}
	// A taken identifier, then a repeated one: nothing of either batch is written.
	for _, batch := range [][]*domain.Object{
		append(slices.Clone(objs[10:15]), objs[3]),
		append(slices.Clone(objs[10:15]), objs[12]),
	} {
		if err := bulk.CreateAll(context.Background(), batch); !errors.Is(err, ports.ErrExists) {
			t.Fatalf("CreateAll with a taken identifier: %v, want ErrExists", err)
		}
		checkLocate(t, s, matching(objs[:10]))
	}
	if err := bulk.CreateAll(context.Background(), objs[10:]); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		for _, term := range o.IndexTerms() {
			checkLocate(t, s, matching(objs, term), term)
		}
	}
}

// benchOwners is how many owners the bulk-loaded objects have.
const benchOwners = 1000

// benchObject is a realistic symmetric key: its own Name, one of
// benchOwners owners, the default policy, usual attributes and a key.
func benchObject(i int) *domain.Object {
	key := make([]byte, 32)
	for j := range key {
		key[j] = byte(i + j)
	}
	o := &domain.Object{
		ID:          fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i*7919),
		Type:        uint32(kmip.ObjectTypeSymmetricKey),
		State:       domain.Active,
		Owner:       fmt.Sprintf("user-%04d", i%benchOwners),
		Policy:      domain.PolicyDefault,
		InitialDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
		Payload: kmip.Struct(kmip.TagSymmetricKey,
			kmip.Struct(kmip.TagKeyBlock,
				kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
				kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, key)),
				kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)),
				kmip.Int(kmip.TagCryptographicLength, 256))),
	}
	o.SetAttr("Cryptographic Algorithm", kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmAES)))
	o.SetAttr("Cryptographic Length", kmip.Int(kmip.TagCryptographicLength, 256))
	o.SetAttr("Cryptographic Usage Mask", kmip.Int(kmip.TagCryptographicUsageMask, 12))
	o.AddAttr("Name", name(fmt.Sprintf("key-%07d", i)))
	o.SetAttr("Activation Date", kmip.DateTime(kmip.TagActivationDate, o.InitialDate))
	o.SetAttr("Last Change Date", kmip.DateTime(kmip.TagLastChangeDate, o.InitialDate))
	o.SetAttr("Fresh", kmip.Bool(kmip.TagFresh, true))
	return o
}

// bulkLoad stores n benchObjects in transactions of many objects (the store
// must be a ports.BulkCreator). Two loaders build and encode chunks while
// the store commits another, so that loading uses both of a small machine's
// cores; every commit is as durable as the store makes any.
func bulkLoad(b *testing.B, s ports.Store, n int) {
	const chunk = 20_000
	bulk, ok := s.(ports.BulkCreator)
	if !ok {
		b.Fatalf("%T has no CreateAll for a bulk load", s)
	}
	starts := make(chan int)
	go func() {
		defer close(starts)
		for start := 0; start < n; start += chunk {
			starts <- start
		}
	}()
	const workers = 2
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for start := range starts {
				objs := make([]*domain.Object, 0, chunk)
				for i := start; i < min(start+chunk, n); i++ {
					objs = append(objs, benchObject(i))
				}
				if err := bulk.CreateAll(context.Background(), objs); err != nil {
					for range starts {
					}
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchLocateByNameN measures what Locate by Name costs a caller among n
// stored objects of benchOwners owners: the store's query as the app sends
// it (the Name, the caller's access terms under the default policy, on-line
// storage). It reports the p50 and p99 latency of one Locate, and the
// process's memory after the load (heap in use after a GC, resident
// anonymous memory, and resident memory in all, which for bbolt includes the
// mapped file's pages).
func BenchLocateByNameN(b *testing.B, open Opener, n int) {
	path := filepath.Join(b.TempDir(), "store")
	s := openAt(b, open, path)
	start := time.Now()
	bulkLoad(b, s, n)
	b.Logf("loaded %d objects in %s", n, time.Since(start).Round(time.Millisecond))
	online := []domain.IndexTerm{{Name: domain.IndexStorage, Key: domain.EnumKey(uint32(kmip.StorageStatusMaskOnLineStorage))}}
	r := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		i := r.IntN(n)
		o := benchObject(i)
		who := domain.Principal{Name: o.Owner}
		q := ports.LocateQuery{
			Terms: []domain.IndexTerm{{Name: "Name", Key: domain.IndexKey(name(fmt.Sprintf("key-%07d", i)))}},
			Any: [][]domain.IndexTerm{
				slices.Concat(domain.AccessTerms(domain.PolicyDefault, domain.DefaultPolicy(), who, uint32(kmip.OperationLocate)),
					domain.AccessTerms(domain.PolicyPublic, domain.PublicPolicy(), who, uint32(kmip.OperationLocate))),
				online,
			},
		}
		t0 := time.Now()
		ids, err := s.Locate(context.Background(), q)
		lat = append(lat, time.Since(t0))
		if err != nil || len(ids) != 1 || ids[0] != o.ID {
			b.Fatalf("Locate(key-%07d) = %q, %v", i, ids, err)
		}
	}
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	if anon, rss, ok := residentMemory(); ok {
		b.ReportMetric(anon, "rss-anon-MB")
		b.ReportMetric(rss, "rss-MB")
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// residentMemory reads the process's resident anonymous memory and resident
// memory in all, in MiB, from /proc (Linux only).
func residentMemory() (anon, rss float64, ok bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, false
	}
	field := func(name string) float64 {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, found := strings.CutPrefix(line, name+":"); found {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
				return kb / 1024
			}
		}
		return 0
	}
	return field("RssAnon"), field("VmRSS"), true
}
