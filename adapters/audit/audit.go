// Package audit keeps kmipd's audit trail in a file: one JSON line per
// record, appended with O_APPEND to a file created 0600, each record chained
// to the one before it by a hash (SHA-256, or HMAC-SHA256 under a key) so
// that a changed, removed or reordered line is found by Verify.
//
// Every record is on disk (fsync) before Record returns; concurrent
// records share one fsync (group commit). Append writes a record without
// that wait, for a later Sync of its mark (or any later fsync) to make
// durable (ports.BufferedAuditor).
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"sync"
	"time"

	"github.com/kmipd/kmipd/ports"
)

// Options configure a Writer.
type Options struct {
	// Key, when set, chains records with HMAC-SHA256 under it (field
	// "mac"); otherwise with SHA-256 (field "hash").
	Key []byte
	// Failed is called for every record that could not be written.
	Failed func()
}

// Writer appends audit records to a file. It is safe for concurrent use.
type Writer struct {
	path string
	opt  Options

	// syncMu serializes fsyncs and file swaps; it is taken before mu.
	syncMu sync.Mutex
	// fsync is (*os.File).Sync, replaced by tests.
	fsync func(*os.File) error

	mu     sync.Mutex
	f      *os.File // nil after a failed reopen: the next record retries
	closed bool     // Close was called: records fail
	size   int64    // bytes of f that hold whole records
	prev   string   // the hash of the last record written, "" before any
	seq    uint64   // records written
	synced uint64   // records known to be on disk, but for those lost
	// lost holds the records (lostFrom, lostTo] an fsync failed to make
	// durable: they count as not written even after a later fsync
	// succeeds, since a failed fsync may have dropped them from the page
	// cache. Successive failures widen the one range.
	lostFrom, lostTo uint64
}

var _ ports.BufferedAuditor = (*Writer)(nil)

// Open opens (creating, 0600) the audit file at path for appending; the
// chain continues from the file's last record.
func Open(path string, opt Options) (*Writer, error) {
	w := &Writer{path: path, opt: opt, fsync: (*os.File).Sync}
	if err := w.openLocked(); err != nil {
		return nil, err
	}
	return w, nil
}

// openLocked opens w.path; the chain continues from the file's last record
// when it has one, else from the last record w wrote (a rotated file). A
// torn last line (a crash mid-write) is ended with a newline, left for
// Verify to report, and the chain continues from the record before it.
func (w *Writer) openLocked() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit: opening %s: %w", w.path, err)
	}
	last, torn, size, err := lastRecord(w.path)
	if err == nil && torn {
		var n int
		n, err = f.Write([]byte("\n"))
		size += int64(n)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("audit: opening %s: %w", w.path, err)
	}
	if last != nil {
		_, sum, _, ok := splitRecord(last)
		if !ok {
			f.Close()
			return fmt.Errorf("audit: %s ends with a line that is not an audit record; move it aside", w.path)
		}
		w.prev = sum
	}
	w.f, w.size = f, size
	return nil
}

// Record appends rec to the file and returns once it is on disk; on an
// error the record did not reach the disk, or may not have.
func (w *Writer) Record(_ context.Context, rec ports.AuditRecord) error {
	seq, err := w.append(rec)
	if err == nil {
		err = w.syncTo(seq)
	}
	return w.failed(err)
}

// Append appends rec to the file without waiting for the disk: it is there
// once Sync of its mark returns nil. On an error nothing of rec was
// written.
func (w *Writer) Append(_ context.Context, rec ports.AuditRecord) (ports.AuditMark, error) {
	seq, err := w.append(rec)
	return ports.AuditMark(seq), w.failed(err)
}

// Sync returns once the record marked upto, and every record before it, is
// on disk, running an fsync only when one is not yet; an error when an
// fsync failed to write it (for good: a later fsync does not count).
func (w *Writer) Sync(_ context.Context, upto ports.AuditMark) error {
	return w.failed(w.syncTo(uint64(upto)))
}

// failed counts err, a record or sync that failed, and returns it.
func (w *Writer) failed(err error) error {
	if err != nil && w.opt.Failed != nil {
		w.opt.Failed()
	}
	return err
}

// append writes rec to the file and returns its sequence number.
func (w *Writer) append(rec ports.AuditRecord) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, fmt.Errorf("audit: %s is closed", w.path)
	}
	if w.f == nil {
		if err := w.openLocked(); err != nil {
			return 0, err
		}
	}
	out, sum, err := encode(rec, w.prev, w.opt.Key)
	if err != nil {
		return 0, err
	}
	n, err := w.f.Write(out)
	if err != nil {
		if n > 0 { // a short write: take the partial line back
			w.f.Truncate(w.size)
		}
		return 0, fmt.Errorf("audit: writing %s: %w", w.path, err)
	}
	w.size += int64(n)
	w.prev = sum
	w.seq++
	return w.seq, nil
}

