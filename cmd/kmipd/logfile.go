package main

import (
	"expvar"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// logEventsDropped counts the log events that could not be written since
// kmipd started; it is served with the other expvar variables on
// server.pprof_address (/debug/vars).
var logEventsDropped = expvar.NewInt("kmipd_log_events_dropped")

// appendFile is the part of *os.File (opened O_APPEND) that logFile uses.
type appendFile interface {
	io.Writer
	io.Seeker
	Truncate(size int64) error
}

// logFile writes log events, one whole line per Write, to a file, and keeps
// the file made of whole lines when the disk is full or failing: a write
// that fails part-way is undone by truncating the file back to where the
// line began, the event is counted as dropped (logEventsDropped), and once a
// write succeeds again, a line saying how many events were dropped comes
// first. Each run of failures is reported with one line on stderr, not one
// per event. It is safe for concurrent use.
type logFile struct {
	f      appendFile
	path   string
	stderr io.Writer
	now    func() time.Time

	mu      sync.Mutex
	dropped int64 // events dropped since the last successful write
	broken  bool  // a failed write left a partial line that could not be removed
}

func newLogFile(f appendFile, path string, stderr io.Writer) *logFile {
	return &logFile{f: f, path: path, stderr: stderr, now: time.Now}
}

// Write writes p, one log event ending in a newline. It never returns an
// error: an event that cannot be written is counted and dropped, so that the
// logger does not report each one on stderr.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dropped > 0 {
		if err := l.writeLine(l.droppedNote()); err != nil {
			l.drop(err)
			return len(p), nil
		}
		l.dropped = 0
	}
	if err := l.writeLine(p); err != nil {
		l.drop(err)
	}
	return len(p), nil
}

// droppedNote is the log line saying how many events were dropped.
func (l *logFile) droppedNote() []byte {
	return fmt.Appendf(nil, `{"level":"warn","dropped_events":%d,"time":%q,"message":"log events were dropped: the log file could not be written"}`+"\n",
		l.dropped, l.now().Format(time.RFC3339))
}

// writeLine appends line whole or not at all, as far as the file allows.
func (l *logFile) writeLine(line []byte) error {
	start, err := l.f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if l.broken {
		// End the partial line left by an earlier failure on its own.
		line = append([]byte("\n"), line...)
	}
	n, err := l.f.Write(line)
	if err == nil {
		l.broken = false
		return nil
	}
	if n > 0 && l.f.Truncate(start) != nil {
		l.broken = true
	}
	return err
}

// drop counts one dropped event; the first of a run is reported on stderr.
func (l *logFile) drop(err error) {
	if l.dropped == 0 {
		fmt.Fprintf(l.stderr, "kmipd: log file %s cannot be written (%v); dropping log events until it can, then logging how many\n",
			l.path, err)
	}
	l.dropped++
	logEventsDropped.Add(1)
}

// Reopen opens the log path afresh (a new file after logrotate moved the
// old one away) and writes there from now on; on failure the old file stays
// in use and the error is returned.
func (l *logFile) Reopen() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.f
	l.f, l.broken = f, false
	l.mu.Unlock()
	if c, ok := old.(io.Closer); ok {
		c.Close()
	}
	return nil
}

// Close reports on stderr the events dropped since the last successful
// write, if the log file still cannot take the line, and closes the file.
func (l *logFile) Close() error {
	l.mu.Lock()
	if n := l.dropped; n > 0 {
		if l.writeLine(l.droppedNote()) != nil {
			fmt.Fprintf(l.stderr, "kmipd: %d log events were dropped: log file %s could not be written\n", n, l.path)
		}
		l.dropped = 0
	}
	l.mu.Unlock()
	if c, ok := l.f.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
