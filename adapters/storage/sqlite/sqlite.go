// Package sqlite is the ports.Store adapter on an SQLite database file
// (modernc.org/sqlite, pure Go). The database runs in WAL mode with
// synchronous=FULL, so an acknowledged write survives a crash or power loss;
// one writer goroutine commits concurrent writes together (group commit)
// while reads use a pool of their own connections. Several processes may
// share the file.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kmipd/kmipd/adapters/storage/internal/fsutil"
	"github.com/kmipd/kmipd/adapters/storage/internal/identity"
	"github.com/kmipd/kmipd/adapters/storage/internal/writeq"
	"github.com/kmipd/kmipd/adapters/storage/record"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
)

// SchemaVersion is the database schema version this package reads and writes.
// Version 2 added the used_ids table; Open upgrades a version 1 database.
const SchemaVersion = 2

// ErrNewerSchema reports a database written by a newer kmipd.
var ErrNewerSchema = errors.New("database schema is newer than this kmipd supports")

// Options tunes a Store; the zero value is a good default.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock another process
	// holds before failing with ports.ErrUnavailable; zero means 5s.
	BusyTimeout time.Duration
	// ReadConns is the number of read connections, and again of the
	// connections Get reads with (see getConn); zero means 4.
	ReadConns int
	// MaxBatch caps the write requests committed together; zero means 256.
	MaxBatch int
	// Create says whether Open may create the store; the zero value creates
	// a missing one.
	Create ports.Creation
	// OnCommit, when set, is told how long each commit took and how many
	// writes it held (metrics); it must not block.
	OnCommit func(d time.Duration, writes int)
}

// Store is a ports.Store on one SQLite database file.
type Store struct {
	// onCommit is Options.OnCommit.
	onCommit func(d time.Duration, writes int)
	// uri is the database file URI with its busy timeout, for extra connections (Snapshot).
	uri      string
	path     string
	wdb      *sql.DB // one connection, used only by the writer goroutine
	rdb      *sql.DB // read-only pool
	gets     *getConns
	q        *writeq.Queue[*sql.Tx]
	maxBatch int
	wdone    chan struct{}

	mu     sync.RWMutex // held for reading by reads in flight
	closed bool

	// guard fails once the path stops naming the file opened; info is the
	// identity read or written at Open.
	guard *identity.Guard
	info  ports.StoreInfo
	wal   os.FileInfo // the WAL file at Open, to tell it from another's on Close

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared read queries by text (compiled SQL, no data)

	// scrub is set by a write that removed key material (a Delete, or an
	// Update that dropped the payload) and cleared once a checkpoint has
	// emptied the WAL of it; the writer goroutine's own.
	scrub bool

	wstmts map[string]*sql.Stmt // prepared write statements by text; the writer goroutine's own
	// termInserts[n-1] inserts n index entries; prepared at Open, the writer's own.
	termInserts []*sql.Stmt
}

// maxStmts bounds the prepared queries kept (read and write each); others
// are prepared per call.
const maxStmts = 256

var _ ports.Store = (*Store)(nil)

const schema = `
CREATE TABLE objects (
	id       TEXT PRIMARY KEY,
	revision INTEGER NOT NULL,
	body     BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE terms (
	name TEXT NOT NULL,
	key  TEXT NOT NULL,
	id   TEXT NOT NULL,
	PRIMARY KEY (name, key, id)
) WITHOUT ROWID;
` + usedIDsSchema

// usedIDsSchema keeps the identifiers of deleted objects, which Create
// refuses forever (schema version 2).
const usedIDsSchema = `
CREATE TABLE used_ids (
	id TEXT PRIMARY KEY
) WITHOUT ROWID;
`

// Open opens the store at path, creating the database and its schema when
// missing and opt.Create allows. It refuses (ports.ErrNotAStore) a file that
// is not an SQLite database or holds tables but no kmipd store, and gives a
// store written by a kmipd older than store identities its identity.
func Open(path string, opt Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite store: empty path")
	}
	if opt.BusyTimeout <= 0 {
		opt.BusyTimeout = 5 * time.Second
	}
	if opt.ReadConns <= 0 {
		opt.ReadConns = 4
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 256
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	created, err := prepareFile(abs, opt.Create)
	if err != nil {
		return nil, err
	}
	if err := checkWALOwner(abs, created); err != nil {
		if created {
			os.Remove(abs)
		}
		return nil, err
	}
	// A file: URI with the path escaped, so that '?' or '#' in it are not
	// taken for parameters. mode=rw: no connection ever creates the file
	// (a read connection opened after the file was removed would otherwise
	// start an empty database there).
	base := fileURI(abs) +
		fmt.Sprintf("?mode=rw&_pragma=busy_timeout(%d)", opt.BusyTimeout.Milliseconds())
	s := &Store{path: abs, uri: base, maxBatch: opt.MaxBatch, onCommit: opt.OnCommit, q: writeq.New[*sql.Tx](), wdone: make(chan struct{})}

	// temp_store(MEMORY) keeps the savepoints' sub-journal, which only
	// rolling back one request of a batch reads, in memory: written to a
	// temporary file it was a third of a Create's CPU. Durability rests on
	// the WAL, which synchronous(FULL) syncs at every commit.
	// secure_delete(ON) zeroes the bytes of deleted and rewritten records
	// in the pages written, so that a destroyed key's record does not live
	// on in free space (see scrubWAL for the copies in the WAL).
	s.wdb, err = sql.Open("sqlite", base+"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)&_pragma=secure_delete(ON)&_txlock=immediate")
	if err != nil {
		return nil, s.openErr(err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	if err := s.init(opt.Create); err != nil {
		s.wdb.Close()
		return nil, err
	}
	if s.guard, err = identity.NewGuard(abs); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("sqlite store %s: %w", abs, err)
	}
	s.wal, _ = os.Stat(abs + "-wal")
	if err := writeWALOwner(abs, s.info.ID); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("sqlite store %s: %w", abs, err)
	}
	if err := s.prepareWrites(); err != nil {
		s.wdb.Close()
		return nil, err
	}
	s.rdb, err = sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		s.wdb.Close()
		return nil, s.openErr(err)
	}
	s.rdb.SetMaxOpenConns(opt.ReadConns)
	s.rdb.SetMaxIdleConns(opt.ReadConns)
	if err := s.rdb.Ping(); err != nil {
		s.rdb.Close()
		s.wdb.Close()
		return nil, s.openErr(err)
	}
	s.gets = newGetConns(base+"&_pragma=query_only(1)", opt.ReadConns)
	go s.writer()
	return s, nil
}

