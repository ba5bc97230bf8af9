package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmipd/kmipd/ports"
)

func rec(i int) ports.AuditRecord {
	return ports.AuditRecord{Time: time.Date(2026, 12, 7, 12, 0, i, 0, time.UTC), Event: ports.AuditResult,
		Request: fmt.Sprintf("req%d", i), Client: "alice", Groups: []string{"ops"}, Address: "192.0.2.1:5000",
		Version: "2.1", Operation: "Get", UIDs: []string{"k1"}, Keys: []string{"k1"}, Status: "Success"}
}

func open(t *testing.T, path string, opt Options) *Writer {
	t.Helper()
	w, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func write(t *testing.T, w *Writer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := w.Record(context.Background(), rec(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func verifyOK(t *testing.T, want int, key []byte, files ...string) {
	t.Helper()
	n, err := Verify(files, key)
	if err != nil || n != want {
		t.Fatalf("Verify(%v) = %d, %v; want %d records and no error", files, n, err, want)
	}
}

// verifyBad expects Verify to name line of file.
func verifyBad(t *testing.T, file string, line int, key []byte, files ...string) {
	t.Helper()
	_, err := Verify(files, key)
	var p *Problem
	if !errors.As(err, &p) || p.File != file || p.Line != line {
		t.Fatalf("Verify(%v) = %v; want a problem at %s:%d", files, err, file, line)
	}
}

func TestChainVerifiesAndIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := open(t, path, Options{})
	write(t, w, 0, 5)
	verifyOK(t, 5, nil, path)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, path)), "\n")
	if !strings.HasPrefix(lines[0], `{"time":"2026-12-07T12:00:00Z","event":"result","req":"req0","item":0,"client":"alice","groups":["ops"]`) ||
		!strings.Contains(lines[0], `"prev":"","hash":"`) || !strings.Contains(lines[1], `"prev":"`+lines[0][len(lines[0])-66:len(lines[0])-2]+`"`) {
		t.Fatalf("lines not chained as documented:\n%s\n%s", lines[0], lines[1])
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVerifyFindsTampering(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	w := open(t, path, Options{})
	write(t, w, 0, 5)
	good := []byte(readFile(t, path))
	lines := bytes.SplitAfter(good, []byte("\n"))[:5]
	tampered := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A changed byte anywhere in line 3: its content, its prev, its hash.
	start := len(lines[0]) + len(lines[1])
	for _, off := range []int{10, 60, len(lines[2]) - 100, len(lines[2]) - 10} {
		b := bytes.Clone(good)
		b[start+off] ^= 0x01
		verifyBad(t, tampered("flip", b), 3, nil, filepath.Join(dir, "flip"))
	}
	removed := bytes.Join([][]byte{lines[0], lines[1], lines[3], lines[4]}, nil)
	verifyBad(t, tampered("removed", removed), 3, nil, filepath.Join(dir, "removed"))
	swapped := bytes.Join([][]byte{lines[0], lines[2], lines[1], lines[3], lines[4]}, nil)
	verifyBad(t, tampered("swapped", swapped), 2, nil, filepath.Join(dir, "swapped"))
	torn := good[:len(good)-5]
	verifyBad(t, tampered("torn", torn), 5, nil, filepath.Join(dir, "torn"))
	junk := append(bytes.Clone(good), "hello\n"...)
	verifyBad(t, tampered("junk", junk), 6, nil, filepath.Join(dir, "junk"))
}

func TestHMACChainNeedsTheKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	key := bytes.Repeat([]byte{7}, 32)
	w := open(t, path, Options{Key: key})
	write(t, w, 0, 3)
	verifyOK(t, 3, key, path)
	if !strings.Contains(readFile(t, path), `,"mac":"`) {
		t.Fatal("an HMAC-chained record has no mac field")
	}
	verifyBad(t, path, 1, nil, path)
	verifyBad(t, path, 1, bytes.Repeat([]byte{8}, 32), path)
}

func TestRotationContinuesTheChain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	w := open(t, path, Options{})
	write(t, w, 0, 3)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write(t, w, 3, 4) // before the reopen: still the moved file
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	write(t, w, 4, 6)
	verifyOK(t, 4, nil, path+".1")
	verifyOK(t, 6, nil, path+".1", path)
	verifyBad(t, path+".1", 1, nil, path, path+".1")

	// A restart continues the chain from the file's last record.
	w.Close()
	w2 := open(t, path, Options{})
	write(t, w2, 6, 8)
	verifyOK(t, 8, nil, path+".1", path)
}

func TestUnwritablePathFailsUntilItIsBack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	var failed atomic.Int64
	w := open(t, path, Options{Failed: func() { failed.Add(1) }})
	write(t, w, 0, 2)
	os.Rename(path, path+".1")
	if err := os.Mkdir(path, 0o700); err != nil { // the path is not a file any more
		t.Fatal(err)
	}
	if err := w.Reopen(); err == nil {
		t.Fatal("Reopen onto a directory succeeded")
	}
	if err := w.Record(context.Background(), rec(2)); err == nil || failed.Load() != 1 {
		t.Fatalf("Record = %v, %d failures counted; want an error, counted", err, failed.Load())
	}
	os.Remove(path)
	write(t, w, 3, 4) // the path is retried with each record
	verifyOK(t, 3, nil, path+".1", path)
}

func TestFailedWriteLeavesNoPartialRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := open(t, path, Options{})
	write(t, w, 0, 2)
	before := readFile(t, path)
	w.mu.Lock()
	w.f.Close() // the next write fails
	w.mu.Unlock()
	if err := w.Record(context.Background(), rec(2)); err == nil {
		t.Fatal("a write to a closed file succeeded")
	}
	if readFile(t, path) != before {
		t.Fatal("a failed record left bytes in the file")
	}
}

func TestRecordAfterCloseFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := open(t, path, Options{})
	write(t, w, 0, 1)
	w.Close()
	if err := w.Record(context.Background(), rec(1)); err == nil {
		t.Fatal("a record after Close was written")
	}
	verifyOK(t, 1, nil, path)
}

func TestTornTailIsReportedAndSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := open(t, path, Options{})
	write(t, w, 0, 2)
	w.Close()
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"time":"2026`) // a crash mid-write
	f.Close()
	w2 := open(t, path, Options{})
	write(t, w2, 2, 3)
	verifyBad(t, path, 3, nil, path)
	lines := strings.Split(strings.TrimSpace(readFile(t, path)), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want the torn one on its own line", len(lines))
	}
	// The record after the torn line chains to the record before it.
	os.WriteFile(path, []byte(lines[0]+"\n"+lines[1]+"\n"+lines[3]+"\n"), 0o600)
	verifyOK(t, 3, nil, path)
}

func TestConcurrentRecordsChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := open(t, path, Options{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				if err := w.Record(context.Background(), rec(g*100+i)); err != nil {
					t.Error(err)
				}
				if i == 20 && g == 0 {
					if err := w.Reopen(); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	verifyOK(t, 320, nil, path)
}

// BenchmarkRecord measures one record with its fsync, alone and with
// concurrent writers sharing fsyncs.
func BenchmarkRecord(b *testing.B) {
	w, err := Open(filepath.Join(b.TempDir(), "audit.log"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.Run("serial", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			w.Record(context.Background(), rec(i))
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				w.Record(context.Background(), rec(1))
			}
		})
	})
}
