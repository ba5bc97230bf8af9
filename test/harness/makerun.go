package harness

import (
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MakeRun is a `make` target (one of the README's `make run-*`) running in
// the repository root as its own process group, its output captured.
type MakeRun struct {
	target string
	cmd    *exec.Cmd
	out    SyncBuffer
	exited chan struct{} // closed once make has exited
	err    error         // make's exit, set before exited is closed
	stop   sync.Once
}

// StartMake starts `make -s target vars...` in the repository root; the
// test's cleanup stops it (and everything it started) if the test has not.
func StartMake(t testing.TB, target string, vars ...string) *MakeRun {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	m := &MakeRun{target: target, exited: make(chan struct{})}
	m.cmd = exec.Command("make", append([]string{"-s", target}, vars...)...)
	m.cmd.Dir = root
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.out
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { m.err = m.cmd.Wait(); close(m.exited) }()
	t.Cleanup(m.Stop)
	return m
}

// Output is everything make and what it ran printed so far.
func (m *MakeRun) Output() string { return m.out.String() }

// WaitListening waits until the output says kmipd listens on 127.0.0.1 on
// every one of ports; it fails t, with the output, when make exits first
// or after two minutes (the first run builds kmipd).
func (m *MakeRun) WaitListening(t testing.TB, ports ...int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for _, port := range ports {
		for !strings.Contains(m.Output(), "kmipd: listening on 127.0.0.1:"+strconv.Itoa(port)) {
			select {
			case <-m.exited:
				t.Fatalf("make %s exited: %v\n%s", m.target, m.err, m.Output())
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("make %s did not start serving on %d:\n%s", m.target, port, m.Output())
			}
		}
	}
}

// Stop sends SIGTERM to make's process group (what make started too, even
// when make itself has exited) and waits for make to exit, killing the
// group after 30 seconds. It may be called more than once.
func (m *MakeRun) Stop() {
	m.stop.Do(func() {
		syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-m.exited:
		case <-time.After(30 * time.Second):
			syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
			<-m.exited
		}
	})
}
