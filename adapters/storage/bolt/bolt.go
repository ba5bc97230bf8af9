// Package bolt is the ports.Store adapter on a bbolt file
// (go.etcd.io/bbolt): bucket "objects" maps identifiers to records, bucket
// "terms" holds one empty-valued key per index entry so that Locate
// intersects prefix scans, bucket "used_ids" keeps the identifiers of
// deleted objects so that none is reused. Every commit is fsynced; one writer goroutine
// commits concurrent writes together (group commit). Only one process can
// open the file at a time.
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/kmipd/kmipd/adapters/storage/internal/fsutil"
	"github.com/kmipd/kmipd/adapters/storage/internal/identity"
	"github.com/kmipd/kmipd/adapters/storage/internal/writeq"
	"github.com/kmipd/kmipd/adapters/storage/record"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
)

// SchemaVersion is the file layout version this package reads and writes.
// Version 2 added the used_ids bucket; Open upgrades a version 1 file.
const SchemaVersion = 2

// ErrNewerSchema reports a file written by a newer kmipd.
var ErrNewerSchema = errors.New("database schema is newer than this kmipd supports")

var (
	bucketMeta    = []byte("meta")
	bucketObjects = []byte("objects")
	bucketTerms   = []byte("terms")
	// bucketUsed holds the identifiers of deleted objects, which Create
	// refuses forever, as keys with empty values.
	bucketUsed = []byte("used_ids")
	keyVersion = []byte("schema_version")
	keyStoreID = []byte("store_id")
	keyCreated = []byte("created")
)

// Options tunes a Store; the zero value is a good default.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the
	// file before failing with ports.ErrUnavailable; zero means 1s.
	LockTimeout time.Duration
	// MaxBatch caps the write requests committed together; zero means 256.
	MaxBatch int
	// Create says whether Open may create the store; the zero value creates
	// a missing one.
	Create ports.Creation
	// OnCommit, when set, is told how long each commit took and how many
	// writes it held (metrics); it must not block.
	OnCommit func(d time.Duration, writes int)
}

// Store is a ports.Store on one bbolt file.
type Store struct {
	// onCommit is Options.OnCommit.
	onCommit func(d time.Duration, writes int)
	path     string
	db       *bbolt.DB
	q        *writeq.Queue[*bbolt.Tx]
	maxBatch int
	wdone    chan struct{}

	mu     sync.RWMutex // held for reading by reads in flight
	closed bool

	// scrub is set by a write that removed key material (a Delete, or an
	// Update that dropped the payload) and cleared once scrubFreePages has
	// zeroed the pages that held it; the writer goroutine's own.
	scrub bool

	// guard fails once the path stops naming the file opened; info is the
	// identity read or written at Open.
	guard *identity.Guard
	info  ports.StoreInfo
}

var _ ports.Store = (*Store)(nil)

// Open opens the store at path, creating the file when missing and
// opt.Create allows. It refuses (ports.ErrNotAStore) a file that is not a
// bbolt file or holds buckets but no kmipd store, and gives a store written
// by a kmipd older than store identities its identity.
func Open(path string, opt Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("bolt store: empty path")
	}
	if opt.LockTimeout <= 0 {
		opt.LockTimeout = time.Second
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 256
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("bolt store %s: %w", path, err)
	}
	if err := checkCreation(abs, opt.Create); err != nil {
		return nil, err
	}
	db, err := bbolt.Open(abs, 0o600, &bbolt.Options{Timeout: opt.LockTimeout, NoSync: false})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt store %s: %w: file is locked by another process (waited %s)",
			abs, ports.ErrUnavailable, opt.LockTimeout)
	}
	if errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrVersionMismatch) || errors.Is(err, bolterrors.ErrChecksum) {
		return nil, fmt.Errorf("bolt store %s: %w: %w", abs, ports.ErrNotAStore, err)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt store %s: open: %w", abs, err)
	}
	if err := fsutil.SyncDir(abs); err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt store %s: sync directory: %w", abs, err)
	}
	s := &Store{path: abs, db: db, q: writeq.New[*bbolt.Tx](), maxBatch: opt.MaxBatch, onCommit: opt.OnCommit, wdone: make(chan struct{})}
	if err := db.Update(func(tx *bbolt.Tx) error { return s.init(tx, opt.Create) }); err != nil {
		db.Close()
		return nil, err
	}
	if s.guard, err = identity.NewGuard(abs); err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt store %s: %w", abs, err)
	}
	go s.writer()
	return s, nil
}

