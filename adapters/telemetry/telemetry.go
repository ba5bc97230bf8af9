// Package telemetry keeps kmipd's Prometheus metrics and serves them: what
// an operator scrapes from the admin listener's /metrics. It measures the
// ports it decorates (the message handler, the authenticator) and counts
// the events other adapters report through plain callbacks, so that no
// adapter depends on Prometheus.
package telemetry

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Metrics is kmipd's set of collectors in a registry of its own. Every
// method is safe for concurrent use; a nil *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	batchItems    prometheus.Histogram
	undecodable   prometheus.Counter
	connections   prometheus.Gauge
	connsTotal    prometheus.Counter
	handshakeFail *prometheus.CounterVec
	authCalls     *prometheus.CounterVec
	authLatency   prometheus.Histogram
	storeCommits  prometheus.Histogram
	storeBatch    prometheus.Histogram
	policyReloads *prometheus.CounterVec
	auditFailures prometheus.Counter
}

// New registers kmipd's collectors, with Go runtime and process metrics, in
// a new registry.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kmipd_requests_total",
		Help: "Batch items answered, by KMIP operation and result (Success, or the Result Reason)."}, []string{"operation", "result"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kmipd_request_duration_seconds",
		Help:    "Time to answer one request message, by the operation of its first batch item.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"operation"})
	m.batchItems = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kmipd_batch_items",
		Help: "Batch items per request message.", Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}})
	m.undecodable = prometheus.NewCounter(prometheus.CounterOpts{Name: "kmipd_undecodable_messages_total",
		Help: "Request messages whose contents could not be decoded (answered Invalid Message)."})
	m.connections = prometheus.NewGauge(prometheus.GaugeOpts{Name: "kmipd_connections_open", Help: "Open client connections."})
	m.connsTotal = prometheus.NewCounter(prometheus.CounterOpts{Name: "kmipd_connections_total", Help: "Client connections accepted."})
	m.handshakeFail = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kmipd_tls_handshake_failures_total",
		Help: "TLS handshakes that failed or whose client was refused, by cause."}, []string{"cause"})
	m.authCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kmipd_auth_calls_total",
		Help: "Calls to the third-party authentication service (SLUGS), by result: ok, unknown_user, error."}, []string{"result"})
	m.authLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kmipd_auth_call_duration_seconds",
		Help: "Time of one call to the third-party authentication service.", Buckets: prometheus.DefBuckets})
	m.storeCommits = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kmipd_store_commit_duration_seconds",
		Help:    "Time of one store commit (one fsync, shared by the writes of a group commit).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}})
	m.storeBatch = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kmipd_store_commit_writes",
		Help: "Writes per store commit (group commit batch size).", Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128}})
	m.policyReloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kmipd_policy_reloads_total",
		Help: "Operation policy directory loads, by result: ok, error."}, []string{"result"})
	m.auditFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "kmipd_audit_write_failures_total",
		Help: "Audit records that could not be written."})
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.batchItems, m.undecodable, m.connections, m.connsTotal,
		m.handshakeFail, m.authCalls, m.authLatency, m.storeCommits, m.storeBatch, m.policyReloads, m.auditFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registry is where the metrics live, for collectors cmd adds.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ConnOpened and ConnClosed count client connections.
func (m *Metrics) ConnOpened() { m.connections.Inc(); m.connsTotal.Inc() }

// ConnClosed counts a client connection's end.
func (m *Metrics) ConnClosed() { m.connections.Dec() }

// HandshakeFailed counts a failed or refused TLS handshake by cause.
func (m *Metrics) HandshakeFailed(cause string) { m.handshakeFail.WithLabelValues(cause).Inc() }

// StoreCommitted records one store commit of n writes that took d.
func (m *Metrics) StoreCommitted(d time.Duration, n int) {
	m.storeCommits.Observe(d.Seconds())
	m.storeBatch.Observe(float64(n))
}

// PolicyLoaded counts a policy directory load.
func (m *Metrics) PolicyLoaded(err error) {
	if err != nil {
		m.policyReloads.WithLabelValues("error").Inc()
		return
	}
	m.policyReloads.WithLabelValues("ok").Inc()
}

