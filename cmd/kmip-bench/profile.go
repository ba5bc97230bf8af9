package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// profiledCells are the cells whose server CPU profile the suite keeps:
// the ones the targets name.
var profiledCells = []cellKey{{"create", 32}, {"get", 8}, {"encrypt", 8}, {"locate", 8}}

// fetchProfile fetches a CPU profile of secs seconds from the pprof
// listener at addr (net/http/pprof) into file. It blocks for the duration.
func fetchProfile(ctx context.Context, addr string, secs int, file string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs+30)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// cost is one function's or layer's share of a profile's CPU samples.
type cost struct {
	name string
	frac float64
}

// profileSummary is what the report shows of one profile: the three
// functions with the most CPU time of their own (flat), and the cumulative
// share of each layer of the server.
type profileSummary struct {
	file   string
	total  time.Duration
	top    []cost
	layers []cost
	err    error
}

// layers are regular expressions over function names (pprof -focus) naming
// the parts of a request's cost, in report order.
var layers = []struct{ name, focus string }{
	{"TLS records and handshakes", `^crypto/tls\.`},
	{"system calls (socket I/O, fsync)", `^(syscall|internal/poll)\.`},
	{"TTLV codec", `/adapters/transport/ttlv\.`},
	{"application (app)", `/kmipd/app\.`},
	{"storage adapter", `/adapters/storage/`},
	{"SQLite / bbolt engine", `^(modernc\.org/sqlite|go\.etcd\.io/bbolt)`},
	{"key-material crypto", `/adapters/crypto/`},
	{"garbage collector", `^runtime\.gcBgMarkWorker`},
}

var (
	totalRe = regexp.MustCompile(`Duration: .*, Total samples = ([0-9.]+)(ms|s)`)
	// rowRe is a row of pprof -top: flat, flat%, sum%, cum, cum%, name.
	rowRe = regexp.MustCompile(`^\s*[0-9.]+(?:ms|s)?\s+([0-9.]+)%\s+[0-9.]+%\s+[0-9.]+(?:ms|s)?\s+([0-9.]+)%\s+(.+)$`)
)

// summarizeProfile runs `go tool pprof -top` over file: once for the top
// three functions by their own time, then once per layer with a focus,
// whose first row under -cum (the goroutines' root) holds the share of the
// samples that pass through that layer. Layers overlap: socket I/O runs
// under TLS, SQLite under the storage adapter.
func summarizeProfile(ctx context.Context, file string) profileSummary {
	s := profileSummary{file: file}
	out, err := pprofTop(ctx, file, "-nodecount=3")
	if err != nil {
		s.err = err
		return s
	}
	for _, l := range strings.Split(out, "\n") {
		if m := totalRe.FindStringSubmatch(l); m != nil {
			s.total = parseDur(m[1], m[2])
		}
		if m := rowRe.FindStringSubmatch(l); m != nil {
			pct, _ := strconv.ParseFloat(m[1], 64)
			s.top = append(s.top, cost{strings.TrimSpace(m[3]), pct / 100})
		}
	}
	if s.total == 0 {
		return s
	}
	for _, ly := range layers {
		out, err := pprofTop(ctx, file, "-cum", "-nodecount=1", "-focus="+ly.focus)
		if err != nil {
			continue
		}
		frac := 0.0
		for _, l := range strings.Split(out, "\n") {
			if m := rowRe.FindStringSubmatch(l); m != nil {
				pct, _ := strconv.ParseFloat(m[2], 64)
				frac = pct / 100
				break
			}
		}
		s.layers = append(s.layers, cost{ly.name, frac})
	}
	return s
}

func pprofTop(ctx context.Context, file string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", append(append([]string{"tool", "pprof", "-top"}, args...), file)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go tool pprof: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func parseDur(v, unit string) time.Duration {
	f, _ := strconv.ParseFloat(v, 64)
	if unit == "s" {
		return time.Duration(f * float64(time.Second))
	}
	return time.Duration(f * float64(time.Millisecond))
}
