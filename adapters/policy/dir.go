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
	"runtime/debug"
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

// Defaults for the caps on everything loaded from a directory.
const (
	// DefaultMaxPolicies caps the policy definitions loaded from all files,
	// those shadowed by a newer definition of the same name included.
	DefaultMaxPolicies = 10000
	// DefaultMaxTotalSize caps the bytes of all the files whose policies
	// are loaded.
	DefaultMaxTotalSize = 16 << 20
)

// freeMemoryAfter is how many definitions a scan must remove before it asks
// the Go runtime to return the freed memory to the operating system at once.
const freeMemoryAfter = 1000

// Options configure a Dir.
type Options struct {
	// PollInterval is the pause between two scans in Run. Zero means
	// DefaultPollInterval.
	PollInterval time.Duration
	// MaxPolicies caps the policy definitions loaded from all files (those
	// shadowed by a newer definition included); a file that would take the
	// count over it is refused whole. Zero means DefaultMaxPolicies.
	MaxPolicies int
	// MaxTotalSize caps the bytes of all the files whose policies are
	// loaded; a file that would take the total over it is refused whole.
	// Zero means DefaultMaxTotalSize.
	MaxTotalSize int64
	// Log receives one line per file loaded, refused or removed (with
	// counts, not one line per policy), and per file that could not be
	// read; the zero Logger discards them.
	Log zerolog.Logger
	// OnLoad, when set, is told of every attempt to load a changed file:
	// nil when its policies took effect, the reason when they did not
	// (metrics). It must not block.
	OnLoad func(err error)
}

