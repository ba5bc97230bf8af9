package storetest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
)

// Environment of the child process of Crash.
const (
	crashEnvPath  = "KMIPD_CRASH_CHILD"
	crashEnvCycle = "KMIPD_CRASH_CYCLE"
)

// Crash proves that acknowledged writes survive SIGKILL: it re-executes the
// test binary to run only the calling test as a child that creates objects
// from many goroutines and prints each identifier once Create returns, kills
// the child after about 300 acknowledgements (or a few seconds), reopens the
// store and checks that every acknowledged object is present and intact;
// twice, on the same file. The calling test must do nothing else.
func Crash(t *testing.T, open Opener) {
	if path := os.Getenv(crashEnvPath); path != "" {
		crashChild(t, open, path, os.Getenv(crashEnvCycle))
		return
	}
	path := filepath.Join(t.TempDir(), "store")
	var acked []string
	for cycle := range 2 {
		prefix := fmt.Sprintf("cycle%d", cycle)
		ids := runCrashChild(t, path, prefix)
		t.Logf("cycle %d: %d writes acknowledged before SIGKILL", cycle, len(ids))
		acked = append(acked, ids...)

		s, err := open(path)
		if err != nil {
			t.Fatalf("reopen after SIGKILL: %v", err)
		}
		for _, id := range acked {
			got, err := s.Get(context.Background(), id)
			if err != nil {
				s.Close()
				t.Fatalf("acknowledged object %s lost after SIGKILL: %v", id, err)
			}
			checkSame(t, got, Sample(id))
		}
		indexed := map[string]bool{}
		for _, id := range locate(t, s, queryOwner("alice")) {
			indexed[id] = true
		}
		for _, id := range acked {
			if !indexed[id] {
				t.Errorf("acknowledged object %s missing from the index after SIGKILL", id)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

// runCrashChild runs one child and returns the identifiers it acknowledged.
func runCrashChild(t *testing.T, path, prefix string) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvPath+"="+path, crashEnvCycle+"="+prefix)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var ids []string
	deadline := time.After(5 * time.Second)
	killed := false
	for line := range lines {
		if id, ok := strings.CutPrefix(line, "ACK "); ok {
			ids = append(ids, id)
		}
		if killed {
			continue // identifiers printed before the kill landed count too
		}
		select {
		case <-deadline:
		default:
			if len(ids) < 300 {
				continue
			}
		}
		if len(ids) > 0 {
			_ = cmd.Process.Kill() // SIGKILL
			killed = true
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if len(ids) == 0 {
		t.Fatalf("crash child acknowledged no write; stderr:\n%s", stderr.String())
	}
	if !killed {
		t.Logf("crash child ended before it was killed; stderr:\n%s", stderr.String())
	}
	return ids
}

// crashChild creates Sample objects from 16 goroutines until killed (or
// 20 seconds pass), printing "ACK id" as soon as each Create returns nil.
func crashChild(t *testing.T, open Opener, path, prefix string) {
	s, err := open(path)
	if err != nil {
		t.Fatalf("child open: %v", err)
	}
	var mu sync.Mutex
	stop := time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				id := fmt.Sprintf("%s-%02d-%06d", prefix, g, i)
				if err := s.Create(context.Background(), Sample(id)); err != nil {
					fmt.Fprintf(os.Stderr, "Create(%s): %v\n", id, err)
					return
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ACK %s\n", id) // unbuffered: one write(2) per line
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	s.Close()
}

// queryOwner is the query for objects of one owner.
func queryOwner(owner string) ports.LocateQuery {
	return ports.LocateQuery{Terms: []domain.IndexTerm{{Name: domain.IndexOwner, Key: owner}}}
}
