// Package passwordfile verifies request credentials against a file of
// bcrypt password hashes, one "user:hash" line per user (the format of
// `htpasswd -B`), reloaded when its content changes.
package passwordfile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/kmipd/kmipd/ports"
)

// Defaults and caps.
const (
	// DefaultPollInterval is how often the file is read for changes.
	DefaultPollInterval = time.Second
	// MaxFileSize caps the bytes read from the file.
	MaxFileSize = 16 << 20
	// maxCached bounds the remembered successful verifications; the cache is
	// emptied when it is full.
	maxCached = 4096
)

// Options configures a File; every zero field takes its default.
type Options struct {
	// PollInterval is how often Run reads the file for changes (zero:
	// DefaultPollInterval).
	PollInterval time.Duration
	// Log receives reloads and reload failures (never a hash or a password).
	Log zerolog.Logger
}

// File is a password file in force. It is safe for concurrent use.
type File struct {
	path     string
	interval time.Duration
	log      zerolog.Logger
	// dummy is a hash compared against for unknown users, so that they take
	// as long to refuse as a wrong password.
	dummy []byte
	// cacheKey keys the HMAC under which successful verifications are
	// remembered; neither it nor a password leaves the process.
	cacheKey [32]byte
	// slots bounds the bcrypt comparisons running at once, so that clients
	// sending wrong passwords cannot take every core from the others.
	slots chan struct{}

	mu     sync.RWMutex
	hashes map[string][]byte
	digest [32]byte // of the content in force
	ok     map[[32]byte]bool
}

var _ ports.CredentialVerifier = (*File)(nil)

// Open reads the password file; an unreadable or malformed file is an error
// naming the line, never its hash.
func Open(path string, o Options) (*File, error) {
	f := &File{path: path, interval: o.PollInterval, log: o.Log,
		slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))}
	if f.interval <= 0 {
		f.interval = DefaultPollInterval
	}
	if _, err := rand.Read(f.cacheKey[:]); err != nil {
		return nil, err
	}
	if _, err := f.Reload(); err != nil {
		return nil, err
	}
	var pw [16]byte
	if _, err := rand.Read(pw[:]); err != nil {
		return nil, err
	}
	dummy, err := bcrypt.GenerateFromPassword(pw[:], bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	f.dummy = dummy
	return f, nil
}

// Check reads and parses the password file at path as Open does, without
// putting it in force: a configuration check.
func Check(path string) error {
	data, err := readCapped(path)
	if err != nil {
		return err
	}
	if _, err := parse(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Users returns how many users the file in force names.
func (f *File) Users() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.hashes)
}

// Verify checks password against user's bcrypt hash in constant time; an
// unknown user costs one bcrypt comparison too. A successful check is
// remembered (as an HMAC of user and password under a per-process key) until
// the file changes, so that a client sending its credential with every
// request pays bcrypt's cost once. At most half the CPUs (at least one)
// compare at once; a check that cannot start before ctx ends returns an
// error wrapping ports.ErrUnavailable.
func (f *File) Verify(ctx context.Context, user, password string) error {
	mac := hmac.New(sha256.New, f.cacheKey[:])
	mac.Write([]byte(user))
	mac.Write([]byte{0})
	mac.Write([]byte(password))
	var key [32]byte
	mac.Sum(key[:0])
	f.mu.RLock()
	hash, known := f.hashes[user]
	cached := f.ok[key]
	f.mu.RUnlock()
	if known && cached {
		return nil
	}
	if !known {
		hash = f.dummy
	}
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	case <-ctx.Done():
		return fmt.Errorf("password check for user %q not started: %w: %w", user, ports.ErrUnavailable, ctx.Err())
	}
	if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil || !known {
		return fmt.Errorf("user %q: %w", user, ports.ErrBadCredential)
	}
	f.mu.Lock()
	if bytes.Equal(f.hashes[user], hash) { // not replaced meanwhile
		if len(f.ok) >= maxCached {
			f.ok = map[[32]byte]bool{}
		}
		f.ok[key] = true
	}
	f.mu.Unlock()
	return nil
}

// Reload reads the file and puts it in force when its content changed;
// changed is false when it had not. A file that cannot be read or parsed
// leaves the one in force and returns the error.
func (f *File) Reload() (changed bool, err error) {
	return f.reload(nil)
}

// reload is Reload, except that with a non-nil stable a changed content is
// put in force only when it equals *stable, the content the previous poll
// read; *stable is set to the content read now. So a file caught half
// written (truncated, say) does not revoke every user.
func (f *File) reload(stable *[32]byte) (changed bool, err error) {
	data, err := readCapped(f.path)
	if err != nil {
		return false, err
	}
	digest := sha256.Sum256(data)
	f.mu.RLock()
	same := f.hashes != nil && digest == f.digest
	f.mu.RUnlock()
	if same {
		return false, nil
	}
	if stable != nil {
		settled := digest == *stable
		*stable = digest
		if !settled {
			return false, nil
		}
	}
	hashes, err := parse(data)
	if err != nil {
		return false, fmt.Errorf("%s: %w", f.path, err)
	}
	f.mu.Lock()
	f.hashes, f.digest, f.ok = hashes, digest, map[[32]byte]bool{}
	f.mu.Unlock()
	return true, nil
}

// Run reads the file every poll interval until ctx ends, putting a changed
// content in force once two reads in a row agree on it; a file that no
// longer loads is logged at ERROR and the one in force kept.
func (f *File) Run(ctx context.Context) {
	t := time.NewTicker(f.interval)
	defer t.Stop()
	var failing string
	var stable [32]byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := f.reload(&stable)
		switch {
		case err != nil && err.Error() != failing:
			failing = err.Error()
			f.log.Error().Err(err).Msg("password file not reloaded; the previous one stays in force")
		case err == nil && changed:
			failing = ""
			f.log.Info().Str("password_file", f.path).Int("users", f.Users()).Msg("password file reloaded")
		case err == nil:
			failing = ""
		}
	}
}

// readCapped reads at most MaxFileSize bytes of path, refusing a larger file.
func readCapped(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxFileSize)
	}
	return data, nil
}

// parse reads "user:hash" lines; blank lines and lines starting with # are
// skipped. Every hash must be a bcrypt hash ($2a$, $2b$ or $2y$) and no user
// may appear twice.
func parse(data []byte) (map[string][]byte, error) {
	hashes := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxFileSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		switch {
		case !ok || user == "":
			return nil, fmt.Errorf("line %d: not user:bcrypt-hash", n)
		case hashes[user] != nil:
			return nil, fmt.Errorf("line %d: user %q appears twice", n, user)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil || !strings.HasPrefix(hash, "$2") {
			return nil, fmt.Errorf("line %d: user %q: not a bcrypt hash", n, user)
		}
		hashes[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return hashes, nil
}