// Dir is the set of operation policies defined by the *.json files of a
// directory, plus the reserved "default" and "public" policies, which files
// cannot redefine. Scan brings it up to date; Run scans periodically, so that
// files added, changed or removed while kmipd serves take effect without a
// restart. When several files define the same policy name, the most recently
// loaded definition is in force and the older ones are kept: removing the
// newer one (or the file) restores the previous definition. A file that
// cannot be read or parsed is logged and skipped, and the policies it last
// defined successfully stay in force; so do they when a changed file is
// refused because the policies of all files would exceed MaxPolicies or
// MaxTotalSize. Dir is safe for concurrent use.
type Dir struct {
	onLoad    func(err error)
	path      string
	interval  time.Duration
	log       zerolog.Logger
	maxCount  int
	maxTotal  int64
	scanMu    sync.Mutex // one scan at a time; guards the fields below it up to mu
	files     map[string]fileState
	count     int   // definitions loaded, from all files
	totalSize int64 // bytes of the files whose definitions are loaded
	removed   int   // definitions removed or replaced by the current scan
	freed     int   // counts the times count or totalSize went down

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
	refused bool      // its content would exceed the caps
	// refusedAt is Dir.freed when the file was refused; it is retried
	// once room was freed since.
	refusedAt int
	// loaded are the names the file's loaded definitions have (in force
	// or shadowed), and loadedSize the size of the file they came from.
	loaded     []string
	loadedSize int64
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
	d := &Dir{path: path, interval: o.PollInterval, log: o.Log, onLoad: o.OnLoad, maxCount: o.MaxPolicies, maxTotal: o.MaxTotalSize,
		files: map[string]fileState{}, defs: map[string][]definition{}}
	if d.interval <= 0 {
		d.interval = DefaultPollInterval
	}
	if d.maxCount <= 0 {
		d.maxCount = DefaultMaxPolicies
	}
	if d.maxTotal <= 0 {
		d.maxTotal = DefaultMaxTotalSize
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
// within the file system's timestamp granularity, when its last read
// failed, or when it was refused for the caps and this scan freed room; it
// is reloaded only when its content changed or it was refused.
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
	d.removed = 0
	for _, f := range sortedNames(d.files) {
		if !present[f] {
			d.forget(f)
		}
	}
	for _, f := range names {
		d.scanFile(f, now)
	}
	if d.removed >= freeMemoryAfter {
		// The runtime would return the memory over minutes; a large
		// removal is rare enough to pay for a collection now.
		debug.FreeOSMemory()
	}
}

// scanFile loads file f if it is new or changed (see Scan).
func (d *Dir) scanFile(f string, now time.Time) {
	fi, err := os.Stat(f)
	if errors.Is(err, fs.ErrNotExist) {
		// Removed meanwhile, or a symbolic link whose target is gone:
		// either way the file no longer defines policies.
		if _, seen := d.files[f]; seen {
			d.forget(f)
		}
		return
	}
	if err != nil {
		return // e.g. a link loop; its last good policies stay
	}
	old, seen := d.files[f]
	racy := !old.checked.After(old.mtime.Add(2 * time.Second))
	changed := !seen || fi.Size() != old.size || !fi.ModTime().Equal(old.mtime) || racy || old.failed
	if !changed && !(old.refused && d.freed > old.refusedAt) {
		return
	}
	data, err := readPolicyFile(f, fi)
	if err != nil {
		// Remember the attempt, so that an unreadable file is logged
		// again only once it changes.
		st := old
		st.mtime, st.size, st.checked, st.failed = fi.ModTime(), fi.Size(), now, true
		d.files[f] = st
		if !old.failed || fi.Size() != old.size || !fi.ModTime().Equal(old.mtime) {
			d.log.Error().Err(err).Str("file", f).Msg("failure loading policy file; keeping its last good policies")
		}
		d.loaded(err)
		return
	}
	st := old
	st.mtime, st.size, st.sum, st.checked, st.failed = fi.ModTime(), fi.Size(), sha256.Sum256(data), now, false
	d.files[f] = st
	sameContent := seen && bytes.Equal(st.sum[:], old.sum[:])
	if sameContent && !old.refused {
		return
	}
	parsed, err := Parse(data)
	if err != nil {
		d.log.Error().Str("file", f).Str("error", err.Error()).Msg("failure loading policy file; keeping its last good policies")
		d.loaded(err)
		return
	}
	for _, name := range sortedNames(parsed) {
		if domain.IsReservedPolicy(name) {
			d.log.Warn().Str("file", f).Str("policy", name).Msg("policy overwrites a reserved policy and will be thrown out")
			delete(parsed, name)
		}
	}
	d.load(f, &st, parsed, !(sameContent && old.refused))
	d.files[f] = st
}

// load makes parsed the definitions of file f, whose state is st, unless
// they would take the policies over the caps; then the file is refused, and
// logged if logRefusal.
func (d *Dir) load(f string, st *fileState, parsed map[string]*domain.Policy, logRefusal bool) {
	count := d.count - len(st.loaded) + len(parsed)
	total := d.totalSize - st.loadedSize + st.size
	if count > d.maxCount || total > d.maxTotal {
		st.refused, st.refusedAt = true, d.freed
		if logRefusal {
			d.log.Error().Str("file", f).Int("policies", len(parsed)).Int64("size", st.size).
				Int("loaded_policies", d.count).Int("max_policies", d.maxCount).
				Int64("loaded_size", d.totalSize).Int64("max_total_size", d.maxTotal).
				Msg("policy file refused: its policies would exceed max_policies or max_total_size; keeping its last good policies")
		}
		d.loaded(errors.New("policy file over max_policies or max_total_size"))
		return
	}
	st.refused = false
	res := d.replace(f, st.loaded, parsed)
	d.setTotals(count, total)
	st.loaded, st.loadedSize = sortedNames(parsed), st.size
	ev := d.log.Info()
	msg := "loading policies for file"
	if len(res.overwritten) > 0 {
		ev = d.log.Warn().Int("overwritten", len(res.overwritten)).Strs("overwritten_policies", firstNames(res.overwritten))
		msg = "loading policies for file; each of overwritten_policies overwrites an existing policy, which is kept and restored if the newer one goes"
	}
	ev.Str("file", f).Int("policies", len(parsed)).Int("removed", res.removed).Int("restored", res.restored).Msg(msg)
	d.loaded(nil)
}

// loaded reports one load attempt to Options.OnLoad.
func (d *Dir) loaded(err error) {
	if d.onLoad != nil {
		d.onLoad(err)
	}
}

// forget drops file f and its definitions.
func (d *Dir) forget(f string) {
	st := d.files[f]
	delete(d.files, f)
	res := d.replace(f, st.loaded, nil)
	d.setTotals(d.count-len(st.loaded), d.totalSize-st.loadedSize)
	d.log.Info().Str("file", f).Int("removed", res.removed).Int("restored", res.restored).Msg("removing policy file: its policies go, older definitions of their names come back")
}

// setTotals records the definitions and bytes loaded, noting when room was
// freed for refused files.
func (d *Dir) setTotals(count int, total int64) {
	if count < d.count || total < d.totalSize {
		d.freed++
	}
	d.count, d.totalSize = count, total
}

// logNames is how many policy names a log line lists at most.
const logNames = 10

// firstNames returns the first logNames of names.
func firstNames(names []string) []string {
	return names[:min(len(names), logNames)]
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

// replaced counts what replace changed: names that lost their last
// definition, names whose definition in force went back to an older one,
// and names given a newer definition over an existing one.
type replaced struct {
	removed, restored int
	overwritten       []string
}

// replace makes parsed the definitions of file f (nil: none) instead of
// those of the names in old: f's earlier definitions go, its new ones become
// the most recent of their names, and a name whose newest definition went
// falls back to the previous one. When names lose their last definition the
// map is rebuilt, because a Go map never shrinks.
func (d *Dir) replace(f string, old []string, parsed map[string]*domain.Policy) replaced {
	var res replaced
	d.mu.Lock()
	defer d.mu.Unlock()
	deleted := false
	for _, name := range old {
		defs := d.defs[name]
		if len(defs) == 0 {
			continue
		}
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
			deleted = true
			if !redefined {
				res.removed++
			}
		case wasActive && !redefined:
			d.defs[name] = kept
			res.restored++
		default:
			d.defs[name] = kept
		}
	}
	d.removed += len(old)
	if deleted {
		fresh := make(map[string][]definition, len(d.defs)+len(parsed))
		for name, defs := range d.defs {
			fresh[name] = defs
		}
		d.defs = fresh
	}
	for _, name := range sortedNames(parsed) {
		if len(d.defs[name]) > 0 {
			res.overwritten = append(res.overwritten, name)
		}
		d.defs[name] = append(d.defs[name], definition{file: f, policy: parsed[name]})
	}
	return res
}
