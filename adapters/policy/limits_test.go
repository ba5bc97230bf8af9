package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
)

// TestDirRefusesHugeFile: a policy file larger than MaxFileSize is not read
// (it would be held whole in memory at every change); it counts as
// unreadable, so its last good policies stay and it is logged once.
func TestDirRefusesHugeFile(t *testing.T) {
	td := newTestDir(t, map[string]string{"a.json": `{` + rule("p", "ALLOW_ALL") + `}`})
	// Valid JSON: the policy followed by whitespace past the limit.
	pad := strings.Repeat(" ", MaxFileSize)
	td.write("big.json", `{`+rule("big", "ALLOW_ALL")+`}`+pad)
	td.write("a.json", `{`+rule("p", "DISALLOW_ALL")+`}`+pad)
	td.d.Scan()
	td.d.Scan()
	if td.perm("big") != -1 {
		t.Error("a policy from a file over MaxFileSize was loaded")
	}
	if td.perm("p") != domain.AllowAll {
		t.Error("a file grown over MaxFileSize replaced its last good policies")
	}
	if n := strings.Count(td.log.String(), "failure loading policy file"); n != 2 {
		t.Errorf("oversized files logged %d times, want once each:\n%s", n, td.log.String())
	}
}

// TestDirSkipsSpecialFiles: a *.json entry that is not a regular file — a
// FIFO, or a symbolic link to one or to a device — is never opened, so a
// scan cannot block on it or read without end; it counts as unreadable.
func TestDirSkipsSpecialFiles(t *testing.T) {
	td := newTestDir(t, map[string]string{"a.json": `{` + rule("p", "ALLOW_ALL") + `}`})
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := syscall.Mkfifo(filepath.Join(td.path, "pipe.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"link.json": fifo, "zero.json": "/dev/zero"} {
		if err := os.Symlink(target, filepath.Join(td.path, name)); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { td.d.Scan(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute): // a hang guard, not a speed check
		t.Fatal("Scan blocked on a special file")
	}
	if td.perm("p") != domain.AllowAll {
		t.Error("policies of a regular file were lost")
	}
	if n := strings.Count(td.log.String(), "failure loading policy file"); n != 3 {
		t.Errorf("special files logged %d times, want once each:\n%s", n, td.log.String())
	}
}

// TestDirDanglingLinkRemovesPolicies: a policy file that is a symbolic link
// whose target was deleted no longer exists as a file: its policies go, as
// when the link itself is removed, instead of staying in force for good.
func TestDirDanglingLinkRemovesPolicies(t *testing.T) {
	td := newTestDir(t, nil)
	target := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(target, []byte(`{`+rule("p", "ALLOW_ALL")+`}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(td.path, "p.json")); err != nil {
		t.Fatal(err)
	}
	td.d.Scan()
	if td.perm("p") != domain.AllowAll {
		t.Fatal("policy behind a symbolic link not loaded")
	}
	if err := os.Remove(target); err != nil {
		t.Fatal(err)
	}
	td.d.Scan()
	if td.perm("p") != -1 {
		t.Error("the policies of a file whose link target was deleted are still in force")
	}
	// The target coming back loads them again.
	if err := os.WriteFile(target, []byte(`{`+rule("p", "ALLOW_OWNER")+`}`), 0o600); err != nil {
		t.Fatal(err)
	}
	td.d.Scan()
	if td.perm("p") != domain.AllowOwner {
		t.Error("policy not reloaded when the link target came back")
	}
}

// TestDirReloadIsAtomic: while a file that keeps defining a policy is
// rewritten and rescanned, concurrent lookups always find the policy, in its
// old or new form, never absent (which would deny everything for a moment).
func TestDirReloadIsAtomic(t *testing.T) {
	td := newTestDir(t, map[string]string{"a.json": `{` + rule("p", "ALLOW_ALL") + `}`})
	stop := make(chan struct{})
	missing := make(chan string, 1)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if p := td.perm("p"); p != domain.AllowAll && p != domain.AllowOwner {
					select {
					case missing <- fmt.Sprintf("lookup saw %v", p):
					default:
					}
				}
			}
		}()
	}
	for i := range 200 {
		perm := "ALLOW_ALL"
		if i%2 == 1 {
			perm = "ALLOW_OWNER"
		}
		// Padding changes the size, so each rewrite is seen as a change.
		td.write("a.json", `{`+rule("p", perm)+`}`+strings.Repeat(" ", i))
		td.d.Scan()
	}
	close(stop)
	wg.Wait()
	select {
	case m := <-missing:
		t.Error(m)
	default:
	}
}