// syncTo returns once the first seq records are on disk, running an fsync
// that covers every record written so far unless one already did.
func (w *Writer) syncTo(seq uint64) error {
	if done, err := w.syncedTo(seq); done {
		return err
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if done, err := w.syncedTo(seq); done {
		return err
	}
	w.mu.Lock()
	f, upto := w.f, w.seq
	w.mu.Unlock()
	if f == nil {
		return fmt.Errorf("audit: %s was closed before the record was synced", w.path)
	}
	err := w.fsync(f)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.syncedLocked(upto, err)
	if err != nil {
		return fmt.Errorf("audit: syncing %s: %w", w.path, err)
	}
	return nil
}

// syncedTo tells whether record seq's fate is known: on disk (nil) or
// lost to a failed fsync (an error).
func (w *Writer) syncedTo(seq uint64) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seq > w.lostFrom && seq <= w.lostTo {
		return true, fmt.Errorf("audit: syncing %s failed: the record may not be on disk", w.path)
	}
	return w.synced >= seq, nil
}

// syncedLocked notes the outcome err of an fsync covering the first upto
// records.
func (w *Writer) syncedLocked(upto uint64, err error) {
	switch {
	case err == nil:
		w.synced = max(w.synced, upto)
	case w.lostTo == 0:
		w.lostFrom, w.lostTo = w.synced, upto
	default:
		w.lostFrom, w.lostTo = min(w.lostFrom, w.synced), max(w.lostTo, upto)
	}
}

// Reopen closes the file and opens the path again: after the file was
// moved away (log rotation) a new one is created and the chain continues
// in it. When the path cannot be opened, records fail (and Reopen is
// retried with each) until it can.
func (w *Writer) Reopen() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closeLocked()
	return w.openLocked()
}

// Close syncs and closes the file; later records fail.
func (w *Writer) Close() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return w.closeLocked()
}

func (w *Writer) closeLocked() error {
	if w.f == nil {
		return nil
	}
	serr := w.fsync(w.f)
	w.syncedLocked(w.seq, serr)
	err := errors.Join(serr, w.f.Close())
	w.f = nil
	return err
}

// line is a record as written; the field order is the file format.
type line struct {
	Time        string   `json:"time"`
	Event       string   `json:"event"`
	Request     string   `json:"req,omitempty"`
	Item        int      `json:"item"`
	Client      string   `json:"client"`
	Groups      []string `json:"groups,omitempty"`
	Address     string   `json:"addr,omitempty"`
	Version     string   `json:"version,omitempty"`
	Operation   string   `json:"op,omitempty"`
	UIDs        []string `json:"uids,omitempty"`
	UIDsOmitted int      `json:"uids_omitted,omitempty"`
	Keys        []string `json:"keys,omitempty"`
	Status      string   `json:"status,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Prev        string   `json:"prev"`
}

// encode returns rec as one line chained to prev, and the line's hash: the
// JSON object without its last field, then ,"hash":"HEX"} (or "mac"),
// where HEX is the digest of the JSON object the line would be without
// that field.
func encode(rec ports.AuditRecord, prev string, key []byte) ([]byte, string, error) {
	body, err := json.Marshal(line{
		Time: rec.Time.UTC().Format(time.RFC3339Nano), Event: rec.Event, Request: rec.Request, Item: rec.Item,
		Client: rec.Client, Groups: rec.Groups, Address: rec.Address, Version: rec.Version,
		Operation: rec.Operation, UIDs: rec.UIDs, UIDsOmitted: rec.UIDsOmitted, Keys: rec.Keys,
		Status: rec.Status, Reason: rec.Reason, Prev: prev,
	})
	if err != nil {
		return nil, "", fmt.Errorf("audit: encoding a record: %w", err)
	}
	sum := digest(key, body)
	field := "hash"
	if key != nil {
		field = "mac"
	}
	out := append(body[:len(body)-1:len(body)-1], `,"`+field+`":"`+sum+`"}`+"\n"...)
	return out, sum, nil
}

// digest is the hex SHA-256 of body, or its HMAC-SHA256 under key.
func digest(key, body []byte) string {
	var h hash.Hash
	if key != nil {
		h = hmac.New(sha256.New, key)
	} else {
		h = sha256.New()
	}
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
