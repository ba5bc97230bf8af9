package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
)

// ops are the operations the load generator runs, in report order.
var ops = []string{"create", "get", "create-get-destroy", "encrypt", "locate", "query"}

// loadSpec is one load: an operation run by Conns workers, each on its own
// persistent connection (or a new connection per message with NewConn),
// for Duration or until MaxOps operations succeeded.
type loadSpec struct {
	Addr string
	// Addrs, when set, replaces Addr: worker i connects to Addrs[i mod
	// len(Addrs)], spreading the connections evenly over several servers
	// (nodes sharing one store).
	Addrs    []string
	TLS      *tls.Config
	Op       string
	Conns    int
	Duration time.Duration
	// MaxOps stops the load once this many operations succeeded; 0 means
	// no cap.
	MaxOps int64
	// Batch is the number of operations per request message (k batch
	// items; three per create-get-destroy).
	Batch int
	Proto protocol
	// NewConn opens a TLS connection (full handshake, no resumption) per
	// request message and closes it after the response.
	NewConn bool
	// NoVerify skips the generator's verification of the server's
	// certificate chain, which costs the generator more CPU than a whole
	// handshake costs the server; the server still verifies the client's.
	// Only for measuring handshake rates.
	NoVerify bool
	// Resume, with NewConn, keeps the session tickets servers send and
	// offers them on the next connections (TLS session resumption).
	Resume bool
	// Alternate, with NewConn and several Addrs, sends each worker's
	// connections to Addrs in turn, and with Resume gives each worker a
	// session cache of its own: every resumption is then on another
	// server than the one that sent the ticket (nodes sharing ticket keys).
	Alternate bool
	// LocateNames is how many distinct names the locate setup creates;
	// Names, if set, are looked up instead and nothing is created.
	LocateNames int
	Names       []string
	// NamePrefix names the keys of the internal "create-named" operation
	// (the Locate-at-scale loader): NamePrefix followed by 0, 1, 2...
	NamePrefix string
	seq        atomic.Int64
	// locateReqs are the Locate request messages, one per name, encoded
	// once and shared read-only by the workers.
	locateReqs [][]byte
	// OnMeasure, if set, is called when the measurement starts (after setup).
	OnMeasure func()
	// HTTPS, when set, posts the messages to https://Addr/kmip in that
	// encoding ("ttlv" or "json", https.go) instead of using the TTLV port.
	HTTPS string
	// Progress, if set, receives a progress line every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// result is what one load measured. An operation counts only when every
// batch item it consists of succeeded; failed items are counted apart and
// never as operations. Latencies are per request message, from sending it
// to having read the whole response (dial and handshake included with
// NewConn).
type result struct {
	Op      string
	Conns   int
	Batch   int
	NewConn bool
	Resume  bool
	Ops     int64
	// Resumed counts the connections whose handshake resumed a session.
	Resumed     int64
	FailedItems int64
	// ConnErrors counts round trips that failed below KMIP (dial, TLS,
	// framing, timeouts).
	ConnErrors int64
	Messages   int64
	Elapsed    time.Duration
	P50, P90   time.Duration
	P99, Max   time.Duration
	// FirstFailure describes the first failed item or round trip.
	FirstFailure string
	// GenCPU is the CPU time (user and system) the load generator's process
	// spent over the measurement, or -1 if unknown.
	GenCPU time.Duration
}

// GenCPUPerOp is the load generator's CPU time per successful operation.
func (r result) GenCPUPerOp() time.Duration {
	if r.Ops == 0 || r.GenCPU < 0 {
		return 0
	}
	return r.GenCPU / time.Duration(r.Ops)
}

// OpsPerSec is the rate of successful operations.
func (r result) OpsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

func (r result) String() string {
	mode := ""
	if r.NewConn {
		mode = " new-conn"
	}
	if r.Resume {
		mode += fmt.Sprintf(" resume (%d resumed)", r.Resumed)
	}
	s := fmt.Sprintf("%-18s conns=%-3d batch=%d%s: %8.0f ops/s  p50=%v p90=%v p99=%v max=%v  ops=%d failed_items=%d conn_errors=%d generator_cpu/op=%v",
		r.Op, r.Conns, r.Batch, mode, r.OpsPerSec(), r.P50, r.P90, r.P99, r.Max, r.Ops, r.FailedItems, r.ConnErrors, r.GenCPUPerOp())
	if r.FirstFailure != "" {
		s += "\n    first failure: " + r.FirstFailure
	}
	return s
}

// worker is one connection's loop state.
type worker struct {
	spec    *loadSpec
	id      int
	addr    string // the server this worker connects to
	conn    *rawConn
	keyID   string   // get, encrypt: the worker's own key
	names   []string // locate: the names to look up
	reqs    [][]byte // the operation's request messages, encoded once; used in turn
	ivOff   int      // encrypt: offset of the IV in reqs[0], rewritten per message
	per     int      // batch items per operation
	st      []kmip.ResultStatus
	n       int
	lat     []time.Duration
	ops     int64
	failed  int64
	connEr  int64
	msgs    int64
	resumed int64
	first   string
	hc      *http.Client // the HTTPS mode's connection

	tls    *tls.Config // spec.TLS, or the worker's own with Alternate and Resume
	nconns int         // connections opened, for Alternate
}

func (w *worker) fail(format string, args ...any) {
	if w.first == "" {
		w.first = fmt.Sprintf(format, args...)
	}
}

func (w *worker) dial(ctx context.Context) (*rawConn, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if s := w.spec; s.Alternate && len(s.Addrs) > 1 {
		w.addr = s.Addrs[(w.id+w.nconns)%len(s.Addrs)]
	}
	w.nconns++
	c, err := dialRaw(dctx, w.addr, w.tls)
	if err != nil {
		return nil, err
	}
	if c.conn.ConnectionState().DidResume {
		w.resumed++
	}
	return c, nil
}

// send runs one encoded request message on the worker's connection,
// reconnecting first if the last one broke (or for every message with
// NewConn), and returns the response's bytes, valid until the next call.
func (w *worker) send(ctx context.Context, msg []byte) ([]byte, error) {
	if w.spec.HTTPS != "" {
		return w.httpsSend(ctx, msg)
	}
	c := w.conn
	if c == nil || w.spec.NewConn {
		var err error
		if c, err = w.dial(ctx); err != nil {
			return nil, err
		}
		if w.spec.NewConn {
			defer c.Close()
		} else {
			w.conn = c
		}
	}
	resp, err := c.roundTrip(msg)
	if err != nil && !w.spec.NewConn {
		w.conn = nil
	}
	return resp, err
}

// call runs one request message of items and decodes its response fully:
// the setup path.
func (w *worker) call(ctx context.Context, items []*kmip.Item) ([]kmipclient.Result, error) {
	resp, err := w.send(ctx, encodeRequest(w.spec.Proto, items...))
	if err != nil {
		return nil, err
	}
	res, err := decodeResults(resp)
	if err == nil && len(res) != len(items) {
		err = fmt.Errorf("%d batch items answered, %d sent", len(res), len(items))
	}
	return res, err
}

// one calls one single-item operation during setup.
func (w *worker) one(ctx context.Context, item *kmip.Item) (*kmip.Item, error) {
	res, err := w.call(ctx, []*kmip.Item{item})
	if err != nil {
		return nil, err
	}
	return res[0].Payload, res[0].Err
}

// createKey creates an AES key, activates it when asked, and returns its id.
func (w *worker) createKey(ctx context.Context, mask kmip.CryptographicUsageMask, name string, activate bool) (string, error) {
	out, err := w.one(ctx, w.spec.Proto.createAES(mask, name))
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	id, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
	if id == "" {
		return "", errors.New("create: no Unique Identifier in the response")
	}
	if activate {
		if _, err := w.one(ctx, byID(kmip.OperationActivate, id)); err != nil {
			return "", fmt.Errorf("activate: %w", err)
		}
	}
	return id, nil
}

// setup prepares what the worker's operation needs. On a persistent
// connection it first completes one Query, so that the measurement starts
// with a server that answers (PyKMIP may still be busy with an earlier cell).
func (w *worker) setup(ctx context.Context) error {
	if !w.spec.NewConn {
		if _, err := w.one(ctx, query()); err != nil {
			return fmt.Errorf("warm-up query: %w", err)
		}
	}
	switch w.spec.Op {
	case "get":
		id, err := w.createKey(ctx, kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, "", false)
		w.keyID = id
		if err != nil {
			return err
		}
	case "encrypt":
		id, err := w.createKey(ctx, kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, "", true)
		w.keyID = id
		if err != nil {
			return err
		}
	}
	w.prepare()
	return nil
}

var payload64 = make([]byte, 64)

// ivMarker is the IV the encrypt request is encoded with, so that its
// offset can be found and rewritten for each message.
var ivMarker = []byte("kmip-bench-iv-16")

// prepare encodes the worker's request messages once. Only create-named
// (the Locate-at-scale loader, whose names all differ) encodes per message.
func (w *worker) prepare() {
	p := w.spec.Proto
	k := max(w.spec.Batch, 1)
	w.per = 1
	if w.spec.Op == "create-get-destroy" {
		w.per = 3
	}
	batch := func(f func() []*kmip.Item) []byte {
		var items []*kmip.Item
		for range k {
			items = append(items, f()...)
		}
		return encodeRequest(p, items...)
	}
	switch w.spec.Op {
	case "create":
		w.reqs = [][]byte{batch(func() []*kmip.Item {
			return []*kmip.Item{p.createAES(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, "")}
		})}
	case "get":
		w.reqs = [][]byte{batch(func() []*kmip.Item { return []*kmip.Item{byID(kmip.OperationGet, w.keyID)} })}
	case "create-get-destroy":
		w.reqs = [][]byte{batch(func() []*kmip.Item {
			return []*kmip.Item{p.createAES(kmip.CryptographicUsageMaskEncrypt|kmip.CryptographicUsageMaskDecrypt, ""),
				byID(kmip.OperationGet, ""), byID(kmip.OperationDestroy, "")}
		})}
	case "encrypt":
		// One message per batch size, the IV of its first item rewritten per
		// message (the others keep theirs: a repeated IV costs the server the same).
		w.reqs = [][]byte{batch(func() []*kmip.Item { return []*kmip.Item{encryptCBC(w.keyID, ivMarker, payload64)} })}
		w.ivOff = bytes.Index(w.reqs[0], ivMarker)
	case "query":
		w.reqs = [][]byte{batch(func() []*kmip.Item { return []*kmip.Item{query()} })}
	case "locate":
		// One message per name, shared read-only by every worker.
		w.reqs = w.spec.locateReqs
	}
}

// next returns the next request message and the number of batch items that
// make up one operation.
func (w *worker) next() []byte {
	w.n++
	if w.spec.Op == "create-named" {
		var items []*kmip.Item
		for range max(w.spec.Batch, 1) {
			name := fmt.Sprintf("%s%d", w.spec.NamePrefix, w.spec.seq.Add(1)-1)
			items = append(items, w.spec.Proto.createAES(kmip.CryptographicUsageMaskEncrypt, name))
		}
		return encodeRequest(w.spec.Proto, items...)
	}
	msg := w.reqs[w.n%len(w.reqs)]
	if w.spec.Op == "encrypt" && w.ivOff > 0 {
		// A fresh IV per message: this worker's number and a counter.
		binary.BigEndian.PutUint64(msg[w.ivOff:], uint64(w.id))
		binary.BigEndian.PutUint64(msg[w.ivOff+8:], uint64(w.n))
	}
	return msg
}

// check counts the operations of one response: an operation succeeds when
// every batch item it consists of does. Responses holding a failure are
// decoded fully for the first failure's text.
func (w *worker) check(resp []byte, sent int) {
	var err error
	w.st, err = scanStatuses(w.st[:0], resp)
	if err == nil && len(w.st) != sent {
		err = fmt.Errorf("%d batch items answered, %d sent", len(w.st), sent)
	}
	if err != nil {
		w.connEr++
		w.fail("response: %v", err)
		return
	}
	for i := 0; i+w.per <= len(w.st); i += w.per {
		ok := true
		for _, s := range w.st[i : i+w.per] {
			if s != kmip.ResultStatusSuccess {
				ok = false
				w.failed++
			}
		}
		if ok {
			w.ops++
		} else if w.first == "" {
			res, derr := decodeResults(resp)
			for _, r := range res {
				if r.Err != nil {
					w.fail("%v", r.Err)
					break
				}
			}
			if derr != nil {
				w.fail("decoding a failed response: %v", derr)
			}
		}
	}
}

// addrOf returns the address worker i connects to: Addrs round-robin, or Addr.
func (s *loadSpec) addrOf(i int) string {
	if len(s.Addrs) > 0 {
		return s.Addrs[i%len(s.Addrs)]
	}
	return s.Addr
}

// runLoad runs spec and returns what it measured.
func runLoad(ctx context.Context, spec *loadSpec) (result, error) {
	if !slices.Contains(ops, spec.Op) && spec.Op != "create-named" {
		return result{}, fmt.Errorf("unknown operation %q (want one of %v)", spec.Op, ops)
	}
	spec.Conns = max(spec.Conns, 1)
	spec.Batch = max(spec.Batch, 1)
	if spec.Proto.major == 0 {
		spec.Proto = protocol{1, 4}
	}
	if spec.NoVerify {
		cfg := spec.TLS.Clone()
		cfg.InsecureSkipVerify = true
		spec.TLS = cfg
	}
	if spec.Resume {
		if !spec.NewConn {
			return result{}, errors.New("resumption needs a new connection per message")
		}
		cfg := spec.TLS.Clone()
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(max(64, 2*spec.Conns))
		spec.TLS = cfg
	}
	ws := make([]*worker, spec.Conns)
	for i := range ws {
		ws[i] = &worker{spec: spec, addr: spec.addrOf(i), id: i, tls: spec.TLS}
		if spec.Resume && spec.Alternate {
			ws[i].tls = spec.TLS.Clone()
			ws[i].tls.ClientSessionCache = tls.NewLRUClientSessionCache(1)
		}
	}
	names := spec.Names
	if spec.Op == "locate" && len(names) == 0 {
		var err error
		if names, err = locateSetup(ctx, ws[0], max(spec.LocateNames, 1)); err != nil {
			return result{}, fmt.Errorf("locate setup: %w", err)
		}
	}
	// Set up concurrently: each worker opens its connection and prepares.
	var wg sync.WaitGroup
	errs := make([]error, len(ws))
	if spec.Op == "locate" {
		for _, n := range names {
			items := make([]*kmip.Item, spec.Batch)
			for i := range items {
				items[i] = spec.Proto.locateByName(n)
			}
			spec.locateReqs = append(spec.locateReqs, encodeRequest(spec.Proto, items...))
		}
	}
	for i, w := range ws {
		w.names = names
		w.id = i
		w.n = i * 7919
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !spec.NewConn {
				c, err := w.dial(ctx)
				if err != nil {
					errs[i] = err
					return
				}
				w.conn = c
			}
			errs[i] = w.setup(ctx)
		}()
	}
	wg.Wait()
	defer func() {
		for _, w := range ws {
			if w.conn != nil {
				w.conn.Close()
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return result{}, fmt.Errorf("%s setup: %w", spec.Op, err)
	}

	var done atomic.Int64
	stop := make(chan struct{})
	if spec.OnMeasure != nil {
		spec.OnMeasure()
	}
	start := time.Now()
	gen0 := cpuTime(os.Getpid())
	deadline := start.Add(spec.Duration)
	if spec.Progress != nil && spec.ProgressEvery > 0 {
		go func() {
			t := time.NewTicker(spec.ProgressEvery)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case now := <-t.C:
					d := done.Load()
					fmt.Fprintf(spec.Progress, "  ... %s conns=%d: %d ops in %.0fs (%.0f ops/s)\n",
						spec.Op, spec.Conns, d, now.Sub(start).Seconds(), float64(d)/now.Sub(start).Seconds())
				}
			}
		}()
	}
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := max(w.spec.Batch, 1) * w.per
			for ctx.Err() == nil && time.Now().Before(deadline) && (spec.MaxOps == 0 || done.Load() < spec.MaxOps) {
				msg := w.next()
				t0 := time.Now()
				resp, err := w.send(ctx, msg)
				lat := time.Since(t0)
				w.msgs++
				if err != nil {
					w.connEr++
					w.fail("round trip: %v", err)
					time.Sleep(10 * time.Millisecond) // do not spin on a dead server
					continue
				}
				w.lat = append(w.lat, lat)
				before := w.ops
				w.check(resp, sent)
				done.Add(w.ops - before)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	gen := cpuTime(os.Getpid())
	if gen0 < 0 || gen < 0 {
		gen = -1
	} else {
		gen -= gen0
	}
	close(stop)

	r := result{Op: spec.Op, Conns: spec.Conns, Batch: spec.Batch, NewConn: spec.NewConn, Resume: spec.Resume, Elapsed: elapsed, GenCPU: gen}
	var lat []time.Duration
	for _, w := range ws {
		r.Ops += w.ops
		r.FailedItems += w.failed
		r.ConnErrors += w.connEr
		r.Messages += w.msgs
		r.Resumed += w.resumed
		if r.FirstFailure == "" {
			r.FirstFailure = w.first
		}
		lat = append(lat, w.lat...)
	}
	r.P50, r.P90, r.P99, r.Max = percentiles(lat)
	return r, nil
}

// locateSetup creates n keys named for this run and returns their names.
func locateSetup(ctx context.Context, w *worker, n int) ([]string, error) {
	c, err := w.dial(ctx)
	if err != nil {
		return nil, err
	}
	w.conn = c
	defer func() { w.conn.Close(); w.conn = nil }()
	var tag [6]byte
	rand.Read(tag[:])
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("bench-%x-%d", tag, i)
		if _, err := w.createKey(ctx, kmip.CryptographicUsageMaskEncrypt, names[i], false); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// percentiles returns the 50th, 90th and 99th percentiles (nearest rank)
// and the maximum of lat, which it sorts.
func percentiles(lat []time.Duration) (p50, p90, p99, mx time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(lat))+0.999999) - 1
		return lat[min(max(i, 0), len(lat)-1)]
	}
	return rank(0.50), rank(0.90), rank(0.99), lat[len(lat)-1]
}
