package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kmipd/kmipd/ports"
)

// Append writes without an fsync; Record and Sync make everything written
// so far durable with one fsync, shared, and skipped when the record asked
// for is on disk already.

// countSyncs makes w's fsyncs count in n, failing while fail is set.
func countSyncs(w *Writer, n *atomic.Int64, fail *atomic.Bool) {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.fsync = func(f *os.File) error {
		n.Add(1)
		if fail != nil && fail.Load() {
			return errors.New("EIO")
		}
		return f.Sync()
	}
}

func TestAppendWritesInOrderWithoutSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := open(t, path, Options{})
	var syncs atomic.Int64
	countSyncs(w, &syncs, nil)
	ctx := context.Background()
	var marks []ports.AuditMark
	for i := range 2 {
		m, err := w.Append(ctx, rec(i))
		if err != nil {
			t.Fatal(err)
		}
		marks = append(marks, m)
	}
	if syncs.Load() != 0 {
		t.Fatalf("Append ran %d fsyncs; want none", syncs.Load())
	}
	if lines := strings.Split(strings.TrimSpace(readFile(t, path)), "\n"); len(lines) != 2 ||
		!strings.Contains(lines[0], `"req":"req0"`) || !strings.Contains(lines[1], `"req":"req1"`) {
		t.Fatalf("appended records not in the file in order: %q", lines)
	}
	if err := w.Sync(ctx, marks[1]); err != nil || syncs.Load() != 1 {
		t.Fatalf("Sync = %v after %d fsyncs; want nil after 1", err, syncs.Load())
	}
	if err := w.Sync(ctx, marks[0]); err != nil || syncs.Load() != 1 {
		t.Fatalf("Sync of a synced record = %v, %d fsyncs; want nil and no new fsync", err, syncs.Load())
	}
	w.Append(ctx, rec(2))
	if err := w.Record(ctx, rec(3)); err != nil || syncs.Load() != 2 {
		t.Fatalf("Record = %v, %d fsyncs; want nil and one fsync for both records", err, syncs.Load())
	}
	verifyOK(t, 4, nil, path) // appended and recorded records share one chain
}

// A record an fsync failed to make durable stays failed: a later fsync that
// succeeds may not have written it (the kernel can drop the failed pages).
func TestFailedSyncFailsItsRecordsForGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	var failures atomic.Int64
	w := open(t, path, Options{Failed: func() { failures.Add(1) }})
	var syncs atomic.Int64
	var fail atomic.Bool
	countSyncs(w, &syncs, &fail)
	ctx := context.Background()
	write(t, w, 0, 1)
	lost, _ := w.Append(ctx, rec(1))
	fail.Store(true)
	if err := w.Sync(ctx, lost); err == nil || failures.Load() != 1 {
		t.Fatalf("Sync with a failing fsync = %v, %d failures counted; want an error, counted", err, failures.Load())
	}
	fail.Store(false)
	if err := w.Sync(ctx, lost); err == nil {
		t.Fatal("Sync after a failed fsync claimed the record it lost durable")
	}
	if err := w.Record(ctx, rec(2)); err != nil {
		t.Fatalf("a record after the failure: %v", err)
	}
	if err := w.Sync(ctx, lost); err == nil {
		t.Fatal("a later fsync made the lost record count as durable")
	}
	if err := w.Sync(ctx, lost-1); err != nil {
		t.Fatalf("a record synced before the failure: %v", err)
	}
}

// Rotation (Reopen) syncs what was appended to the old file first; when
// that fsync fails the records fail, though the new file syncs fine.
func TestReopenSyncsAppendedRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := open(t, path, Options{})
	var syncs atomic.Int64
	var fail atomic.Bool
	countSyncs(w, &syncs, &fail)
	ctx := context.Background()
	m, _ := w.Append(ctx, rec(0))
	if err := w.Reopen(); err != nil || syncs.Load() != 1 {
		t.Fatalf("Reopen = %v after %d fsyncs; want nil after 1", err, syncs.Load())
	}
	if err := w.Sync(ctx, m); err != nil || syncs.Load() != 1 {
		t.Fatalf("Sync after Reopen = %v, %d fsyncs; want nil, no new fsync", err, syncs.Load())
	}
	m, _ = w.Append(ctx, rec(1))
	fail.Store(true)
	w.Reopen()
	fail.Store(false)
	if err := w.Sync(ctx, m); err == nil {
		t.Fatal("a record whose fsync failed at Reopen counted as durable")
	}
	write(t, w, 2, 3)
	verifyOK(t, 3, nil, path)
}
