package kmiptls

import "context"

// AcquireMemory reserves n bytes of the server's memory budget for the
// client who, waiting while they do not fit until ctx ends (then it
// returns ctx's error and holds nothing). Other listeners of the process
// (HTTPS) reserve from it too, so that one budget bounds every request
// being read or answered. n must not exceed MaxMessageSize.
func (s *Server) AcquireMemory(ctx context.Context, who string, n int64) error {
	b := s.memoryBudget()
	waited, err := b.acquire(ctx, who, n)
	if waited {
		s.logBudgetWait()
	}
	return err
}

// GrowMemory adds n bytes already allocated (an encoded response) to
// what who holds, without waiting.
func (s *Server) GrowMemory(who string, n int64) { s.memoryBudget().grow(who, n) }

// ReleaseMemory returns n bytes who held.
func (s *Server) ReleaseMemory(who string, n int64) { s.memoryBudget().release(who, n) }

// memoryBudget returns the server's budget, setting it up if Serve has not.
func (s *Server) memoryBudget() *budget {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.budget
}
