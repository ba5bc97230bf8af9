// Package faults runs the kmipd binary under resource faults: many large
// requests against a memory budget, a memory cgroup, a full log disk.
package faults

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

const mib = 1 << 20

// hashPayload is a Hash request payload over data (SHA-256).
func hashPayload(data []byte) []*kmip.Item {
	return []*kmip.Item{
		kmip.Struct(kmip.TagCryptographicParameters,
			kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256))),
		kmip.Bytes(kmip.TagData, data),
	}
}

// hash asks c for the SHA-256 of data and checks the answer.
func hash(c *kmipclient.Client, data []byte) error {
	p, err := c.Call(kmip.OperationHash, hashPayload(data)...)
	if err != nil {
		return err
	}
	got, _ := p.Child(kmip.TagData).AsBytes()
	if sum := sha256.Sum256(data); !bytes.Equal(got, sum[:]) {
		return fmt.Errorf("Hash answered %x, want %x", got, sum)
	}
	return nil
}

// flood sends rounds requests of about 1 MiB on each of conns connections
// of identity cn at once, and returns the first error.
func flood(t *testing.T, srv *harness.Server, cn string, conns, rounds int) error {
	clients := make([]*kmipclient.Client, conns)
	for i := range clients {
		clients[i] = srv.Dial(t, cn, 1, 4)
		clients[i].Timeout = 2 * time.Minute
	}
	data := bytes.Repeat([]byte{0x5a}, mib-512)
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := hash(c, data); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// floodWhileServing floods srv from alice and, meanwhile, has bob send small
// requests, which must all be answered; it returns how many bob sent during
// the flood.
func floodWhileServing(t *testing.T, srv *harness.Server, conns, rounds int) int {
	bob := srv.Dial(t, "bob", 1, 4)
	bob.Timeout = time.Minute
	if err := hash(bob, []byte("warm-up")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- flood(t, srv, "alice", conns, rounds) }()
	served := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("alice's flood: %v", err)
			}
			return served
		case <-time.After(50 * time.Millisecond):
		}
		if err := hash(bob, []byte("small request "+strconv.Itoa(served))); err != nil {
			t.Fatalf("bob not served during alice's flood: %v", err)
		}
		served++
	}
}

// With a small memory budget, one client sending hundreds of concurrent
// 1 MiB requests is slowed down instead of growing kmipd's memory with
// them, and another client is served meanwhile. Without the budget the
// peak resident set grows by about 1 MiB per concurrent request.
func TestMemoryBudgetBoundsResidentSet(t *testing.T) {
	const conns, rounds = 200, 2
	srv := harness.Start(t, harness.Options{ExtraServerTOML: "memory_budget = 16777216\nread_timeout = \"2m\""})
	before, err := srv.ProcStatusBytes("VmHWM")
	if err != nil {
		t.Skipf("cannot read kmipd's memory use: %v", err)
	}
	served := floodWhileServing(t, srv, conns, rounds)
	peak, err := srv.ProcStatusBytes("VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak resident set %d MiB (%d MiB before the flood); bob served %d times during it", peak/mib, before/mib, served)
	// 16 MiB of messages in flight, a decoded copy of each, garbage the
	// collector has not yet returned: well under the 200 MiB that 200
	// unbudgeted 1 MiB requests reach.
	if limit := before + 100*mib; peak > limit {
		t.Errorf("peak resident set %d MiB, want at most %d MiB", peak/mib, limit/mib)
	}
	if served == 0 {
		t.Error("bob sent no request while alice's flood ran")
	}
	log := srv.LogContents(t)
	if strings.Contains(log, "did not fit in the memory budget") {
		t.Error("a connection was closed for the budget although the read timeout allowed the wait")
	}
	if n := strings.Count(log, "memory budget exhausted"); n != 1 {
		t.Errorf("the wait for the memory budget was logged %d times, want once", n)
	}
}

// cgroupSettings are the options of a kmipd in a memory cgroup of limit
// bytes: the budget (an eighth) and Go memory limit (90%) that kmipd derives
// from its cgroup when it starts in it.
func cgroupSettings(limit int64) harness.Options {
	return harness.Options{
		ExtraServerTOML: fmt.Sprintf("memory_budget = %d\nread_timeout = \"2m\"", limit/8),
		Env:             []string{fmt.Sprintf("GOMEMLIMIT=%d", limit/10*9)},
	}
}

// With the settings kmipd derives from a 150 MiB memory cgroup, a flood of
// 400 concurrent 1 MiB requests keeps the peak resident set under 150 MiB;
// without them it reaches about 450 MiB. This runs anywhere; the next test
// runs the same in a real cgroup where one can be made.
func TestCgroupSettingsBoundResidentSet(t *testing.T) {
	const limit = 150 * mib
	srv := harness.Start(t, cgroupSettings(limit))
	if _, err := srv.ProcStatusBytes("VmHWM"); err != nil {
		t.Skipf("cannot read kmipd's memory use: %v", err)
	}
	floodWhileServing(t, srv, 400, 1)
	peak, err := srv.ProcStatusBytes("VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak resident set %d MiB", peak/mib)
	if peak > limit {
		t.Errorf("peak resident set %d MiB, over the %d MiB cgroup limit", peak/mib, limit/mib)
	}
}

// In a 150 MiB memory cgroup, kmipd survives a flood of 1 MiB requests
// that without a budget takes it over the limit. It needs root and cgroup
// v2 with the memory controller; it skips otherwise.
func TestSurvivesFloodInMemoryCgroup(t *testing.T) {
	const limit = 150 * mib
	cg := newMemoryCgroup(t, limit)
	// kmipd is moved into the cgroup after it started, so it cannot derive
	// its settings from the cgroup itself: it is given those it would derive.
	srv := harness.Start(t, cgroupSettings(limit))
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(srv.PID())), 0o644); err != nil {
		t.Skipf("cannot move kmipd into the cgroup %s: %v", cg, err)
	}
	floodWhileServing(t, srv, 400, 2)
	if ev, err := os.ReadFile(filepath.Join(cg, "memory.events")); err == nil {
		t.Logf("memory.events:\n%s", ev)
	}
	// harness.Start's cleanup requires a clean exit: an OOM kill fails it.
}

// newMemoryCgroup creates a cgroup v2 child with memory.max = limit and no
// swap, removed when the test ends, or skips the test with the reason.
func newMemoryCgroup(t *testing.T, limit int64) string {
	t.Helper()
	const root = "/sys/fs/cgroup"
	if os.Geteuid() != 0 {
		t.Skip("creating a memory cgroup needs root")
	}
	ctrl, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
	if err != nil || !strings.Contains(" "+strings.TrimSpace(string(ctrl))+" ", " memory ") {
		t.Skipf("no cgroup v2 memory controller at %s (cgroup.controllers: %q, %v)", root, ctrl, err)
	}
	// The memory controller must be enabled for the root's children.
	_ = os.WriteFile(filepath.Join(root, "cgroup.subtree_control"), []byte("+memory"), 0o644)
	dir := filepath.Join(root, fmt.Sprintf("kmipd-faults-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot create a cgroup: %v", err)
	}
	t.Cleanup(func() {
		// The kmipd process has exited by now (cleanups run last first).
		if err := os.Remove(dir); err != nil {
			t.Logf("removing cgroup %s: %v", dir, err)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "memory.max"), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		t.Skipf("cannot set memory.max: %v", err)
	}
	_ = os.WriteFile(filepath.Join(dir, "memory.swap.max"), []byte("0"), 0o644)
	return dir
}
