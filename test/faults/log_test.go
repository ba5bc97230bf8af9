package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory, unmounted
// when the test ends, or skips the test when it cannot.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "logfs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file in dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 512)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v", dir, err)
			}
			return path
		}
	}
}

// With the log on a full disk, kmipd goes on serving; the log file keeps
// only whole lines, stderr gets one line for the whole run of failures, and
// once there is room again the log says how many events were dropped.
func TestLogOnFullDisk(t *testing.T) {
	dir := mountTmpfs(t, 256<<10)
	logPath := filepath.Join(dir, "kmipd.log")
	srv := harness.Start(t, harness.Options{Args: []string{"-log-path", logPath}})
	filler := fill(t, dir)
	for range 20 { // each connection logs its opening and closing at DEBUG
		c := srv.Dial(t, "alice", 1, 4)
		harness.Call(t, c, kmip.OperationQuery)
		c.Close()
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	c := srv.Dial(t, "alice", 1, 4)
	harness.Call(t, c, kmip.OperationQuery)
	c.Close()
	srv.Stop(t)

	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		t.Fatalf("the log ends in a partial line: %q", data[bytes.LastIndexByte(data, '\n')+1:])
	}
	dropped := 0.0
	for _, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if n, ok := m["dropped_events"].(float64); ok {
			dropped += n
		}
	}
	if dropped < 20 {
		t.Errorf("the log reports %v dropped events, want at least 20 (two a connection)", dropped)
	}
	stderr, err := os.ReadFile(filepath.Join(srv.Dir, "stderr.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(stderr), "cannot be written"); n != 1 {
		t.Errorf("stderr reports the log failure %d times, want once:\n%s", n, stderr)
	}
}
