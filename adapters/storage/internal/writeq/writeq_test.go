package writeq

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/ports"
)

// tx is the test's transaction: the log of requests run in it.
type tx = *[]string

// serve runs a writer that runs each batch in a fresh log, reports each
// batch's log on batches and stops when the queue closes.
func serve(q *Queue[tx], batches chan<- []string) (done chan struct{}) {
	done = make(chan struct{})
	go func() {
		defer close(done)
		for {
			batch, ok := q.Next(64)
			if !ok {
				return
			}
			var log []string
			for _, op := range batch {
				op.Finish(op.Run(&log))
			}
			if batches != nil {
				batches <- log
			}
		}
	}()
	return done
}

func TestSubmitResults(t *testing.T) {
	q := New[tx]()
	done := serve(q, nil)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			want := error(nil)
			if i%3 == 0 {
				want = fmt.Errorf("refused %d", i)
			}
			if err := q.Submit(context.Background(), func(l tx) error { *l = append(*l, "x"); return want }); err != want {
				t.Errorf("request %d: Submit = %v, want %v", i, err, want)
			}
		})
	}
	wg.Wait()
	q.Close()
	<-done
}

func TestCanceledWhileQueuedIsNotRun(t *testing.T) {
	q := New[tx]()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- q.Submit(ctx, func(l tx) error { *l = append(*l, "canceled"); return nil }) }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit = %v, want context.Canceled", err)
	}
	batches := make(chan []string, 1)
	done := serve(q, batches)
	if err := q.Submit(context.Background(), func(l tx) error { *l = append(*l, "kept"); return nil }); err != nil {
		t.Fatal(err)
	}
	if log := <-batches; len(log) != 1 || log[0] != "kept" {
		t.Fatalf("writer ran %q, want only the live request", log)
	}
	q.Close()
	<-done
}

func TestCanceledWhileRunningCompletes(t *testing.T) {
	q := New[tx]()
	done := serve(q, nil)
	ctx, cancel := context.WithCancel(context.Background())
	running, release := make(chan struct{}), make(chan struct{})
	errRun := errors.New("run's own result")
	errc := make(chan error)
	go func() {
		errc <- q.Submit(ctx, func(tx) error { close(running); <-release; return errRun })
	}()
	<-running
	cancel()
	close(release)
	if err := <-errc; err != errRun {
		t.Fatalf("Submit = %v, want the result of the request that ran", err)
	}
	q.Close()
	<-done
}

func TestCloseReleasesQueuedSubmitters(t *testing.T) {
	q := New[tx]()
	var wg sync.WaitGroup
	var ran sync.Map
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			err := q.Submit(context.Background(), func(tx) error { ran.Store(i, true); return nil })
			if _, ok := ran.Load(i); ok != (err == nil) {
				errs <- fmt.Errorf("request %d: Submit = %v, ran = %v", i, err, ok)
			} else if err != nil && !errors.Is(err, ports.ErrClosed) {
				errs <- fmt.Errorf("request %d: Submit = %v, want ErrClosed", i, err)
			}
		})
	}
	q.Close()
	wg.Wait() // no writer ever ran: every Submit must still return
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, ok := q.Next(8); ok {
		t.Fatal("Next after Close returned a batch")
	}
	if err := q.Submit(context.Background(), func(tx) error { return nil }); !errors.Is(err, ports.ErrClosed) {
		t.Fatalf("Submit after Close = %v, want ErrClosed", err)
	}
	q.Close() // a second Close is harmless
}

func TestPanicReachesSubmitter(t *testing.T) {
	q := New[tx]()
	batches := make(chan []string, 4)
	done := serve(q, batches)
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the request's panic", p)
			}
		}()
		_ = q.Submit(context.Background(), func(tx) error { panic("boom") })
		t.Error("Submit returned after its request panicked")
	}()
	<-batches
	// The writer survives.
	if err := q.Submit(context.Background(), func(tx) error { return nil }); err != nil {
		t.Fatalf("Submit after a panic: %v", err)
	}
	q.Close()
	<-done
}

// TestAcknowledgeFailsSucceededRequestsWhenCommitFails runs Serve with a
// commit that fails: a request that succeeded in the transaction must not be
// acknowledged as written, and a refused one keeps its own error.
func TestAcknowledgeFailsSucceededRequestsWhenCommitFails(t *testing.T) {
	q := New[tx]()
	commitErr := errors.New("disk full")
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Serve(64, func(batch []*Op[tx]) {
			var log []string
			results := make([]error, len(batch))
			for i, op := range batch {
				results[i] = op.Run(&log)
			}
			Acknowledge(batch, results, commitErr)
		})
	}()
	refused := errors.New("refused")
	if err := q.Submit(context.Background(), func(tx) error { return nil }); !errors.Is(err, commitErr) {
		t.Errorf("succeeded request got %v, want the commit error", err)
	}
	if err := q.Submit(context.Background(), func(tx) error { return refused }); !errors.Is(err, refused) {
		t.Errorf("refused request got %v, want its own error", err)
	}
	q.Close()
	<-done
}

// TestGroupCommit: requests that arrive while the writer commits are written
// together in the next batch, not one commit each.
func TestGroupCommit(t *testing.T) {
	q := New[tx]()
	firstRunning, release := make(chan struct{}), make(chan struct{})
	var sizes []int
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Serve(64, func(batch []*Op[tx]) {
			sizes = append(sizes, len(batch))
			if len(sizes) == 1 {
				close(firstRunning)
				<-release // the "fsync" of the first commit
			}
			for _, op := range batch {
				var log []string
				op.Finish(op.Run(&log))
			}
		})
	}()
	var wg sync.WaitGroup
	submit := func() {
		defer wg.Done()
		if err := q.Submit(context.Background(), func(tx) error { return nil }); err != nil {
			t.Error(err)
		}
	}
	wg.Add(1)
	go submit()
	<-firstRunning
	const later = 10
	wg.Add(later)
	for range later {
		go submit()
	}
	for q.Waiting() < later {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	q.Close()
	<-done
	if len(sizes) != 2 || sizes[1] != later {
		t.Fatalf("batch sizes %v, want [1 %d]: requests waiting during a commit must share the next one", sizes, later)
	}
	if q.Batches() != 2 {
		t.Fatalf("Batches() = %d, want 2", q.Batches())
	}
}