// checkCreation refuses, before bbolt creates anything, what create forbids:
// creating a missing store, or creating over an existing file.
func checkCreation(abs string, create ports.Creation) error {
	fi, err := os.Lstat(abs)
	switch {
	case err == nil && create == ports.CreationNew:
		return fmt.Errorf("bolt store %s: %w: a file exists there", abs, ports.ErrExists)
	case err == nil && fi.Size() > 0:
		return checkMagic(abs)
	case err == nil:
		return nil
	case !os.IsNotExist(err):
		return fmt.Errorf("bolt store %s: %w", abs, err)
	case create == ports.CreationOpenExisting:
		return fmt.Errorf("bolt store %s: %w", abs, ports.ErrNoStore)
	}
	return nil
}

// boltMagic is the number at offset 16 of a bbolt file's first page, in the
// byte order of the machine that wrote it.
const boltMagic = 0xED0CDAED

// checkMagic refuses, before bbolt reads it, a file that is not a bbolt file.
func checkMagic(abs string) error {
	f, err := os.Open(abs)
	if err != nil {
		return fmt.Errorf("bolt store %s: %w", abs, err)
	}
	defer f.Close()
	var head [20]byte
	if _, err := f.ReadAt(head[:], 0); err != nil || (binary.LittleEndian.Uint32(head[16:]) != boltMagic &&
		binary.BigEndian.Uint32(head[16:]) != boltMagic) {
		return fmt.Errorf("bolt store %s: %w: not a bbolt file", abs, ports.ErrNotAStore)
	}
	return nil
}

// init creates the buckets, schema version and identity of an empty file
// (as create allows), or checks an existing store's and gives it an
// identity if it has none.
func (s *Store) init(tx *bbolt.Tx, create ports.Creation) error {
	empty := tx.ForEach(func([]byte, *bbolt.Bucket) error { return errors.New("not empty") }) == nil
	meta := tx.Bucket(bucketMeta)
	switch {
	case empty && create == ports.CreationOpenExisting:
		return fmt.Errorf("bolt store %s: %w: the file is empty", s.path, ports.ErrNotAStore)
	case empty:
		var err error
		if meta, err = tx.CreateBucket(bucketMeta); err != nil {
			return fmt.Errorf("bolt store %s: %w", s.path, err)
		}
		if err := meta.Put(keyVersion, binary.BigEndian.AppendUint64(nil, SchemaVersion)); err != nil {
			return fmt.Errorf("bolt store %s: %w", s.path, err)
		}
		s.info.New = true
	case meta == nil || meta.Get(keyVersion) == nil:
		return fmt.Errorf("bolt store %s: %w: the file holds other buckets and no kmipd schema", s.path, ports.ErrNotAStore)
	}
	if err := s.checkVersion(meta); err != nil {
		return err
	}
	if err := s.loadIdentity(meta); err != nil {
		return err
	}
	for _, b := range [][]byte{bucketObjects, bucketTerms, bucketUsed, bucketScratch, bucketScratchExp} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("bolt store %s: %w", s.path, err)
		}
	}
	return nil
}

// checkVersion checks the stored schema version, upgrading version 1.
func (s *Store) checkVersion(meta *bbolt.Bucket) error {
	v := meta.Get(keyVersion)
	if len(v) != 8 {
		return fmt.Errorf("bolt store %s: bad schema version record", s.path)
	}
	switch n := binary.BigEndian.Uint64(v); {
	case n > SchemaVersion:
		return fmt.Errorf("bolt store %s: %w: schema version %d, this kmipd supports %d; upgrade kmipd",
			s.path, ErrNewerSchema, n, SchemaVersion)
	case n == 1:
		// Version 1 kept no used identifiers: the ones deleted before the
		// upgrade are unknown, every one from now on is kept (the bucket is
		// created by init, in this transaction).
		if err := meta.Put(keyVersion, binary.BigEndian.AppendUint64(nil, SchemaVersion)); err != nil {
			return fmt.Errorf("bolt store %s: %w", s.path, err)
		}
	case n < SchemaVersion:
		return fmt.Errorf("bolt store %s: unknown schema version %d", s.path, n)
	}
	return nil
}

