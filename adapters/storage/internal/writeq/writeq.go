// Package writeq is the group-commit queue of kmipd's storage adapters:
// callers submit write functions and wait; one writer goroutine takes every
// waiting request as a batch, runs them in one transaction and acknowledges
// them all after a single commit (one fsync for the batch).
package writeq

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kmipd/kmipd/ports"
)

// Request states.
const (
	pending int32 = iota
	claimed
	abandoned
)

// errPanicked is what Run returns when the request's function panicked; the
// panic is raised again in the submitting goroutine.
var errPanicked = errors.New("write request panicked")

// Op is one submitted write request; Tx is the adapter's transaction type.
type Op[Tx any] struct {
	ctx      context.Context
	run      func(tx Tx) error
	state    atomic.Int32
	done     chan struct{}
	err      error
	panicked any
}

// claim reports whether the writer should run op: false when the submitter
// has given up or its context has ended, in which case op is finished
// already (with the context's error) and must be skipped.
func (op *Op[Tx]) claim() bool {
	if err := op.ctx.Err(); err != nil {
		if op.state.CompareAndSwap(pending, abandoned) {
			op.Finish(err)
		}
		return false
	}
	return op.state.CompareAndSwap(pending, claimed)
}

// Run calls the request's function in tx; a panic becomes an error here and
// is raised again in the submitter. Run may be called again after a rollback.
func (op *Op[Tx]) Run(tx Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			op.panicked = p
			err = errPanicked
		}
	}()
	op.panicked = nil
	return op.run(tx)
}

// Finish delivers the request's result to its submitter; call it once per
// request Next returned.
func (op *Op[Tx]) Finish(err error) {
	op.err = err
	close(op.done)
}

// Queue hands write requests to one writer goroutine.
type Queue[Tx any] struct {
	ch        chan *Op[Tx]
	closing   chan struct{}
	closeOnce sync.Once
	waiting   atomic.Int64  // submitters not yet taken by the writer
	batches   atomic.Uint64 // batches handed to the writer
}

// Waiting returns how many submitters wait for the writer to take their request.
func (q *Queue[Tx]) Waiting() int64 { return q.waiting.Load() }

// Batches returns how many batches Next has handed out: with group commit,
// fewer than the requests written when writers overlap.
func (q *Queue[Tx]) Batches() uint64 { return q.batches.Load() }

// New returns an open queue.
func New[Tx any]() *Queue[Tx] {
	// Unbuffered: a request is either taken by the writer or refused by
	// Close, never stranded in a buffer.
	return &Queue[Tx]{ch: make(chan *Op[Tx]), closing: make(chan struct{})}
}

// Submit queues run for the writer and waits for its result. It returns
// ctx's error, having written nothing, if ctx ends before the writer takes
// the request, and an error wrapping ports.ErrClosed once Close was called.
// Once taken, the request completes whatever happens to ctx.
func (q *Queue[Tx]) Submit(ctx context.Context, run func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &Op[Tx]{ctx: ctx, run: run, done: make(chan struct{})}
	q.waiting.Add(1)
	select {
	case q.ch <- op:
		q.waiting.Add(-1)
	case <-q.closing:
		q.waiting.Add(-1)
		return ports.ErrClosed
	case <-ctx.Done():
		q.waiting.Add(-1)
		return ctx.Err()
	}
	select {
	case <-op.done:
	case <-ctx.Done():
		if op.state.CompareAndSwap(pending, abandoned) {
			return ctx.Err()
		}
		<-op.done
	}
	if op.panicked != nil {
		panic(op.panicked)
	}
	return op.err
}

// Next waits for requests and returns those already waiting, at most max,
// that the writer must now run: each is claimed, so that its submitter waits
// for it whatever happens to its context, and the writer must Finish each
// once. Requests whose context has ended are dropped. ok is false once the
// queue is closed.
func (q *Queue[Tx]) Next(max int) (batch []*Op[Tx], ok bool) {
	for len(batch) == 0 {
		select {
		case op := <-q.ch:
			if op.claim() {
				batch = append(batch, op)
			}
		case <-q.closing:
			return nil, false
		}
		// Yield before each drain so that goroutines already runnable (on
		// one CPU: the handlers of requests that arrived while the last
		// batch committed) can submit theirs; stop once a drain finds none.
		for grown := true; grown && len(batch) < max; {
			runtime.Gosched()
			grown = false
		drain:
			for len(batch) < max {
				select {
				case op := <-q.ch:
					if op.claim() {
						batch = append(batch, op)
						grown = true
					}
				default:
					break drain
				}
			}
		}
	}
	q.batches.Add(1)
	return batch, true
}

// Close makes later Submits fail with ports.ErrClosed and Next return false;
// the writer finishes the batch it holds.
func (q *Queue[Tx]) Close() { q.closeOnce.Do(func() { close(q.closing) }) }

// Serve is the writer goroutine's loop: it hands each batch of waiting
// requests (at most max) to commit until the queue is closed and drained.
func (q *Queue[Tx]) Serve(max int, commit func(batch []*Op[Tx])) {
	q.ServeObserved(max, commit, nil)
}

// ServeObserved is Serve telling observe, when not nil, how long each
// batch's commit took and how many requests it held (for metrics).
func (q *Queue[Tx]) ServeObserved(max int, commit func(batch []*Op[Tx]), observe func(d time.Duration, n int)) {
	for {
		batch, ok := q.Next(max)
		if !ok {
			return
		}
		start := time.Now()
		commit(batch)
		if observe != nil {
			observe(time.Since(start), len(batch))
		}
	}
}

// Acknowledge finishes a committed batch: each request gets its own result,
// except that requests which succeeded get commitErr when the commit itself
// failed. Nothing is acknowledged as written unless the commit succeeded.
func Acknowledge[Tx any](ops []*Op[Tx], results []error, commitErr error) {
	for i, op := range ops {
		if results[i] == nil {
			results[i] = commitErr
		}
		op.Finish(results[i])
	}
}

// Fail finishes every request of a batch with err, none of them written.
func Fail[Tx any](ops []*Op[Tx], err error) {
	for _, op := range ops {
		op.Finish(err)
	}
}