// prepareFile makes sure the database file exists before SQLite opens it, as
// create allows: created owner-only, because it holds key material and
// SQLite gives its -wal and -shm files the same mode.
func prepareFile(abs string, create ports.Creation) (created bool, err error) {
	fi, err := os.Lstat(abs)
	switch {
	case err == nil && fi.IsDir():
		return false, fmt.Errorf("sqlite store: %w", &fs.PathError{Op: "open", Path: abs, Err: syscall.EISDIR})
	case err == nil && create == ports.CreationNew:
		return false, fmt.Errorf("sqlite store %s: %w: a file exists there", abs, ports.ErrExists)
	case err == nil:
		return false, nil
	case !os.IsNotExist(err):
		return false, fmt.Errorf("sqlite store %s: %w", abs, err)
	case create == ports.CreationOpenExisting:
		return false, fmt.Errorf("sqlite store %s: %w", abs, ports.ErrNoStore)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) && create == ports.CreationAuto {
		return false, nil // another process created it meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("sqlite store %s: %w", abs, err)
	}
	f.Close()
	if err := fsutil.SyncDir(abs); err != nil {
		return true, fmt.Errorf("sqlite store %s: sync directory: %w", abs, err)
	}
	return true, nil
}

// fileURI is the file: URI of the database at abs, escaped so that '?' or
// '#' in the path are not taken for parameters.
func fileURI(abs string) string { return "file:" + (&url.URL{Path: abs}).EscapedPath() }

// walOwner is the file next to the database naming the store whose WAL
// <path>-wal is: SQLite's WAL says nothing of the database it belongs to.
func walOwner(abs string) string { return abs + "-wal.owner" }

// checkWALOwner refuses a WAL left next to the database by another store,
// which SQLite would apply to this one, mixing the pages of two stores: a
// WAL whose database file is gone (created: Open has just made the file),
// or one whose file was replaced while kmipd ran and kmipd did not close
// cleanly to set the WAL aside. For the latter it compares the owner the
// last open recorded with the identity in the database file itself, read
// without the WAL, and lets the open go on when either is unknown.
func checkWALOwner(abs string, created bool) error {
	if fi, err := os.Stat(abs + "-wal"); err != nil || fi.Size() <= 32 { // a WAL header and no frame
		return nil
	}
	if created {
		return fmt.Errorf("sqlite store %s: %w: a WAL without its database file is at %s-wal: "+
			"move %s-wal and %s-shm aside (they hold the last writes of the store whose file is gone), or put its file back",
			abs, ports.ErrNotAStore, abs, abs, abs)
	}
	owner, err := os.ReadFile(walOwner(abs))
	if err != nil {
		return nil
	}
	id, _ := fileIdentity(abs)
	if id == "" || id == string(owner) {
		return nil
	}
	return fmt.Errorf("sqlite store %s: %w: the WAL next to it, %s-wal, belongs to store %s, not to store %s in the file: "+
		"move %s-wal and %s-shm aside (they hold store %s's last writes) or put that store's file back",
		abs, ports.ErrNotAStore, abs, owner, id, abs, abs, owner)
}

// sqliteHeader starts every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// fileIdentity reads the store identity in the database file at abs itself,
// without its WAL: "" when the file holds none yet (its first pages are
// still only in the WAL) or cannot be read now. foreign reports a file that
// is not an SQLite database at all.
func fileIdentity(abs string) (id string, foreign bool) {
	f, err := os.Open(abs)
	if err != nil {
		return "", false
	}
	head := make([]byte, len(sqliteHeader))
	n, _ := io.ReadFull(f, head)
	f.Close()
	switch {
	case n == 0:
		return "", false
	case n < len(head) || string(head) != sqliteHeader:
		return "", true
	}
	db, err := sql.Open("sqlite", fileURI(abs)+"?mode=ro&immutable=1")
	if err != nil {
		return "", false
	}
	defer db.Close()
	if db.QueryRow(`SELECT value FROM meta WHERE key = 'store_id'`).Scan(&id) != nil {
		return "", false
	}
	return id, false
}

