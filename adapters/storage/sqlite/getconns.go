package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
)

// getQuery reads one object's record.
const getQuery = `SELECT body FROM objects WHERE id = ?`

// getConn is a read-only driver connection with getQuery prepared on it.
// Get runs on these rather than through database/sql, whose pool, statement
// bookkeeping and row scanning (a second copy of the record) cost about as
// much as SQLite's own lookup. Each read is still its own read transaction
// on the file, so it sees every write committed before it, by any process.
type getConn struct {
	conn driver.Conn
	stmt driver.StmtQueryContext
	args []driver.NamedValue // the id, rebound at each read
	dest []driver.Value      // the body
}

// getConns is a fixed number of getConn slots; a nil slot is a connection
// not opened yet. Taking a slot is what bounds concurrent Gets.
type getConns struct {
	dsn   string
	slots chan *getConn
}

func newGetConns(dsn string, n int) *getConns {
	g := &getConns{dsn: dsn, slots: make(chan *getConn, n)}
	for range n {
		g.slots <- nil
	}
	return g
}

// body returns the record of object id, sql.ErrNoRows when there is none;
// drv is the driver that opens connections. ctx bounds the wait for a free
// connection; the query itself runs without ctx (it uses none of its
// values), whose cancellation would make the driver start a goroutine per
// query: point lookups are short.
func (g *getConns) body(ctx context.Context, drv driver.Driver, id string) ([]byte, error) {
	var c *getConn
	select {
	case c = <-g.slots:
	default: // all busy: wait, as long as ctx lets (Done arms its timer)
		select {
		case c = <-g.slots:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if c == nil {
		var err error
		if c, err = openGetConn(drv, g.dsn); err != nil {
			g.slots <- nil
			return nil, err
		}
	}
	defer func() { g.slots <- c }()
	return c.body(context.Background(), id)
}

func openGetConn(drv driver.Driver, dsn string) (*getConn, error) {
	conn, err := drv.Open(dsn)
	if err != nil {
		return nil, err
	}
	st, err := conn.(driver.ConnPrepareContext).PrepareContext(context.Background(), getQuery)
	if err != nil {
		conn.Close()
		return nil, err
	}
	sq, ok := st.(driver.StmtQueryContext)
	if !ok {
		st.Close()
		conn.Close()
		return nil, errors.New("sqlite driver statement without QueryContext")
	}
	return &getConn{conn: conn, stmt: sq, args: []driver.NamedValue{{Ordinal: 1}}, dest: make([]driver.Value, 1)}, nil
}

func (c *getConn) body(ctx context.Context, id string) ([]byte, error) {
	c.args[0].Value = id
	rows, err := c.stmt.QueryContext(ctx, c.args)
	c.args[0].Value = nil
	if err != nil {
		return nil, err
	}
	err = rows.Next(c.dest)
	body, _ := c.dest[0].([]byte)
	c.dest[0] = nil
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	switch {
	case errors.Is(err, io.EOF):
		return nil, sql.ErrNoRows
	case err != nil:
		return nil, err
	}
	return body, nil
}

// close closes the connections; no Get may be running or start.
func (g *getConns) close() error {
	var errs []error
	for range cap(g.slots) {
		if c := <-g.slots; c != nil {
			errs = append(errs, c.stmt.(driver.Stmt).Close(), c.conn.Close())
		}
	}
	return errors.Join(errs...)
}