// loadIdentity reads the store's identity from meta, writing a new one when
// there is none (a new store, or one written by an older kmipd).
func (s *Store) loadIdentity(meta *bbolt.Bucket) error {
	id, created := meta.Get(keyStoreID), meta.Get(keyCreated)
	if id == nil && created == nil {
		nid, t := identity.New()
		if err := meta.Put(keyStoreID, []byte(nid)); err != nil {
			return fmt.Errorf("bolt store %s: %w", s.path, err)
		}
		if err := meta.Put(keyCreated, []byte(t.Format(time.RFC3339Nano))); err != nil {
			return fmt.Errorf("bolt store %s: %w", s.path, err)
		}
		s.info.ID, s.info.Created = nid, t
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(created))
	if !identity.Valid(string(id)) || err != nil {
		return fmt.Errorf("bolt store %s: %w: bad store identity %q created %q", s.path, ports.ErrNotAStore, id, created)
	}
	s.info.ID, s.info.Created = string(id), t
	return nil
}

// termPrefix encodes a term as the prefix of its index keys: the name and
// the key, each preceded by its length, so that no name or key can run into
// the next one; the identifier follows.
func termPrefix(t record.Term) []byte {
	b := make([]byte, 0, len(t.Name)+len(t.Key)+2*binary.MaxVarintLen64)
	b = binary.AppendUvarint(b, uint64(len(t.Name)))
	b = append(b, t.Name...)
	b = binary.AppendUvarint(b, uint64(len(t.Key)))
	return append(b, t.Key...)
}

func termKey(t record.Term, id string) []byte { return append(termPrefix(t), id...) }

// errDirty marks an error raised after a request began writing to the batch
// transaction, which then cannot be committed.
type errDirty struct{ err error }

func (e errDirty) Error() string { return e.err.Error() }
func (e errDirty) Unwrap() error { return e.err }

// writer is the one goroutine that writes: it commits each batch of waiting
// requests in one transaction.
func (s *Store) writer() {
	defer close(s.wdone)
	s.q.ServeObserved(s.maxBatch, s.commit, s.onCommit)
}

// commit runs ops in one transaction and acknowledges them after the
// commit, the file being checked before and after to be still the one
// opened (else they get ports.ErrStoreLost, and once lost no batch runs).
// Requests check everything before they write, so a refused one leaves the
// transaction as it was; if one fails after it began writing, the
// transaction is rolled back and the others run again one by one.
func (s *Store) commit(ops []*writeq.Op[*bbolt.Tx]) {
	if err := s.guard.Verify(); err != nil {
		writeq.Fail(ops, err)
		return
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		err = fmt.Errorf("bolt store %s: %w", s.path, err)
		for _, op := range ops {
			op.Finish(err)
		}
		return
	}
	results := make([]error, len(ops))
	for i, op := range ops {
		results[i] = op.Run(tx)
		var dirty errDirty
		if errors.As(results[i], &dirty) {
			tx.Rollback()
			op.Finish(dirty.err)
			if len(ops) == 1 {
				return
			}
			for j, other := range ops {
				if j != i {
					s.commit([]*writeq.Op[*bbolt.Tx]{other})
				}
			}
			return
		}
	}
	var commitErr error
	if err := tx.Commit(); errors.Is(err, syscall.ENOSPC) {
		commitErr = fmt.Errorf("bolt store %s: commit: %w: %w", s.path, ports.ErrNoSpace, err)
	} else if err != nil {
		commitErr = fmt.Errorf("bolt store %s: commit: %w", s.path, err)
	} else {
		s.scrubFreePages()
	}
	// Nothing committed to a file the path no longer names is acknowledged.
	if err := s.guard.Verify(); err != nil {
		writeq.Fail(ops, err)
		return
	}
	writeq.Acknowledge(ops, results, commitErr)
}

// submit runs fn in the writer's batch transaction and waits for the commit.
func (s *Store) submit(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	err := s.q.Submit(ctx, fn)
	if errors.Is(err, ports.ErrClosed) {
		return fmt.Errorf("bolt store %s: %w", s.path, err)
	}
	return err
}

// checkKeys refuses terms whose index keys bbolt could not store.
func checkKeys(id string, terms []record.Term) error {
	for _, t := range terms {
		if n := len(termKey(t, id)); n > bbolt.MaxKeySize {
			return fmt.Errorf("bolt store: index entry %q of %q is too long (%d bytes)", t.Name, id, n)
		}
	}
	return nil
}

