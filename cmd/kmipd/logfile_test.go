package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fullDisk is an append-only file that holds at most room bytes: a write
// past it writes what fits and fails with ENOSPC, as write(2) does.
type fullDisk struct {
	data     []byte
	room     int
	noShrink bool // Truncate fails
}

func (d *fullDisk) Write(p []byte) (int, error) {
	n := min(len(p), max(d.room-len(d.data), 0))
	d.data = append(d.data, p[:n]...)
	if n < len(p) {
		return n, &writeError{syscall.ENOSPC}
	}
	return n, nil
}

type writeError struct{ errno syscall.Errno }

func (e *writeError) Error() string { return "write kmipd.log: " + e.errno.Error() }

func (d *fullDisk) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekEnd {
		return 0, errors.New("unsupported seek")
	}
	return int64(len(d.data)), nil
}

func (d *fullDisk) Truncate(size int64) error {
	if d.noShrink {
		return &writeError{syscall.EIO}
	}
	d.data = d.data[:size]
	return nil
}

// checkWholeLines fails unless data is JSON objects, one a line.
func checkWholeLines(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("the log ends in a partial line: %q", data[bytes.LastIndexByte(data, '\n')+1:])
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// When the disk fills, events are dropped whole (no partial line stays),
// counted, reported once on stderr, and the count is logged first once the
// disk has room again.
func TestLogFileOnFullDisk(t *testing.T) {
	disk := &fullDisk{room: 300}
	var stderr bytes.Buffer
	lf := newLogFile(disk, "kmipd.log", &stderr)
	log := zerolog.New(lf).With().Timestamp().Logger()
	before := logEventsDropped.Value()
	for i := range 20 {
		log.Info().Int("i", i).Msg("an event of some length to fill the disk")
	}
	lines := checkWholeLines(t, disk.data)
	written := len(lines)
	if written == 0 || written == 20 {
		t.Fatalf("%d of 20 events written to a 300-byte disk", written)
	}
	if got := logEventsDropped.Value() - before; got != int64(20-written) {
		t.Errorf("kmipd_log_events_dropped grew by %d, want %d", got, 20-written)
	}
	if n := strings.Count(stderr.String(), "\n"); n != 1 || !strings.Contains(stderr.String(), "kmipd.log cannot be written") {
		t.Errorf("stderr has %d lines, want one about the log file:\n%s", n, stderr.String())
	}

	disk.room = 1 << 20 // space freed
	log.Info().Msg("after")
	lines = checkWholeLines(t, disk.data)
	if len(lines) != written+2 {
		t.Fatalf("%d lines after the disk had room again, want %d", len(lines), written+2)
	}
	note, last := lines[written], lines[written+1]
	if note["dropped_events"] != float64(20-written) || note["level"] != "warn" {
		t.Errorf("the line after the failures is %v, want a warning with dropped_events %d", note, 20-written)
	}
	if _, err := time.Parse(time.RFC3339, note["time"].(string)); err != nil {
		t.Errorf("note time: %v", err)
	}
	if last["message"] != "after" {
		t.Errorf("last line %v, want the event after the failures", last)
	}
	if strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("stderr grew after the disk had room again:\n%s", stderr.String())
	}
}

// Events dropped when kmipd stops with the disk still full are reported
// on stderr at close.
func TestLogFileCloseReportsDrops(t *testing.T) {
	disk := &fullDisk{room: 0}
	var stderr bytes.Buffer
	lf := newLogFile(disk, "kmipd.log", &stderr)
	log := zerolog.New(lf)
	for range 3 {
		log.Info().Msg("lost")
	}
	if err := lf.Close(); err != nil {
		t.Fatal(err)
	}
	if len(disk.data) != 0 {
		t.Errorf("a full disk got %q", disk.data)
	}
	if !strings.Contains(stderr.String(), "3 log events were dropped") {
		t.Errorf("stderr = %q, want the count of dropped events", stderr.String())
	}
}

// A partial line that cannot be truncated away is ended by a newline before
// the next line, so that every later event is a line of its own.
func TestLogFileEndsPartialLineItCannotRemove(t *testing.T) {
	disk := &fullDisk{room: 10, noShrink: true}
	log := zerolog.New(newLogFile(disk, "kmipd.log", io.Discard))
	log.Info().Msg("cut short")
	disk.room = 1 << 20
	log.Info().Msg("whole")
	lines := strings.Split(string(disk.data), "\n")
	if len(lines) != 4 || len(lines[0]) != 10 || lines[3] != "" {
		t.Fatalf("log = %q, want the 10-byte fragment, the dropped note and the event on lines of their own", disk.data)
	}
	checkWholeLines(t, []byte(lines[1]+"\n"+lines[2]+"\n"))
}
