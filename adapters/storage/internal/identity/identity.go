// Package identity tells kmipd's file-backed storage adapters whether their
// store is still the one they opened: each store has an identity written when
// it is created, and a Guard remembers the database file (device and inode)
// the path named at open and notices when the path stops naming it.
package identity

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/kmipd/kmipd/ports"
)

// New returns a fresh store identity (128 random bits in hex) and its
// creation time, to be written in the store's metadata.
func New() (id string, created time.Time) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("identity: crypto/rand failed: " + err.Error()) // never on Linux
	}
	return hex.EncodeToString(b[:]), time.Now().UTC()
}

// Valid reports whether id looks like an identity New returns.
func Valid(id string) bool {
	b, err := hex.DecodeString(id)
	return err == nil && len(b) == 16
}

// Guard watches one store's database file. Once it has found the path no
// longer naming the file it was opened on, it stays failed: every later
// Verify and Err return the same error wrapping ports.ErrStoreLost.
type Guard struct {
	path string
	file os.FileInfo
	lost atomic.Pointer[error]
}

// NewGuard remembers the file path names now; call it after the adapter has
// opened the file, so that the file remembered is the one it holds open.
func NewGuard(path string) (*Guard, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &Guard{path: path, file: fi}, nil
}

// Err returns the error that failed the guard, or nil; it does not look at
// the file system.
func (g *Guard) Err() error {
	if p := g.lost.Load(); p != nil {
		return *p
	}
	return nil
}

// Verify checks (one stat) that the path still names the file opened, and
// fails the guard if not: the file was removed, renamed away or replaced, or
// cannot be looked at any more. Call it before acknowledging a write.
func (g *Guard) Verify() error {
	if err := g.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(g.path)
	switch {
	case os.IsNotExist(err):
		return g.Fail("the database file was removed")
	case err != nil:
		return g.Fail(fmt.Sprintf("the database file cannot be checked (%v)", err))
	case !os.SameFile(g.file, fi):
		return g.Fail("the database file was replaced by another file")
	}
	return nil
}

// Fail fails the guard for reason (unless it has failed already) and
// returns its error.
func (g *Guard) Fail(reason string) error {
	err := fmt.Errorf("store %s: %w: %s", g.path, ports.ErrStoreLost, reason)
	g.lost.CompareAndSwap(nil, &err)
	return g.Err()
}
