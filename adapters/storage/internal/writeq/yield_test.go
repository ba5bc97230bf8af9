package writeq

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

// On one CPU, requests whose submitters are already runnable when the writer
// takes the first one join its batch: the writer yields before draining, so
// that a busy single-core server does not commit one request at a time.
func TestRunnableSubmittersJoinTheBatch(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	q := New[tx]()
	var sizes []int
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Serve(64, func(batch []*Op[tx]) {
			sizes = append(sizes, len(batch))
			for _, op := range batch {
				var log []string
				op.Finish(op.Run(&log))
			}
		})
	}()
	// Let the writer block waiting for the first request.
	for range 10 {
		runtime.Gosched()
	}
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := q.Submit(context.Background(), func(tx) error { return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	q.Close()
	<-done
	if len(sizes) == 0 || sizes[0] < n/2 {
		t.Fatalf("batch sizes %v: the first batch should take the submitters that were runnable", sizes)
	}
}
