package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/ports"
)

// DefaultPollInterval is how often Run looks at the policy directory when
// Options.PollInterval is zero (PyKMIP's monitor also looks once a second).
const DefaultPollInterval = time.Second

// MaxFileSize is the largest policy file read; a larger one is refused like an
// unreadable file. PyKMIP's example policy file is about 10 KiB.
const MaxFileSize = 4 << 20

// Options configure a Dir.
type Options struct {
	// PollInterval is the pause between two scans in Run. Zero means
	// DefaultPollInterval.
	PollInterval time.Duration
	// Log receives one line per file and policy loaded, replaced, restored
	// or removed, and per file that could not be read; the zero Logger
	// discards them.
	Log zerolog.Logger
}

// Dir is the set of operation policies defined by the *.json files of a
// directory, plus the reserved "default" and "public" policies, which files
// cannot redefine. Scan brings it up to date; Run scans periodically, so that
// files added, changed or removed while kmipd serves take effect without a
// restart. When several files define the same policy name, the most recently
// loaded definition is in force and the older ones are kept: removing the
// newer one (or the file) restores the previous definition. A file that
// cannot be read or parsed is logged and skipped, and the policies it last
// defined successfully stay in force. Dir is safe for concurrent use.
type Dir struct {
	path     string
	interval time.Duration
	log      zerolog.Logger

	scanMu sync.Mutex // one scan at a time
	files  map[string]fileState

	mu   sync.RWMutex
	defs map[string][]definition // by policy name, oldest first
}

var _ ports.PolicySource = (*Dir)(nil)

// fileState is what the last scan saw of a file.
type fileState struct {
	mtime   time.Time
	size    int64
	sum     [32]byte
	checked time.Time // when the file was last read
	failed  bool      // the last read failed
}

// definition is one file's definition of a policy name; a name's
// definitions are kept in load order.
type definition struct {
	file   string
	policy *domain.Policy
}

// Open returns the policies of the directory at path after a first scan. The
// directory must exist; files that fail to load are logged, not fatal.
func Open(path string, o Options) (*Dir, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, errors.New("not a directory")
	}
	d := &Dir{path: path, interval: o.PollInterval, log: o.Log, files: map[string]fileState{}, defs: map[string][]definition{}}
	if d.interval <= 0 {
		d.interval = DefaultPollInterval
	}
	d.Scan()
	return d, nil
}

// Policy returns the named policy: the built-in one for "default" and
// "public", otherwise the definition in force. The returned policy is shared
// and must not be modified.
func (d *Dir) Policy(_ context.Context, name string) (*domain.Policy, bool) {
	if p := domain.SharedReservedPolicy(name); p != nil {
		return p, true
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	defs := d.defs[name]
	if len(defs) == 0 {
		return nil, false
	}
	return defs[len(defs)-1].policy, true
}

// Names returns the names of the policies loaded from files, sorted.
func (d *Dir) Names() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return sortedNames(d.defs)
}

// Run scans the directory every PollInterval until ctx ends.
func (d *Dir) Run(ctx context.Context) {
	t := time.NewTicker(d.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.Scan()
		}
	}
}

