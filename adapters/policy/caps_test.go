package policy

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/domain"
)

// manyPolicies is a policy file defining n policies named prefix0...
func manyPolicies(prefix string, n int) string {
	rules := make([]string, n)
	for i := range rules {
		rules[i] = rule(fmt.Sprintf("%s%d", prefix, i), "ALLOW_ALL")
	}
	return "{" + strings.Join(rules, ",") + "}"
}

func openTestDir(t *testing.T, td *testDir, o Options) {
	t.Helper()
	o.Log = zerolog.New(td.log)
	d, err := Open(td.path, o)
	if err != nil {
		t.Fatal(err)
	}
	td.d = d
}

func logLines(b *bytes.Buffer) int { return strings.Count(b.String(), "\n") }

// Loading, overwriting and removing many policies logs one line per file,
// not one per policy.
func TestDirLogsOneLinePerFile(t *testing.T) {
	td := newTestDir(t, map[string]string{"a.json": manyPolicies("p", 500)})
	if td.perm("p499") != domain.AllowAll {
		t.Fatal("policies not loaded")
	}
	td.write("b.json", manyPolicies("p", 500))
	td.d.Scan()
	td.remove("a.json")
	td.remove("b.json")
	td.d.Scan()
	if td.perm("p0") != -1 {
		t.Fatal("policies of removed files still in force")
	}
	if n := logLines(td.log); n != 4 {
		t.Errorf("%d log lines for loading two files of 500 policies and removing them, want 4:\n%.2000s", n, td.log.String())
	}
	if !strings.Contains(td.log.String(), `"overwritten":500`) || !strings.Contains(td.log.String(), `"overwritten_policies":["p0","p1",`) {
		t.Errorf("the overwriting file's line does not count and name (some of) the overwritten policies:\n%.2000s", td.log.String())
	}
}

// A file that would take the definitions over MaxPolicies is refused whole,
// logged once, and loaded once room is freed, also by a file that shrinks.
func TestDirMaxPolicies(t *testing.T) {
	td := newTestDir(t, nil)
	td.write("b.json", manyPolicies("b", 6))
	openTestDir(t, td, Options{MaxPolicies: 10})
	td.write("a.json", manyPolicies("a", 6))
	td.d.Scan()
	td.d.Scan()
	if td.perm("a0") != -1 || td.perm("b5") != domain.AllowAll {
		t.Fatal("want b.json's policies loaded and a.json refused")
	}
	if n := strings.Count(td.log.String(), "policy file refused"); n != 1 {
		t.Errorf("the refused file was logged %d times, want once:\n%s", n, td.log.String())
	}
	// b.json shrinks after a.json was looked at in the same scan: a.json
	// is retried at the next one.
	td.write("b.json", manyPolicies("b", 2))
	td.d.Scan()
	td.d.Scan()
	if td.perm("a5") != domain.AllowAll || td.perm("b1") != domain.AllowAll || td.perm("b2") != -1 {
		t.Error("a.json not loaded once b.json shrank")
	}
	// A file growing over the cap keeps its last good policies.
	td.write("a.json", manyPolicies("a", 9))
	td.d.Scan()
	if td.perm("a5") != domain.AllowAll || td.perm("a8") != -1 {
		t.Error("a file grown over the cap must keep its last good policies")
	}
}

// A file that would take the loaded files over MaxTotalSize bytes is
// refused; removing another file makes room for it.
func TestDirMaxTotalSize(t *testing.T) {
	body := manyPolicies("a", 2)
	td := newTestDir(t, nil)
	td.write("a.json", body)
	openTestDir(t, td, Options{MaxTotalSize: int64(len(body)) + 10})
	td.write("b.json", manyPolicies("b", 2))
	td.d.Scan()
	if td.perm("b0") != -1 {
		t.Fatal("a file over the total size cap was loaded")
	}
	td.remove("a.json")
	td.d.Scan()
	if td.perm("b0") != domain.AllowAll || td.perm("a0") != -1 {
		t.Error("b.json not loaded once a.json was removed")
	}
}

// Once policy files are removed, the memory their policies took is
// released, the index of names included.
func TestDirReleasesMemoryOfRemovedPolicies(t *testing.T) {
	td := newTestDir(t, nil)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	td.write("a.json", manyPolicies("a", 25000))
	td.write("b.json", manyPolicies("b", 25000))
	openTestDir(t, td, Options{MaxPolicies: 50000})
	if td.perm("b24999") != domain.AllowAll {
		t.Fatal("policies not loaded")
	}
	loaded := heap()
	td.remove("a.json")
	td.remove("b.json")
	td.d.Scan()
	after := heap()
	t.Logf("heap: %d KiB before, %d KiB loaded, %d KiB after removal", before>>10, loaded>>10, after>>10)
	if after > before+1<<20 {
		t.Errorf("%d KiB still held after the policies were removed", (after-before)>>10)
	}
	runtime.KeepAlive(td.d)
}