// Create implements ports.Store.
func (s *Store) Create(ctx context.Context, obj *domain.Object) error {
	body, terms, err := record.ForCreate(obj)
	if err != nil {
		return fmt.Errorf("bolt store: %w", err)
	}
	if err := checkKeys(obj.ID, terms); err != nil {
		return err
	}
	id := []byte(obj.ID)
	return s.submit(ctx, func(tx *bbolt.Tx) error {
		if err := checkFree(tx, id); err != nil {
			return err
		}
		return s.write(tx, obj.ID, body, terms, nil)
	})
}

var _ ports.BulkCreator = (*Store)(nil)

// CreateAll implements ports.BulkCreator in one transaction. It writes the
// objects and then the index entries each in key order, so that every page
// bbolt touches takes its new keys in order instead of moving its keys
// aside for each one (which made loading a million objects take minutes).
func (s *Store) CreateAll(ctx context.Context, objs []*domain.Object) error {
	type kv struct{ key, body []byte }
	objects := make([]kv, len(objs))
	// Index keys grouped by term, so that sorting compares the long shared
	// prefixes once per distinct term rather than once per entry.
	byTerm := map[record.Term][]string{}
	seen := make(map[string]bool, len(objs))
	for i, obj := range objs {
		body, terms, err := record.ForCreate(obj)
		if err != nil {
			return fmt.Errorf("bolt store: %w", err)
		}
		if err := checkKeys(obj.ID, terms); err != nil {
			return err
		}
		if seen[obj.ID] {
			return fmt.Errorf("bolt store: object %q: %w", obj.ID, ports.ErrExists)
		}
		seen[obj.ID] = true
		objects[i] = kv{[]byte(obj.ID), body}
		for _, t := range terms {
			byTerm[t] = append(byTerm[t], obj.ID)
		}
	}
	slices.SortFunc(objects, func(a, b kv) int { return bytes.Compare(a.key, b.key) })
	type group struct {
		prefix []byte
		ids    []string
	}
	groups := make([]group, 0, len(byTerm))
	for t, ids := range byTerm {
		slices.Sort(ids)
		groups = append(groups, group{termPrefix(t), ids})
	}
	// Distinct terms have distinct prefixes, none a prefix of another (each
	// part is length-prefixed), so prefix order is key order.
	slices.SortFunc(groups, func(a, b group) int { return bytes.Compare(a.prefix, b.prefix) })
	return s.submit(ctx, func(tx *bbolt.Tx) error {
		ob := tx.Bucket(bucketObjects)
		for _, o := range objects {
			if err := checkFree(tx, o.key); err != nil {
				return err
			}
		}
		dirty := func(err error) error { return errDirty{fmt.Errorf("bolt store %s: %w", s.path, err)} }
		for _, o := range objects {
			if err := ob.Put(o.key, o.body); err != nil {
				return dirty(err)
			}
		}
		tb := tx.Bucket(bucketTerms)
		for _, g := range groups {
			for _, id := range g.ids {
				// bbolt keeps the key until the commit: one slice each.
				k := append(append(make([]byte, 0, len(g.prefix)+len(id)), g.prefix...), id...)
				if err := tb.Put(k, nil); err != nil {
					return dirty(err)
				}
			}
		}
		return nil
	})
}

// checkFree returns ErrExists if id names an object or a deleted one.
func checkFree(tx *bbolt.Tx, id []byte) error {
	if tx.Bucket(bucketObjects).Get(id) != nil {
		return fmt.Errorf("bolt store: object %q: %w", id, ports.ErrExists)
	}
	if tx.Bucket(bucketUsed).Get(id) != nil {
		return fmt.Errorf("bolt store: identifier %q was used by a deleted object: %w", id, ports.ErrExists)
	}
	return nil
}

