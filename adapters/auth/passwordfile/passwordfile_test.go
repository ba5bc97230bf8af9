package passwordfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/kmipd/kmipd/ports"
)

func hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// write replaces path with content at once (a rename), so that the poller
// never reads it half written: with a 10ms poll interval a busy machine
// could otherwise read the truncated file twice in a row.
func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwords")
	// htpasswd -B writes $2y$; Go writes $2a$.
	y := "$2y$" + strings.TrimPrefix(hash(t, "bob-pw"), "$2a$")
	write(t, path, "# users\n\nalice:"+hash(t, "alice-pw")+"\nbob:"+y+"\n")
	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Users() != 2 {
		t.Fatalf("users = %d, want 2", f.Users())
	}
	ctx := context.Background()
	for range 2 { // the second time from the cache
		if err := f.Verify(ctx, "alice", "alice-pw"); err != nil {
			t.Fatalf("alice: %v", err)
		}
	}
	if err := f.Verify(ctx, "bob", "bob-pw"); err != nil {
		t.Fatalf("bob ($2y$): %v", err)
	}
	for _, c := range [][2]string{{"alice", "bob-pw"}, {"alice", ""}, {"carol", "alice-pw"}, {"", ""}, {"alice", "alice-pw\x00"}} {
		err := f.Verify(ctx, c[0], c[1])
		if !errors.Is(err, ports.ErrBadCredential) {
			t.Errorf("Verify(%q, %q) = %v, want ErrBadCredential", c[0], c[1], err)
		}
		if err != nil && c[1] != "" && strings.Contains(err.Error(), c[1]) {
			t.Errorf("error %q shows the password", err)
		}
	}
}

func TestMalformedFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwords")
	good := hash(t, "pw")
	for name, content := range map[string]string{
		"no colon":     "alice\n",
		"empty user":   ":" + good + "\n",
		"not bcrypt":   "alice:$apr1$abc$defghijklmnopqrstuvwx\n",
		"plain text":   "alice:secretpassword\n",
		"twice":        "alice:" + good + "\nalice:" + good + "\n",
		"short bcrypt": "alice:$2a$10$abc\n",
	} {
		write(t, path, content)
		_, err := Open(path, Options{})
		if err == nil {
			t.Errorf("%s: opened", name)
			continue
		}
		if strings.Contains(err.Error(), "secretpassword") || strings.Contains(err.Error(), good) {
			t.Errorf("%s: error %q shows the file's secret", name, err)
		}
		if !strings.Contains(err.Error(), "line ") {
			t.Errorf("%s: error %q does not name the line", name, err)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing"), Options{}); err == nil {
		t.Error("a missing file opened")
	}
}

// TestReload: a changed file is put in force by Run, which forgets the
// remembered verifications; a broken file keeps the one in force.
func TestReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwords")
	write(t, path, "alice:"+hash(t, "old")+"\n")
	f, err := Open(path, Options{PollInterval: 10 * time.Millisecond, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := f.Verify(ctx, "alice", "old"); err != nil {
		t.Fatal(err)
	}
	write(t, path, "alice:"+hash(t, "new")+"\n")
	waitFor(t, func() bool { return f.Verify(ctx, "alice", "new") == nil })
	if err := f.Verify(ctx, "alice", "old"); !errors.Is(err, ports.ErrBadCredential) {
		t.Fatalf("old password after the change: %v", err)
	}
	write(t, path, "alice:broken\n")
	if _, err := f.Reload(); err == nil {
		t.Fatal("a broken file reloaded")
	}
	if err := f.Verify(ctx, "alice", "new"); err != nil {
		t.Fatalf("a broken file dropped the one in force: %v", err)
	}
	write(t, path, "")
	waitFor(t, func() bool { return f.Users() == 0 })
	if err := f.Verify(ctx, "alice", "new"); !errors.Is(err, ports.ErrBadCredential) {
		t.Fatalf("removed user still verifies: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestVerifyBounded: with every comparison slot taken, a check waits and
// gives up with ErrUnavailable when its context ends, while a remembered
// success needs no slot.
func TestVerifyBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwords")
	write(t, path, "alice:"+hash(t, "pw")+"\n")
	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(context.Background(), "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	for range cap(f.slots) {
		f.slots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := f.Verify(ctx, "alice", "wrong"); !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("all slots taken: %v, want ErrUnavailable", err)
	}
	if err := f.Verify(ctx, "alice", "pw"); err != nil {
		t.Errorf("a remembered success waited for a slot: %v", err)
	}
}
