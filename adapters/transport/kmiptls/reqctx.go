package kmiptls

import (
	"context"
	"sync"
	"time"
)

// requestContext is context.WithDeadline(parent, deadline) for one request,
// ended by end, whose timer is armed only once something asks for Done:
// most requests only ask Err, and arming and stopping a timer for each cost
// about 5 % of a Get's server CPU. Err, Deadline and Done answer as the
// standard context would.
type requestContext struct {
	context.Context // the parent, which also answers Value
	deadline        time.Time

	mu     sync.Mutex
	inner  context.Context    // WithDeadline(parent, deadline), made by Done
	cancel context.CancelFunc // inner's
	err    error              // set by end when Done was never asked
}

func newRequestContext(parent context.Context, timeout time.Duration) *requestContext {
	return &requestContext{Context: parent, deadline: time.Now().Add(timeout)}
}

// closedDone is Done's answer once the request has ended without a timer.
var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *requestContext) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *requestContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner == nil {
		if c.err != nil {
			return closedDone
		}
		c.inner, c.cancel = context.WithDeadline(c.Context, c.deadline)
	}
	return c.inner.Done()
}

func (c *requestContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.inner != nil:
		return c.inner.Err()
	case c.err != nil:
		return c.err
	}
	return c.endedBy()
}

// endedBy is what ended the context when no timer runs: the parent, the
// deadline, or nothing yet (nil).
func (c *requestContext) endedBy() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// end is the context's cancel function: once the request is answered, the
// context is done (context.Canceled unless it had already ended).
func (c *requestContext) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner != nil {
		c.cancel()
		return
	}
	if c.err == nil {
		if c.err = c.endedBy(); c.err == nil {
			c.err = context.Canceled
		}
	}
}