// writeWALOwner records, durably, that the WAL next to the database at abs
// is store id's.
func writeWALOwner(abs, id string) error {
	if b, err := os.ReadFile(walOwner(abs)); err == nil && string(b) == id {
		return nil
	}
	tmp := walOwner(abs) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(id)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, walOwner(abs))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return fsutil.SyncDir(abs)
}

func (s *Store) openErr(err error) error {
	if e := s.translate(err); e != err {
		return e
	}
	return fmt.Errorf("sqlite store %s: open: %w", s.path, err)
}

// metaSchema holds the store's identity (keys store_id and created); it is
// created on every open so that stores written before it gain it.
const metaSchema = `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`

// init checks the journal mode, then creates the schema and identity of an
// empty database (as create allows) or checks an existing store's.
func (s *Store) init(create ports.Creation) error {
	var mode string
	if err := s.wdb.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return s.openErr(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite store %s: journal mode is %q, want WAL", s.path, mode)
	}
	tx, err := s.wdb.Begin()
	if err != nil {
		return s.openErr(err)
	}
	defer tx.Rollback()
	var tables, versioned int
	if err := tx.QueryRow(`SELECT count(*), count(*) FILTER (WHERE name = 'schema_version')
		FROM sqlite_master WHERE type = 'table'`).Scan(&tables, &versioned); err != nil {
		return s.openErr(err)
	}
	switch {
	case tables == 0 && create == ports.CreationOpenExisting:
		return fmt.Errorf("sqlite store %s: %w: the database is empty", s.path, ports.ErrNotAStore)
	case tables == 0:
		err = s.createSchema(tx)
	case versioned == 0:
		return fmt.Errorf("sqlite store %s: %w: the database holds other tables and no kmipd schema", s.path, ports.ErrNotAStore)
	default:
		err = s.checkSchema(tx)
	}
	if err != nil {
		return err
	}
	if _, err := tx.Exec(scratchSchema); err != nil {
		return s.openErr(err)
	}
	if err := tx.Commit(); err != nil {
		return s.openErr(err)
	}
	return nil
}

// createSchema creates the tables and identity of a new store in tx.
func (s *Store) createSchema(tx *sql.Tx) error {
	if _, err := tx.Exec(`CREATE TABLE schema_version (version INTEGER NOT NULL);` + schema + metaSchema); err != nil {
		return s.openErr(err)
	}
	if _, err := tx.Exec(`INSERT INTO schema_version (version) VALUES (?)`, SchemaVersion); err != nil {
		return s.openErr(err)
	}
	s.info.New = true
	return s.writeIdentity(tx)
}