// write stores body under id and applies the index changes; a nil body
// deletes the object and keeps id as used. Errors are dirty.
func (s *Store) write(tx *bbolt.Tx, id string, body []byte, add, remove []record.Term) error {
	terms := tx.Bucket(bucketTerms)
	for _, t := range remove {
		if err := terms.Delete(termKey(t, id)); err != nil {
			return errDirty{fmt.Errorf("bolt store %s: %w", s.path, err)}
		}
	}
	for _, t := range add {
		if err := terms.Put(termKey(t, id), nil); err != nil {
			return errDirty{fmt.Errorf("bolt store %s: %w", s.path, err)}
		}
	}
	objects := tx.Bucket(bucketObjects)
	var err error
	if body == nil {
		err = objects.Delete([]byte(id))
		if err == nil {
			err = tx.Bucket(bucketUsed).Put([]byte(id), nil)
		}
	} else {
		err = objects.Put([]byte(id), body)
	}
	if err != nil {
		return errDirty{fmt.Errorf("bolt store %s: %w", s.path, err)}
	}
	return nil
}

// load reads and decodes one object in tx.
func load(tx *bbolt.Tx, id string) (*domain.Object, error) {
	v := tx.Bucket(bucketObjects).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("bolt store: object %q: %w", id, ports.ErrNotFound)
	}
	return record.Unmarshal(v)
}

// Update implements ports.Store; fn runs on the writer goroutine and, after
// a backend failure of another request in its batch, may run twice (on a
// fresh copy of the stored object each time).
func (s *Store) Update(ctx context.Context, id string, fn func(obj *domain.Object) error) error {
	return s.submit(ctx, func(tx *bbolt.Tx) error {
		old, err := load(tx, id)
		if err != nil {
			return err
		}
		c, err := record.Apply(old, fn)
		if err != nil {
			return err
		}
		if err := checkKeys(id, c.Added); err != nil { // kept entries fit already
			return err
		}
		s.scrub = s.scrub || c.Scrub
		return s.write(tx, id, c.Body, c.Added, c.Removed)
	})
}

// Delete implements ports.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.submit(ctx, func(tx *bbolt.Tx) error {
		old, err := load(tx, id)
		if err != nil {
			return err
		}
		s.scrub = true
		return s.write(tx, id, nil, nil, record.Terms(old))
	})
}

// DeleteIf implements ports.Store: the revision check and the delete run in
// the writer's one transaction.
func (s *Store) DeleteIf(ctx context.Context, id string, revision uint64) error {
	return s.submit(ctx, func(tx *bbolt.Tx) error {
		old, err := load(tx, id)
		if err != nil {
			return err
		}
		if old.Revision != revision {
			return fmt.Errorf("bolt store: object %q is at revision %d, not %d: %w", id, old.Revision, revision, ports.ErrConflict)
		}
		s.scrub = true
		return s.write(tx, id, nil, nil, record.Terms(old))
	})
}

// view runs fn in a read transaction unless the store is closed or ctx has ended.
func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("bolt store %s: %w", s.path, ports.ErrClosed)
	}
	if err := s.guard.Err(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// Get implements ports.Store.
func (s *Store) Get(ctx context.Context, id string) (*domain.Object, error) {
	var obj *domain.Object
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		obj, err = load(tx, id)
		return err
	})
	return obj, err
}

