package kmiptls

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A request context answers as context.WithDeadline would, whether or not
// anything asked for Done, and costs no timer while nothing does.
func TestRequestContext(t *testing.T) {
	t.Run("deadline without Done", func(t *testing.T) {
		c := newRequestContext(context.Background(), 20*time.Millisecond)
		if err := c.Err(); err != nil {
			t.Fatalf("Err before the deadline: %v", err)
		}
		time.Sleep(30 * time.Millisecond)
		if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Err after the deadline: %v", err)
		}
		c.end()
		if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Err after end past the deadline: %v, want DeadlineExceeded", err)
		}
		select {
		case <-c.Done():
		default:
			t.Fatal("Done not closed after end")
		}
	})
	t.Run("deadline with Done", func(t *testing.T) {
		c := newRequestContext(context.Background(), 20*time.Millisecond)
		defer c.end()
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed at the deadline")
		}
		if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Err: %v", err)
		}
	})
	t.Run("parent cancelled", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		c := newRequestContext(parent, time.Hour)
		defer c.end()
		done := c.Done()
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed when the parent was cancelled")
		}
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Err: %v", err)
		}
		other := newRequestContext(parent, time.Hour) // Done never asked
		if err := other.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Err of a request under a cancelled parent: %v", err)
		}
	})
	t.Run("end", func(t *testing.T) {
		for _, askDone := range []bool{false, true} {
			c := newRequestContext(context.Background(), time.Hour)
			if askDone {
				c.Done()
			}
			c.end()
			if err := c.Err(); !errors.Is(err, context.Canceled) {
				t.Fatalf("Err after end (Done asked %v): %v", askDone, err)
			}
			select {
			case <-c.Done():
			default:
				t.Fatalf("Done not closed after end (Done asked %v)", askDone)
			}
		}
	})
	t.Run("deadline and values", func(t *testing.T) {
		type key struct{}
		parent, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, "v"), time.Minute)
		defer cancel()
		c := newRequestContext(parent, time.Hour)
		defer c.end()
		pd, _ := parent.Deadline()
		if d, ok := c.Deadline(); !ok || !d.Equal(pd) {
			t.Fatalf("Deadline %v, %v; want the parent's earlier %v", d, ok, pd)
		}
		if c.Value(key{}) != "v" {
			t.Fatal("the parent's value lost")
		}
		short := newRequestContext(parent, time.Second)
		defer short.end()
		if d, _ := short.Deadline(); !d.Before(pd) {
			t.Fatalf("Deadline %v, want its own, before the parent's %v", d, pd)
		}
	})
	t.Run("no timer unless Done", func(t *testing.T) {
		type key struct{}
		parent := context.WithValue(context.Background(), key{}, 1)
		allocs := testing.AllocsPerRun(100, func() {
			c := newRequestContext(parent, time.Minute)
			_ = c.Err()
			c.end()
		})
		if allocs > 1 {
			t.Fatalf("%v allocations per request context, want at most 1", allocs)
		}
	})
}