// checkSchema checks an existing store's schema version and reads its
// identity, giving it one if it has none (written by an older kmipd).
func (s *Store) checkSchema(tx *sql.Tx) error {
	var nv sql.NullInt64
	if err := tx.QueryRow(`SELECT max(version) FROM schema_version`).Scan(&nv); err != nil {
		return s.openErr(err)
	}
	switch v := nv.Int64; {
	case !nv.Valid:
		return fmt.Errorf("sqlite store %s: %w: no schema version", s.path, ports.ErrNotAStore)
	case v > SchemaVersion:
		return fmt.Errorf("sqlite store %s: %w: schema version %d, this kmipd supports %d; upgrade kmipd",
			s.path, ErrNewerSchema, v, SchemaVersion)
	case v == 1:
		// Version 1 kept no used identifiers: the ones deleted before the
		// upgrade are unknown, every one from now on is kept.
		if _, err := tx.Exec(usedIDsSchema); err != nil {
			return s.openErr(err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_version (version) VALUES (?)`, SchemaVersion); err != nil {
			return s.openErr(err)
		}
	case v < SchemaVersion:
		return fmt.Errorf("sqlite store %s: unknown schema version %d", s.path, v)
	}
	if _, err := tx.Exec(metaSchema); err != nil {
		return s.openErr(err)
	}
	var id, created sql.NullString
	if err := tx.QueryRow(`SELECT (SELECT value FROM meta WHERE key = 'store_id'),
		(SELECT value FROM meta WHERE key = 'created')`).Scan(&id, &created); err != nil {
		return s.openErr(err)
	}
	if !id.Valid && !created.Valid {
		return s.writeIdentity(tx)
	}
	t, terr := time.Parse(time.RFC3339Nano, created.String)
	if !identity.Valid(id.String) || terr != nil {
		return fmt.Errorf("sqlite store %s: %w: bad store identity %q created %q", s.path, ports.ErrNotAStore, id.String, created.String)
	}
	s.info.ID, s.info.Created = id.String, t
	return nil
}

// writeIdentity gives the store a new identity in tx.
func (s *Store) writeIdentity(tx *sql.Tx) error {
	id, created := identity.New()
	if _, err := tx.Exec(`INSERT OR REPLACE INTO meta (key, value) VALUES ('store_id', ?), ('created', ?)`,
		id, created.Format(time.RFC3339Nano)); err != nil {
		return s.openErr(err)
	}
	s.info.ID, s.info.Created = id, created
	return nil
}

// translate turns a native error into a port error, keeping the detail.
func (s *Store) translate(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ports.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return ports.ErrExists
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return fmt.Errorf("sqlite store %s: %w: %w", s.path, ports.ErrNoSpace, err)
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("sqlite store %s: %w: %w", s.path, ports.ErrNotAStore, err)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
			return fmt.Errorf("sqlite store %s: %w: %w", s.path, ports.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("sqlite store %s: %w", s.path, err)
}

// ctxErr returns ctx's error if it has ended, else the translated err.
func (s *Store) ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return s.translate(err)
}

// writer is the one goroutine that writes: it commits each batch of waiting
// requests in one transaction.
func (s *Store) writer() {
	defer close(s.wdone)
	s.q.ServeObserved(s.maxBatch, s.commit, s.onCommit)
}

// commit runs ops in one transaction and acknowledges them after the
// commit, the database file being checked before and after to be still the
// one opened: a batch committed to a removed or replaced file is answered
// ports.ErrStoreLost, and once lost no batch runs at all. A batch that fails
// for lack of space runs once more after checkpointing the WAL into the
// database and truncating it, which frees the WAL's space.
func (s *Store) commit(ops []*writeq.Op[*sql.Tx]) {
	if err := s.guard.Verify(); err != nil {
		writeq.Fail(ops, err)
		return
	}
	results, commitErr := s.runBatch(ops)
	if noSpace(results, commitErr) {
		s.truncateWAL()
		results, commitErr = s.runBatch(ops)
	}
	if err := s.guard.Verify(); err != nil {
		writeq.Fail(ops, err)
		return
	}
	writeq.Acknowledge(ops, results, commitErr)
}

// runBatch runs ops in one transaction and commits it: first all without
// savepoints, since a savepoint copies every page a request touches to its
// sub-journal (a tenth of a Create's CPU); if one fails, it rolls back and
// runs the batch again, each request inside its own savepoint so that a
// failing one leaves the others intact (writeq.Op.Run may be called again
// after a rollback). It returns each request's result and the commit's.
func (s *Store) runBatch(ops []*writeq.Op[*sql.Tx]) ([]error, error) {
	if results, commitErr, ok := s.commitAll(ops); ok {
		return results, commitErr
	}
	return s.commitEach(ops)
}

// noSpace reports whether a batch failed for lack of space.
func noSpace(results []error, commitErr error) bool {
	if errors.Is(commitErr, ports.ErrNoSpace) {
		return true
	}
	return slices.ContainsFunc(results, func(err error) bool { return errors.Is(err, ports.ErrNoSpace) })
}

// truncateWAL ends any transaction a failed commit left open and copies the
// WAL into the database, truncating it to nothing.
func (s *Store) truncateWAL() {
	s.wdb.Exec(`ROLLBACK`) // fails harmlessly when no transaction is open
	s.wdb.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
}

// commitAll runs ops in one transaction without savepoints and, if every
// one succeeds, commits and reports true with the results; otherwise it
// rolls back and reports false.
func (s *Store) commitAll(ops []*writeq.Op[*sql.Tx]) ([]error, error, bool) {
	tx, err := s.wdb.Begin()
	if err != nil {
		return nil, nil, false
	}
	results := make([]error, len(ops))
	for i, op := range ops {
		if results[i] = op.Run(tx); results[i] != nil {
			tx.Rollback()
			return nil, nil, false
		}
	}
	var commitErr error
	if err := tx.Commit(); err != nil {
		commitErr = s.translate(err)
	} else {
		s.scrubWAL()
	}
	return results, commitErr, true
}

// commitEach runs ops in one transaction, each inside its own savepoint so
// that a failing request leaves the others intact, and commits; it returns
// each request's result and the commit's.
func (s *Store) commitEach(ops []*writeq.Op[*sql.Tx]) ([]error, error) {
	results := make([]error, len(ops))
	fail := func(err error) ([]error, error) {
		for i := range results {
			results[i] = err
		}
		return results, nil
	}
	tx, err := s.wdb.Begin()
	if err != nil {
		return fail(s.translate(err))
	}
	for i, op := range ops {
		if _, err := s.exec(tx, `SAVEPOINT w`); err != nil {
			tx.Rollback()
			return fail(s.translate(err))
		}
		results[i] = op.Run(tx)
		if results[i] != nil {
			if _, err := s.exec(tx, `ROLLBACK TO w`); err != nil {
				tx.Rollback()
				return fail(s.translate(err))
			}
		}
		if _, err := s.exec(tx, `RELEASE w`); err != nil {
			tx.Rollback()
			return fail(s.translate(err))
		}
	}
	var commitErr error
	if err := tx.Commit(); err != nil {
		commitErr = s.translate(err)
	} else {
		s.scrubWAL()
	}
	return results, commitErr
}

// scrubWAL, after a commit that removed key material, copies the WAL into
// the database file and truncates it to zero bytes (a TRUNCATE checkpoint),
// before the writes are acknowledged: the WAL still holds the frames that
// wrote the removed record, and secure_delete only zeroes the database
// pages. A checkpoint that cannot complete (a reader in another process
// still needs old frames after busy_timeout) is tried again after the next
// commit. The truncated file's blocks are freed, not overwritten, on disk.
func (s *Store) scrubWAL() {
	if !s.scrub {
		return
	}
	var busy, logFrames, checkpointed int
	err := s.wdb.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed)
	if err == nil && busy == 0 {
		s.scrub = false
	}
}

// submit runs fn in the writer's batch transaction and waits for the commit.
func (s *Store) submit(ctx context.Context, fn func(tx *sql.Tx) error) error {
	err := s.q.Submit(ctx, fn)
	if errors.Is(err, ports.ErrClosed) {
		return fmt.Errorf("sqlite store %s: %w", s.path, err)
	}
	return err
}

// Create implements ports.Store.
func (s *Store) Create(ctx context.Context, obj *domain.Object) error {
	body, terms, err := record.ForCreate(obj)
	if err != nil {
		return fmt.Errorf("sqlite store: %w", err)
	}
	return s.submit(ctx, func(tx *sql.Tx) error {
		// One statement both refuses an identifier a deleted object used and
		// inserts the object (a separate SELECT cost as much as the insert).
		res, err := s.exec(tx, insertUnusedObject, obj.ID, int64(obj.Revision), body, obj.ID)
		if err != nil {
			if err = s.translate(err); errors.Is(err, ports.ErrExists) {
				return fmt.Errorf("sqlite store: object %q: %w", obj.ID, err)
			}
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return s.translate(err)
		} else if n == 0 {
			return fmt.Errorf("sqlite store: identifier %q was used by a deleted object: %w", obj.ID, ports.ErrExists)
		}
		return s.addTerms(tx, obj.ID, terms)
	})
}

var _ ports.BulkCreator = (*Store)(nil)

// CreateAll implements ports.BulkCreator in one transaction, inserting the
// objects and then the index entries each in key order (so that B-tree
// pages fill in order instead of splitting at random), index entries many
// rows per statement.
func (s *Store) CreateAll(ctx context.Context, objs []*domain.Object) error {
	type objRow struct {
		obj  *domain.Object
		body []byte
	}
	objects := make([]objRow, len(objs))
	// Index entries grouped by term, so that sorting compares names and keys
	// once per distinct term rather than once per entry.
	byTerm := map[record.Term][]string{}
	n := 0
	for i, obj := range objs {
		body, ts, err := record.ForCreate(obj)
		if err != nil {
			return fmt.Errorf("sqlite store: %w", err)
		}
		objects[i] = objRow{obj, body}
		for _, t := range ts {
			byTerm[t] = append(byTerm[t], obj.ID)
		}
		n += len(ts)
	}
	slices.SortFunc(objects, func(a, b objRow) int { return strings.Compare(a.obj.ID, b.obj.ID) })
	terms := make([]record.Term, 0, len(byTerm))
	for t := range byTerm {
		terms = append(terms, t)
	}
	slices.SortFunc(terms, func(a, b record.Term) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Key, b.Key))
	})
	rows := make([]any, 0, 3*n)
	for _, t := range terms {
		ids := byTerm[t]
		slices.Sort(ids)
		for _, id := range ids {
			rows = append(rows, t.Name, t.Key, id)
		}
	}
	return s.submit(ctx, func(tx *sql.Tx) error {
		ins := s.wstmt(tx, `INSERT INTO objects (id, revision, body) VALUES (?, ?, ?)`)
		for _, o := range objects {
			if err := s.checkUnused(tx, o.obj.ID); err != nil {
				return err
			}
			if _, err := ins.Exec(o.obj.ID, int64(o.obj.Revision), o.body); err != nil {
				if err = s.translate(err); errors.Is(err, ports.ErrExists) {
					return fmt.Errorf("sqlite store: object %q: %w", o.obj.ID, err)
				}
				return err
			}
		}
		return s.insertTermRows(tx, rows)
	})
}

// insertTermRows inserts index entries given as name, key, id triples, with
// one prepared statement of termRowsPerInsert rows for the full chunks.
func (s *Store) insertTermRows(tx *sql.Tx, rows []any) error {
	const width = 3 * termRowsPerInsert
	insert := func(n int) string {
		return `INSERT OR IGNORE INTO terms (name, key, id) VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(?, ?, ?),`, n), ",")
	}
	if len(rows) >= width {
		full, err := tx.Prepare(insert(termRowsPerInsert))
		if err != nil {
			return s.translate(err)
		}
		defer full.Close()
		for ; len(rows) >= width; rows = rows[width:] {
			if _, err := full.Exec(rows[:width]...); err != nil {
				return s.translate(err)
			}
		}
	}
	if len(rows) > 0 {
		if _, err := tx.Exec(insert(len(rows)/3), rows...); err != nil {
			return s.translate(err)
		}
	}
	return nil
}

// termRowsPerInsert keeps each multi-row INSERT well under SQLite's limit
// of bound parameters.
const termRowsPerInsert = 200

// addTerms inserts id's index entries with as few statements as it can:
// one multi-row INSERT of up to termsPerStmt rows, prepared at Open, per
// chunk (each statement run through database/sql cost more than the row).
func (s *Store) addTerms(tx *sql.Tx, id string, terms []record.Term) error {
	for len(terms) > 0 {
		n := min(len(terms), termsPerStmt)
		args := make([]any, 0, 3*n)
		for _, t := range terms[:n] {
			args = append(args, t.Name, t.Key, id)
		}
		if _, err := tx.Stmt(s.termInserts[n-1]).Exec(args...); err != nil {
			return s.translate(err)
		}
		terms = terms[n:]
	}
	return nil
}

// termsPerStmt is the widest of the INSERT statements addTerms prepares: an
// object has about 25 index entries.
const termsPerStmt = 48

// insertTerms returns an INSERT of n index entries.
func insertTerms(n int) string {
	return `INSERT OR IGNORE INTO terms (name, key, id) VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?, ?, ?),`, n), ",")
}

func (s *Store) removeTerms(tx *sql.Tx, id string, terms []record.Term) error {
	if len(terms) == 0 {
		return nil
	}
	del := s.wstmt(tx, `DELETE FROM terms WHERE name = ? AND key = ? AND id = ?`)
	for _, t := range terms {
		if _, err := del.Exec(t.Name, t.Key, id); err != nil {
			return s.translate(err)
		}
	}
	return nil
}

// load reads and decodes one object in tx.
func (s *Store) load(tx *sql.Tx, id string) (*domain.Object, error) {
	var body []byte
	if err := s.wstmt(tx, `SELECT body FROM objects WHERE id = ?`).QueryRow(id).Scan(&body); err != nil {
		if err = s.translate(err); errors.Is(err, ports.ErrNotFound) {
			return nil, fmt.Errorf("sqlite store: object %q: %w", id, err)
		}
		return nil, err
	}
	return record.Unmarshal(body)
}

// Update implements ports.Store; fn runs on the writer goroutine.
func (s *Store) Update(ctx context.Context, id string, fn func(obj *domain.Object) error) error {
	return s.submit(ctx, func(tx *sql.Tx) error {
		old, err := s.load(tx, id)
		if err != nil {
			return err
		}
		c, err := record.Apply(old, fn)
		if err != nil {
			return err
		}
		if _, err := s.exec(tx, `UPDATE objects SET revision = ?, body = ? WHERE id = ?`,
			int64(c.Revision), c.Body, id); err != nil {
			return s.translate(err)
		}
		s.scrub = s.scrub || c.Scrub
		if err := s.removeTerms(tx, id, c.Removed); err != nil {
			return err
		}
		return s.addTerms(tx, id, c.Added)
	})
}

// checkUnused returns ErrExists if id belonged to a deleted object.
func (s *Store) checkUnused(tx *sql.Tx, id string) error {
	var one int
	err := s.wstmt(tx, `SELECT 1 FROM used_ids WHERE id = ?`).QueryRow(id).Scan(&one)
	switch {
	case err == nil:
		return fmt.Errorf("sqlite store: identifier %q was used by a deleted object: %w", id, ports.ErrExists)
	case errors.Is(err, sql.ErrNoRows):
		return nil
	}
	return s.translate(err)
}

// Delete implements ports.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.submit(ctx, func(tx *sql.Tx) error {
		old, err := s.load(tx, id)
		if err != nil {
			return err
		}
		return s.remove(tx, id, old)
	})
}

// DeleteIf implements ports.Store: the revision check and the delete run in
// the writer's one transaction.
func (s *Store) DeleteIf(ctx context.Context, id string, revision uint64) error {
	return s.submit(ctx, func(tx *sql.Tx) error {
		old, err := s.load(tx, id)
		if err != nil {
			return err
		}
		if old.Revision != revision {
			return fmt.Errorf("sqlite store: object %q is at revision %d, not %d: %w", id, old.Revision, revision, ports.ErrConflict)
		}
		return s.remove(tx, id, old)
	})
}

// remove deletes object id, stored as old, with its index entries and
// keeps its identifier as used.
func (s *Store) remove(tx *sql.Tx, id string, old *domain.Object) error {
	if _, err := s.exec(tx, `DELETE FROM objects WHERE id = ?`, id); err != nil {
		return s.translate(err)
	}
	s.scrub = true // the deleted row's key bytes must leave the WAL
	if _, err := s.exec(tx, `INSERT OR IGNORE INTO used_ids (id) VALUES (?)`, id); err != nil {
		return s.translate(err)
	}
	return s.removeTerms(tx, id, record.Terms(old))
}

// read runs fn with the read pool unless the store is closed or ctx has ended.
func (s *Store) read(ctx context.Context, fn func() error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("sqlite store %s: %w", s.path, ports.ErrClosed)
	}
	if err := s.guard.Err(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn()
}

// Get implements ports.Store.
func (s *Store) Get(ctx context.Context, id string) (*domain.Object, error) {
	var obj *domain.Object
	err := s.read(ctx, func() error {
		body, err := s.gets.body(ctx, s.rdb.Driver(), id)
		if err != nil {
			if err = s.ctxErr(ctx, err); errors.Is(err, ports.ErrNotFound) {
				return fmt.Errorf("sqlite store: object %q: %w", id, err)
			}
			return err
		}
		obj, err = record.UnmarshalOwned(body) // the driver's own copy
		return err
	})
	return obj, err
}

// Locate implements ports.Store with index lookups only (see locateSQL).
func (s *Store) Locate(ctx context.Context, q ports.LocateQuery) ([]string, error) {
	query, args, ok := locateSQL(q)
	if !ok {
		return nil, s.read(ctx, func() error { return nil })
	}
	var ids []string
	err := s.read(ctx, func() error {
		rows, err := s.query(ctx, query, args)
		if err != nil {
			return s.ctxErr(ctx, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return s.ctxErr(ctx, err)
			}
			ids = append(ids, id)
		}
		return s.ctxErr(ctx, rows.Err())
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// query runs a read query through a prepared statement kept for its text:
// preparing a Locate query costs more than running it. The statements hold
// no data, and SQLite prepares them again itself if the schema changes.
func (s *Store) query(ctx context.Context, query string, args []any) (*sql.Rows, error) {
	s.stmtMu.Lock()
	st, ok := s.stmts[query]
	if !ok && len(s.stmts) < maxStmts {
		var err error
		if st, err = s.rdb.PrepareContext(ctx, query); err != nil {
			s.stmtMu.Unlock()
			return nil, err
		}
		if s.stmts == nil {
			s.stmts = map[string]*sql.Stmt{}
		}
		s.stmts[query] = st
	}
	s.stmtMu.Unlock()
	if st == nil {
		return s.rdb.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is QueryRow through query's prepared statements.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *row {
	rows, err := s.query(ctx, query, args)
	return &row{rows: rows, err: err}
}

// row is what queryRow returns: *sql.Row cannot be made from *sql.Rows.
type row struct {
	rows *sql.Rows
	err  error
}

// Scan is sql.Row.Scan.
func (r *row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}

// writeStmts are the writer's statements, prepared once at Open: compiling a
// statement cost more than running it. They cannot be prepared later: the
// writer's transaction holds the one write connection.
var writeStmts = []string{
	`SAVEPOINT w`, `ROLLBACK TO w`, `RELEASE w`,
	`INSERT INTO objects (id, revision, body) VALUES (?, ?, ?)`,
	`SELECT body FROM objects WHERE id = ?`,
	`UPDATE objects SET revision = ?, body = ? WHERE id = ?`,
	`DELETE FROM objects WHERE id = ?`,
	`DELETE FROM terms WHERE name = ? AND key = ? AND id = ?`,
	`SELECT 1 FROM used_ids WHERE id = ?`,
	`INSERT OR IGNORE INTO used_ids (id) VALUES (?)`,
	insertUnusedObject,
}

// insertUnusedObject inserts an object (id, revision, body) unless a
// deleted object used its id (the fourth parameter, the id again): it then
// changes no row.
const insertUnusedObject = `INSERT INTO objects (id, revision, body) SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM used_ids WHERE id = ?)`

// prepareWrites prepares writeStmts on the write connection.
func (s *Store) prepareWrites() error {
	s.wstmts = make(map[string]*sql.Stmt, len(writeStmts))
	for _, q := range writeStmts {
		st, err := s.wdb.Prepare(q)
		if err != nil {
			return s.openErr(err)
		}
		s.wstmts[q] = st
	}
	s.termInserts = make([]*sql.Stmt, termsPerStmt)
	for i := range s.termInserts {
		st, err := s.wdb.Prepare(insertTerms(i + 1))
		if err != nil {
			return s.openErr(err)
		}
		s.termInserts[i] = st
	}
	return nil
}

// wstmt returns the prepared writeStmts statement query, bound to tx.
func (s *Store) wstmt(tx *sql.Tx, query string) *sql.Stmt {
	st, ok := s.wstmts[query]
	if !ok {
		panic("sqlite store: write statement not prepared: " + query)
	}
	return tx.Stmt(st)
}

// exec runs query in tx, through its prepared statement when it is one of
// writeStmts.
func (s *Store) exec(tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st, ok := s.wstmts[query]; ok {
		return tx.Stmt(st).Exec(args...)
	}
	return tx.Exec(query, args...)
}

// check is one condition on the candidate t0.id with its parameters.
type check struct {
	sql  string
	args []any
}

// locateSQL builds Locate's query, or reports false when an empty group
// makes the answer empty. The query reads, in identifier order, the index
// entries of its driver: the most selective term, else the union of the
// first group's terms (a caller's access terms), else the first broad term,
// else the objects table. It checks each candidate against every other term
// and group by primary-key probes. The checks are correlated scalar
// subqueries, not joins or EXISTS (which SQLite may turn into joins): SQLite
// joins at most 64 tables, and planning a wide join is slow. They are nested
// in a balanced AND so that many terms stay within SQLite's expression depth
// limit.
func locateSQL(q ports.LocateQuery) (string, []any, bool) {
	terms := record.Plan(q.Terms)
	groups := record.PlanAny(q.Any)
	for _, g := range groups {
		if len(g) == 0 {
			return "", nil, false
		}
	}
	var query strings.Builder
	var args []any
	where := true // whether the driver's query has a WHERE clause to extend
	switch {
	case len(groups) > 0 && (len(terms) == 0 || record.Broad(terms[0])):
		query.WriteString(`SELECT t0.id FROM (SELECT DISTINCT id FROM terms WHERE (name, key) IN (` +
			pairs(len(groups[0])) + `) AND id > ?`)
		args = append(termArgs(args, groups[0]), q.After)
		query.WriteString(`) t0`)
		groups, where = groups[1:], false
	case len(terms) > 0:
		query.WriteString(`SELECT t0.id FROM terms t0 WHERE t0.name = ? AND t0.key = ? AND t0.id > ?`)
		args = append(args, terms[0].Name, terms[0].Key, q.After)
		terms = terms[1:]
	default:
		query.WriteString(`SELECT t0.id FROM objects t0 WHERE t0.id > ?`)
		args = append(args, q.After)
	}
	var checks []check
	for _, t := range terms {
		checks = append(checks, check{`(SELECT 1 FROM terms t WHERE t.name = ? AND t.key = ? AND t.id = t0.id) IS NOT NULL`,
			[]any{t.Name, t.Key}})
	}
	for _, g := range groups {
		checks = append(checks, check{`(SELECT 1 FROM terms t WHERE (t.name, t.key) IN (` + pairs(len(g)) +
			`) AND t.id = t0.id LIMIT 1) IS NOT NULL`, termArgs(nil, g)})
	}
	if len(checks) > 0 {
		if where {
			query.WriteString(` AND `)
		} else {
			query.WriteString(` WHERE `)
		}
		args = allOf(&query, args, checks)
	}
	query.WriteString(` ORDER BY 1 LIMIT ?`)
	if q.Limit > 0 {
		args = append(args, q.Limit)
	} else {
		args = append(args, -1)
	}
	return query.String(), args, true
}

// pairs returns a VALUES list of n parameter pairs; SQLite answers
// (name, key) IN (VALUES ...) by one primary-key probe per pair.
func pairs(n int) string {
	return "VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", ")
}

// termArgs appends the terms' names and keys to args, as pairs expects them.
func termArgs(args []any, terms []record.Term) []any {
	for _, t := range terms {
		args = append(args, t.Name, t.Key)
	}
	return args
}

// allOf writes the conjunction of checks as a balanced tree of ANDs and
// returns args with their parameters.
func allOf(query *strings.Builder, args []any, checks []check) []any {
	if len(checks) == 1 {
		query.WriteString(checks[0].sql)
		return append(args, checks[0].args...)
	}
	query.WriteByte('(')
	args = allOf(query, args, checks[:len(checks)/2])
	query.WriteString(` AND `)
	args = allOf(query, args, checks[len(checks)/2:])
	query.WriteByte(')')
	return args
}

// Close stops the writer after its current batch, waits for reads in flight
// and closes the database; later calls return ports.ErrClosed. Closing a
// lost store returns its ports.ErrStoreLost error.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("sqlite store %s: %w", s.path, ports.ErrClosed)
	}
	s.closed = true
	s.mu.Unlock()
	s.q.Close()
	<-s.wdone
	for _, st := range s.wstmts {
		st.Close()
	}
	for _, st := range s.termInserts {
		st.Close()
	}
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	if err := errors.Join(s.gets.close(), s.rdb.Close(), s.wdb.Close()); err != nil {
		return fmt.Errorf("sqlite store %s: close: %w", s.path, err)
	}
	if lost := s.guard.Err(); lost != nil {
		return s.setWALAside(lost)
	}
	return nil
}

// setWALAside runs when a lost store closes. SQLite leaves the WAL of a
// database file that was moved or removed where it was, next to the path:
// if another database now sits at the path, SQLite would apply the lost
// store's WAL to it when it is next opened, mixing the pages of two
// stores. So when the path names another file and the WAL there is this
// store's, the WAL and its index are renamed aside (the acknowledged writes
// they hold are kept for an operator). It returns lost, with what it did.
func (s *Store) setWALAside(lost error) error {
	if _, err := os.Stat(s.path); err != nil {
		return lost // nothing at the path: the WAL waits for its file to come back
	}
	wal, err := os.Stat(s.path + "-wal")
	if err != nil || s.wal == nil || !os.SameFile(wal, s.wal) {
		return lost
	}
	aside := fmt.Sprintf("%s-wal.lost-%s", s.path, s.info.ID)
	if err := os.Rename(s.path+"-wal", aside); err != nil {
		return fmt.Errorf("%w; its WAL could not be set aside, and would be applied to the database now at the path: %w", lost, err)
	}
	os.Remove(s.path + "-shm")
	return fmt.Errorf("%w; its WAL, with the writes acknowledged before the loss, was moved to %s", lost, aside)
}

var (
	_ ports.HealthChecker = (*Store)(nil)
	_ ports.Describer     = (*Store)(nil)
)

// Check implements ports.HealthChecker: the path must still name the file
// opened, and both the database file itself and the database as SQLite
// sees it (with its WAL) must still hold this store's identity (a file
// copied over it in place keeps its inode but not the identity).
func (s *Store) Check(ctx context.Context) error {
	if err := s.guard.Verify(); err != nil {
		return err
	}
	if reason := s.overwritten(); reason != "" {
		// Read again, so that a page caught while a checkpoint writes it
		// cannot fail the store.
		time.Sleep(50 * time.Millisecond)
		if reason = s.overwritten(); reason != "" {
			return s.guard.Fail(reason)
		}
	}
	var id string
	err := s.read(ctx, func() error {
		return s.queryRow(ctx, `SELECT value FROM meta WHERE key = 'store_id'`).Scan(&id)
	})
	var se *sqlite.Error
	switch {
	case errors.Is(err, sql.ErrNoRows), errors.As(err, &se) && se.Code() == sqlite3.SQLITE_ERROR:
		return s.guard.Fail("the database holds no store identity any more")
	case err != nil:
		return s.ctxErr(ctx, err)
	case id != s.info.ID:
		return s.guard.Fail(fmt.Sprintf("the database holds another store (%s)", id))
	}
	return nil
}

// overwritten says how the database file was overwritten in place, or ""
// if it still is this store's (or holds no identity yet).
func (s *Store) overwritten() string {
	switch id, foreign := fileIdentity(s.path); {
	case foreign:
		return "the database file was overwritten by something that is not an SQLite database"
	case id != "" && id != s.info.ID:
		return fmt.Sprintf("the database file was overwritten by another store (%s)", id)
	}
	return ""
}

// Info implements ports.Describer.
func (s *Store) Info(ctx context.Context) (ports.StoreInfo, error) {
	info := s.info
	err := s.read(ctx, func() error {
		return s.queryRow(ctx, `SELECT count(*) FROM objects`).Scan(&info.Objects)
	})
	if err != nil {
		return ports.StoreInfo{}, s.ctxErr(ctx, err)
	}
	return info, nil
}
