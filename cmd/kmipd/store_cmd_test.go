package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/ports"
)

// TestStorageCreateNever checks storage.create = "never": a missing store
// stops the server with a configuration error naming the key and the
// command that creates one, and creates nothing; kmipd store init creates
// it once and then refuses; a file that is not a store is refused too.
func TestStorageCreateNever(t *testing.T) {
	for _, typ := range []string{"sqlite", "bbolt"} {
		t.Run(typ, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "data", "k.db")
			conf := filepath.Join(dir, "kmipd.toml")
			toml := "[storage]\ntype = \"" + typ + "\"\npath = \"" + db + "\"\ncreate = \"never\"\n"
			if err := os.WriteFile(conf, []byte(toml), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"-dev", "-dev-dir", filepath.Join(dir, "dev"), "-config", conf, "-port", "1"}
			runArgs := func(args ...string) (int, string, string) {
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), args, &stdout, &stderr)
				return code, stdout.String(), stderr.String()
			}
			// The directory is missing, then only the file.
			for range 2 {
				code, _, stderr := runArgs(args...)
				want := `kmipd: config: storage.create: is "never" and there is no store at ` + db +
					`: run "kmipd store init -config ` + conf + `" to create one` + "\n"
				if code != exitConfig || stderr != want {
					t.Fatalf("serve without a store: exit %d, stderr %q; want %d, %q", code, stderr, exitConfig, want)
				}
				if _, err := os.Stat(db); !os.IsNotExist(err) {
					t.Fatalf("serve with storage.create = never left a file at %s: %v", db, err)
				}
				os.MkdirAll(filepath.Dir(db), 0o700)
			}

			code, stdout, stderr := runArgs(append([]string{"store", "init"}, args...)...)
			if code != exitOK || !regexp.MustCompile(`^created store [0-9a-f]{32} \(`+typ+`\) at `+regexp.QuoteMeta(db)+"\n$").MatchString(stdout) {
				t.Fatalf("store init: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			before, _ := os.ReadFile(db)
			code, _, stderr = runArgs(append([]string{"store", "init"}, args...)...)
			if after, _ := os.ReadFile(db); code != exitFailed || !strings.Contains(stderr, "already exists") || !bytes.Equal(before, after) {
				t.Fatalf("second store init: exit %d, stderr %q (file changed: %v)", code, stderr, !bytes.Equal(before, after))
			}

			if err := os.WriteFile(db, bytes.Repeat([]byte("not a store "), 500), 0o600); err != nil {
				t.Fatal(err)
			}
			os.Remove(db + "-wal")
			os.Remove(db + "-shm")
			code, _, stderr = runArgs(args...)
			if code != exitConfig || !strings.Contains(stderr, "storage.path") || !strings.Contains(stderr, "not a kmipd store") {
				t.Fatalf("serve on a foreign file: exit %d, stderr %q", code, stderr)
			}
		})
	}
}

func TestStorageCreateValues(t *testing.T) {
	c, err := load(t, "[storage]\ncreate = \"NEVER\"\n")
	if err != nil || c.Storage.Create != "never" {
		t.Fatalf("create = NEVER: %v, %q", err, c.Storage.Create)
	}
	if c, err := load(t, ""); err != nil || c.Storage.Create != "auto" {
		t.Fatalf("default storage.create: %v, %q", err, c.Storage.Create)
	}
	if _, err := load(t, "[storage]\ncreate = \"sometimes\"\n"); err == nil ||
		!strings.Contains(err.Error(), `config: storage.create: "sometimes" is not auto or never`) {
		t.Fatalf("create = sometimes: %v", err)
	}
}

// checkStore is a store whose health check answers err.
type checkStore struct {
	ports.Store
	mu  sync.Mutex
	err error
}

func (c *checkStore) Check(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *checkStore) set(err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
}

// TestWatchStore checks that a lost store is logged at ERROR at once and
// then every storeLostRepeat, not at every check, and that another failure
// is logged once as a warning.
func TestWatchStore(t *testing.T) {
	defer func(c, r time.Duration) { storeCheckInterval, storeLostRepeat = c, r }(storeCheckInterval, storeLostRepeat)
	storeCheckInterval, storeLostRepeat = 5*time.Millisecond, 100*time.Millisecond
	var buf safeBuffer
	log := zerolog.New(&buf)
	st := &checkStore{}
	stop := watchStore(st, log)
	st.set(errors.New("database is locked"))
	time.Sleep(50 * time.Millisecond)
	st.set(fmt.Errorf("store /x: %w: the database file was removed", ports.ErrStoreLost))
	time.Sleep(450 * time.Millisecond)
	stop()
	out := buf.String()
	if n := strings.Count(out, "checking the store failed"); n != 1 {
		t.Errorf("a lasting check failure logged %d times, want once:\n%s", n, out)
	}
	n := strings.Count(out, `"level":"error"`)
	// 4.5 repeat periods: at once, then about every 100ms; a loaded machine
	// may run the watcher late, never early.
	if n < 2 || n > 6 || strings.Count(out, "STORE LOST") != n || !strings.Contains(out, `"ready":false`) {
		t.Errorf("a lost store logged %d ERROR lines over 4.5 repeat periods, want 2 to 6 STORE LOST lines with ready false:\n%s", n, out)
	}
}

// safeBuffer is a bytes.Buffer safe for the watcher and the test.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