// Locate implements ports.Store as a leapfrog join of the terms' prefix
// scans, each group being the union of its terms' scans: each stream in turn
// seeks to the highest identifier seen so far, and an identifier every
// stream lands on is a match.
func (s *Store) Locate(ctx context.Context, q ports.LocateQuery) ([]string, error) {
	var ids []string
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		full := func() bool { return q.Limit > 0 && len(ids) >= q.Limit }
		terms := record.Plan(q.Terms)
		groups := record.PlanAny(q.Any)
		if len(terms) == 0 && len(groups) == 0 {
			c := tx.Bucket(bucketObjects).Cursor()
			for k, _ := seekAfter(c, nil, q.After); k != nil && !full(); k, _ = c.Next() {
				ids = append(ids, string(k))
			}
			return nil
		}
		bucket := tx.Bucket(bucketTerms)
		var streams []stream
		for _, t := range terms {
			streams = append(streams, newTermStream(bucket, t))
		}
		for _, g := range groups {
			u := &unionStream{}
			for _, t := range g {
				u.parts = append(u.parts, newTermStream(bucket, t))
			}
			streams = append(streams, u)
		}
		if len(terms) > 0 && record.Broad(terms[0]) && len(groups) > 0 {
			// Drive from the first group (a caller's access terms) rather
			// than from a term most objects share.
			g := streams[len(terms)]
			copy(streams[1:len(terms)+1], streams[:len(terms)])
			streams[0] = g
		}
		target, strict := q.After, true // find ids > After, then >= the candidate
		agreed := 0
		for i := 0; !full(); i = (i + 1) % len(streams) {
			if i == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			id, ok := streams[i].seek(target, strict)
			if !ok {
				return nil
			}
			if !strict && id == target {
				agreed++
			} else {
				target, strict, agreed = id, false, 1
			}
			if agreed == len(streams) {
				ids = append(ids, target)
				strict, agreed = true, 0
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// stream is an ascending sequence of identifiers that can be searched.
type stream interface {
	// seek returns the first identifier greater than target (strict) or not
	// less than it, and false when there is none.
	seek(target string, strict bool) (string, bool)
}

// termStream is the identifiers of one term's index entries.
type termStream struct {
	c      *bbolt.Cursor
	prefix []byte
}

func newTermStream(b *bbolt.Bucket, t record.Term) *termStream {
	return &termStream{c: b.Cursor(), prefix: termPrefix(t)}
}

func (s *termStream) seek(target string, strict bool) (string, bool) {
	var k []byte
	if strict {
		k, _ = seekAfter(s.c, s.prefix, target)
	} else {
		k, _ = s.c.Seek(append(s.prefix[:len(s.prefix):len(s.prefix)], target...))
	}
	if k == nil || !bytes.HasPrefix(k, s.prefix) {
		return "", false
	}
	return string(k[len(s.prefix):]), true
}

// unionStream is the identifiers of any of several terms' entries; it
// remembers where each part stands so that a seek moves only the parts
// behind the target. An empty union has no identifiers.
type unionStream struct {
	parts []*termStream
	heads []string // each part's current identifier; nil before the first seek
	done  []bool   // parts with nothing left
}

func (u *unionStream) seek(target string, strict bool) (string, bool) {
	first := u.heads == nil
	if first {
		u.heads = make([]string, len(u.parts))
		u.done = make([]bool, len(u.parts))
	}
	for i, p := range u.parts {
		if u.done[i] {
			continue
		}
		// Targets never decrease, so a head past the target is still the
		// part's first identifier past it.
		if h := u.heads[i]; !first && (h > target || (!strict && h == target)) {
			continue
		}
		var ok bool
		u.heads[i], ok = p.seek(target, strict)
		u.done[i] = !ok
	}
	best, found := "", false
	for i, h := range u.heads {
		if !u.done[i] && (!found || h < best) {
			best, found = h, true
		}
	}
	return best, found
}

// seekAfter positions c at the first key starting with prefix whose rest is
// greater than after, returning nil when there is none.
func seekAfter(c *bbolt.Cursor, prefix []byte, after string) ([]byte, []byte) {
	start := append(prefix[:len(prefix):len(prefix)], after...)
	k, v := c.Seek(start)
	if k != nil && bytes.Equal(k, start) {
		k, v = c.Next()
	}
	if k != nil && !bytes.HasPrefix(k, prefix) {
		return nil, nil
	}
	return k, v
}

// Close stops the writer after its current batch, waits for reads in flight
// and closes the file; later calls return ports.ErrClosed. Closing a lost
// store returns its ports.ErrStoreLost error.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("bolt store %s: %w", s.path, ports.ErrClosed)
	}
	s.closed = true
	s.mu.Unlock()
	s.q.Close()
	<-s.wdone
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt store %s: close: %w", s.path, err)
	}
	return s.guard.Err()
}

var (
	_ ports.HealthChecker = (*Store)(nil)
	_ ports.Describer     = (*Store)(nil)
)

// Check implements ports.HealthChecker: the path must still name the file
// opened, and the file must still hold this store's identity.
func (s *Store) Check(ctx context.Context) error {
	if err := s.guard.Verify(); err != nil {
		return err
	}
	return s.view(ctx, func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || string(meta.Get(keyStoreID)) != s.info.ID {
			return s.guard.Fail("the file holds no store identity or another store's")
		}
		return nil
	})
}

// Info implements ports.Describer.
func (s *Store) Info(ctx context.Context) (ports.StoreInfo, error) {
	info := s.info
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		info.Objects = tx.Bucket(bucketObjects).Stats().KeyN
		return nil
	})
	if err != nil {
		return ports.StoreInfo{}, err
	}
	return info, nil
}
