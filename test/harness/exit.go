package harness

import (
	"syscall"
	"testing"
	"time"
)

// WaitExit waits up to d for kmipd to exit on its own (after a signal the
// test sent with Signal, say) and returns its exit error (nil for status 0).
// It kills kmipd and fails the test if kmipd is still running after d.
func (s *Server) WaitExit(t testing.TB, d time.Duration) error {
	t.Helper()
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	if exited == nil {
		t.Fatal("harness: WaitExit: kmipd was never started")
	}
	select {
	case <-exited:
	case <-time.After(d):
		s.signal(syscall.SIGKILL)
		<-exited
		t.Errorf("harness: kmipd did not exit within %v; killed\n%s", d, s.diagnostics())
	}
	return s.exitErr()
}
