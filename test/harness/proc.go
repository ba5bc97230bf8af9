package harness

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// PID returns the process ID of the running kmipd, or 0 when none runs.
func (s *Server) PID() int {
	if !s.running() {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Pid
}

// ProcStatusBytes returns a memory field of /proc/PID/status of the running
// kmipd ("VmRSS", "VmHWM"), in bytes.
func (s *Server) ProcStatusBytes(field string) (int64, error) {
	pid := s.PID()
	if pid == 0 {
		return 0, fmt.Errorf("harness: kmipd is not running")
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		// "  123456 kB"
		num, unit, _ := strings.Cut(strings.TrimSpace(rest), " ")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || unit != "kB" {
			return 0, fmt.Errorf("harness: /proc/%d/status %s: %q", pid, field, rest)
		}
		return v << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("harness: /proc/%d/status has no %s", pid, field)
}