// Scan brings the policies up to date with the directory: files that
// disappeared lose their definitions, new and changed files are (re)loaded in
// name order. A file is read again when its size or modification time
// changed, when that time is too recent to rule out an unnoticed change
// within the file system's timestamp granularity, or when its last read
// failed; it is reloaded only when its content changed.
func (d *Dir) Scan() {
	d.scanMu.Lock()
	defer d.scanMu.Unlock()
	now := time.Now()
	entries, err := os.ReadDir(d.path)
	if err != nil {
		// Keep the policies in force: a directory that vanished for a
		// moment must not revoke every grant.
		d.log.Error().Err(err).Str("policy_path", d.path).Msg("policy directory unreadable; keeping the loaded policies")
		return
	}
	present := map[string]bool{}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		f := filepath.Join(d.path, e.Name())
		present[f] = true
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range sortedNames(d.files) {
		if !present[f] {
			d.log.Info().Str("file", f).Msg("removing policies for file")
			delete(d.files, f)
			d.replace(f, nil)
		}
	}
	for _, f := range names {
		fi, err := os.Stat(f)
		if errors.Is(err, fs.ErrNotExist) {
			// Removed meanwhile, or a symbolic link whose target is
			// gone: either way the file no longer defines policies.
			if _, seen := d.files[f]; seen {
				d.log.Info().Str("file", f).Msg("removing policies for file")
				delete(d.files, f)
				d.replace(f, nil)
			}
			continue
		}
		if err != nil {
			continue // e.g. a link loop; its last good policies stay
		}
		old, seen := d.files[f]
		racy := !old.checked.After(old.mtime.Add(2 * time.Second))
		if seen && fi.Size() == old.size && fi.ModTime().Equal(old.mtime) && !racy && !old.failed {
			continue
		}
		data, err := readPolicyFile(f, fi)
		if err != nil {
			// Remember the attempt, so that an unreadable file is
			// logged again only once it changes.
			d.files[f] = fileState{mtime: fi.ModTime(), size: fi.Size(), sum: old.sum, checked: now, failed: true}
			if !old.failed || fi.Size() != old.size || !fi.ModTime().Equal(old.mtime) {
				d.log.Error().Err(err).Str("file", f).Msg("failure loading policy file; keeping its last good policies")
			}
			continue
		}
		st := fileState{mtime: fi.ModTime(), size: fi.Size(), sum: sha256.Sum256(data), checked: now}
		d.files[f] = st
		if seen && bytes.Equal(st.sum[:], old.sum[:]) {
			continue
		}
		d.log.Info().Str("file", f).Msg("loading policies for file")
		parsed, err := Parse(data)
		if err != nil {
			d.log.Error().Str("file", f).Str("error", err.Error()).Msg("failure loading policy file; keeping its last good policies")
			continue
		}
		for _, name := range sortedNames(parsed) {
			if domain.IsReservedPolicy(name) {
				d.log.Warn().Str("file", f).Str("policy", name).Msg("policy overwrites a reserved policy and will be thrown out")
				delete(parsed, name)
			}
		}
		d.replace(f, parsed)
	}
}

// ReadFile reads the policy file f with the limits a scan applies (see
// readPolicyFile), for tools that check files as the server would load them.
func ReadFile(f string) ([]byte, error) {
	fi, err := os.Stat(f)
	if err != nil {
		return nil, err
	}
	return readPolicyFile(f, fi)
}

// readPolicyFile reads f, which Stat described as fi, if it is a regular file
// (symbolic links followed) of at most MaxFileSize bytes. Anything else — a
// FIFO that would block the scan, a device that never ends, a file that grew
// too large — is an error, so the scan treats it as an unreadable file.
func readPolicyFile(f string, fi os.FileInfo) ([]byte, error) {
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("%d bytes, more than the %d a policy file may have", fi.Size(), MaxFileSize)
	}
	file, err := os.Open(f)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	// Check the opened file too: f may have been replaced since Stat.
	if ofi, err := file.Stat(); err != nil {
		return nil, err
	} else if !ofi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", ofi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(file, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("more than the %d bytes a policy file may have", MaxFileSize)
	}
	return data, nil
}

// replace makes parsed the definitions of file f (nil: none): f's earlier
// definitions go, its new ones become the most recent of their names, and a
// name whose newest definition went falls back to the previous one.
func (d *Dir) replace(f string, parsed map[string]*domain.Policy) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, name := range sortedNames(d.defs) {
		defs := d.defs[name]
		wasActive := defs[len(defs)-1].file == f
		kept := defs[:0:0]
		for _, def := range defs {
			if def.file != f {
				kept = append(kept, def)
			}
		}
		_, redefined := parsed[name]
		switch {
		case len(kept) == 0:
			delete(d.defs, name)
			if !redefined {
				d.log.Info().Str("policy", name).Msg("removing policy")
			}
		case wasActive && !redefined:
			d.defs[name] = kept
			d.log.Info().Str("policy", name).Str("file", kept[len(kept)-1].file).Msg("restoring policy")
		default:
			d.defs[name] = kept
		}
	}
	for _, name := range sortedNames(parsed) {
		if prev := d.defs[name]; len(prev) > 0 {
			d.log.Warn().Str("policy", name).Str("file", f).Str("previous_file", prev[len(prev)-1].file).
				Msg("policy overwrites an existing policy; the older one is kept and restored if this one goes")
		} else {
			d.log.Info().Str("policy", name).Str("file", f).Msg("loading policy")
		}
		d.defs[name] = append(d.defs[name], definition{file: f, policy: parsed[name]})
	}
}