// HSMPool reports the PKCS#11 session pool that stats describes: sessions
// in use and the pool's size (kmipd_hsm_sessions{state}) and recoveries
// (kmipd_hsm_recoveries_total), read at each scrape.
func (m *Metrics) HSMPool(stats func() (inUse, capacity int, recoveries uint64)) {
	for _, state := range []string{"in_use", "capacity"} {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kmipd_hsm_sessions",
			Help: "PKCS#11 sessions of the HSM pool, by state: in_use, capacity.", ConstLabels: prometheus.Labels{"state": state}},
			func() float64 {
				inUse, capacity, _ := stats()
				if state == "in_use" {
					return float64(inUse)
				}
				return float64(capacity)
			}))
	}
	m.CountFunc("kmipd_hsm_recoveries_total", "Times the PKCS#11 engine reopened its sessions (a lost session, login or token recovered).",
		func() uint64 { _, _, r := stats(); return r })
}

// AuditWriteFailed counts an audit record that could not be written.
func (m *Metrics) AuditWriteFailed() { m.auditFailures.Inc() }

// GaugeFunc registers a gauge whose value f reads when scraped.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// CountFunc registers a counter whose value f reads from a component that
// counts by itself (an atomic counter the app keeps, say).
func (m *Metrics) CountFunc(name, help string, f func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
		func() float64 { return float64(f()) }))
}

// MessageHandler returns h measured: every batch item of every answer is
// counted by operation and result, and each message's latency and batch
// size observed. The returned handler keeps h's optional capabilities.
func (m *Metrics) MessageHandler(h ports.MessageHandler) ports.MessageHandler {
	mh := &measuredHandler{m: m, next: h}
	if u, ok := h.(ports.UnauthenticatedHandler); ok {
		return &measuredAuthHandler{measuredHandler: mh, unauth: u}
	}
	return mh
}

type measuredHandler struct {
	m    *Metrics
	next ports.MessageHandler
}

func (h *measuredHandler) HandleMessage(ctx context.Context, req *kmip.Item) *kmip.Item {
	start := time.Now()
	resp := h.next.HandleMessage(ctx, req)
	h.m.observe(req, resp, time.Since(start))
	return resp
}

func (h *measuredHandler) HandleUndecodable(ctx context.Context, err error) *kmip.Item {
	h.m.undecodable.Inc()
	return h.next.HandleUndecodable(ctx, err)
}

type measuredAuthHandler struct {
	*measuredHandler
	unauth ports.UnauthenticatedHandler
}

func (h *measuredAuthHandler) HandleUnauthenticated(ctx context.Context, req *kmip.Item) *kmip.Item {
	resp := h.unauth.HandleUnauthenticated(ctx, req)
	h.m.observe(req, resp, 0)
	return resp
}

// observe counts a response's batch items; a message-level failure (no
// Operation in its item) counts under operation "none".
func (m *Metrics) observe(req, resp *kmip.Item, d time.Duration) {
	if resp == nil {
		return
	}
	first := "none"
	i := 0
	for _, bi := range resp.Children() {
		if bi.Tag != kmip.TagBatchItem {
			continue
		}
		op := "none"
		if v, ok := bi.Child(kmip.TagOperation).AsEnum(); ok {
			op = kmip.Operation(v).String()
		}
		if i == 0 {
			first = op
		}
		result := "Success"
		if st, _ := bi.Child(kmip.TagResultStatus).AsEnum(); kmip.ResultStatus(st) != kmip.ResultStatusSuccess {
			result = kmip.ResultStatus(st).String()
			if r, ok := bi.Child(kmip.TagResultReason).AsEnum(); ok {
				result = kmip.ResultReason(r).String()
			}
		}
		m.requests.WithLabelValues(op, result).Inc()
		i++
	}
	if d > 0 {
		m.latency.WithLabelValues(first).Observe(d.Seconds())
		m.batchItems.Observe(float64(batchItems(req)))
	}
}

// batchItems counts msg's batch items; unlike ChildrenOf, it allocates nothing.
func batchItems(msg *kmip.Item) int {
	n := 0
	for _, c := range msg.Children() {
		if c.Tag == kmip.TagBatchItem {
			n++
		}
	}
	return n
}

// Authenticator returns a measured: each call counted by result and timed.
func (m *Metrics) Authenticator(a ports.Authenticator) ports.Authenticator {
	return measuredAuth{m: m, next: a}
}

type measuredAuth struct {
	m    *Metrics
	next ports.Authenticator
}

func (a measuredAuth) Authenticate(ctx context.Context, user string) ([]string, error) {
	start := time.Now()
	groups, err := a.next.Authenticate(ctx, user)
	a.m.authLatency.Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		a.m.authCalls.WithLabelValues("ok").Inc()
	case errors.Is(err, ports.ErrUnknownUser):
		a.m.authCalls.WithLabelValues("unknown_user").Inc()
	default:
		a.m.authCalls.WithLabelValues("error").Inc()
	}
	return groups, err
}
