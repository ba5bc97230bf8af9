package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kmipd/kmipd/ports"
)

// nameLockConns is the size of the pool of connections that hold Name
// locks, apart from the pool that reads and writes: a request holding a
// Name lock never waits for a connection another lock holder keeps.
const nameLockConns = 4

var _ ports.NameLocks = (*Store)(nil)

// NameSession implements ports.NameLocks with PostgreSQL session advisory
// locks (one per Name Value, keyed by a hash of it), held on one connection
// of a small pool of their own: every node on the database sees them, and
// a node that dies releases its locks with its connections.
func (s *Store) NameSession(context.Context) (ports.NameSession, error) {
	return &nameSession{s: s, held: map[string]bool{}}, nil
}

// nameSession is one operation's hold on Name locks.
type nameSession struct {
	s    *Store
	conn *pgxpool.Conn // acquired at the first Lock
	held map[string]bool
}

// Lock implements ports.NameSession. A wait that ctx ends closes the
// connection (pgx does when a query is cancelled), which frees what the
// session held; the session then holds nothing.
func (n *nameSession) Lock(ctx context.Context, names ...string) error {
	for _, name := range names {
		if n.held[name] {
			continue
		}
		if n.conn == nil {
			c, err := n.s.nameLocks.Acquire(ctx)
			if err != nil {
				return n.s.translate(err)
			}
			n.conn = c
		}
		if _, err := n.conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('kmipd-name:' || $1, 0))`, name); err != nil {
			if n.conn.Conn().IsClosed() {
				n.conn.Release()
				n.conn = nil
				clear(n.held)
			}
			return n.s.translate(err)
		}
		n.held[name] = true
	}
	return nil
}

// Release implements ports.NameSession: the locks are released and the
// connection returned, or closed when the release fails, so that no lock
// outlives the session.
func (n *nameSession) Release() {
	if n.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := n.conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
		n.conn.Conn().Close(ctx)
	}
	n.conn.Release()
	n.conn = nil
	clear(n.held)
}
