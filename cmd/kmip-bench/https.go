package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipjson"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
)

// httpsModes are the encodings `-https` accepts: KMIP over HTTPS posted to
// https://ADDR/kmip, binary TTLV or JSON.
var httpsModes = map[string]string{"ttlv": "application/octet-stream", "json": "application/json"}

// httpsClient is one worker's HTTPS connection: HTTP/1.1 keep-alive, one
// connection per worker, like the TTLV port's persistent connections.
func httpsClient(spec *loadSpec) *http.Client {
	tr := &http.Transport{TLSClientConfig: spec.TLS.Clone(), MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1,
		DisableKeepAlives: spec.NewConn}
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// httpsSend posts one encoded TTLV request message in the spec's HTTPS
// encoding and returns the answer as TTLV bytes, for the same status scan
// as the TTLV port. The JSON mode converts both ways per message, which
// the generator pays, not the server.
func (w *worker) httpsSend(ctx context.Context, msg []byte) ([]byte, error) {
	if w.hc == nil {
		w.hc = httpsClient(w.spec)
	}
	body := msg
	if w.spec.HTTPS == "json" {
		m, err := ttlv.Decode(msg, ttlv.DefaultLimits)
		if err != nil {
			return nil, err
		}
		if body, err = kmipjson.Append(nil, m); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+w.addr+"/kmip", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", httpsModes[w.spec.HTTPS])
	resp, err := w.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	if _, err := out.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	if w.spec.HTTPS != "json" {
		return out.Bytes(), nil
	}
	answer, err := kmipjson.Decode(out.Bytes(), ttlv.DefaultLimits)
	if err != nil {
		return nil, err
	}
	return ttlv.Encode(answer)
}

// benchHTTPS runs get with 8 connections over kmipd's HTTPS listener in each
// encoding, for the report's comparison with the TTLV port.
func benchHTTPS(ctx context.Context, srv *server, cfg *tls.Config, o suiteOptions, stderr io.Writer) map[string]result {
	out := map[string]result{}
	for _, mode := range []string{"ttlv", "json"} {
		spec := loadSpec{Addr: srv.https, TLS: cfg, Op: "get", Conns: 8, Duration: o.cell, Proto: o.proto, HTTPS: mode}
		r, err := runLoad(ctx, &spec)
		if err != nil {
			r = result{Op: "get", Conns: 8, FirstFailure: err.Error()}
		}
		out[mode] = r
		fmt.Fprintf(stderr, "   https-%s %s\n", mode, strings.ReplaceAll(r.String(), "\n", "\n   "))
	}
	return out
}

// httpsMarkdown is the report's KMIP-over-HTTPS table: get with 8
// connections on the TTLV port beside HTTPS with TTLV and JSON bodies.
func (r *report) httpsMarkdown(b *strings.Builder) {
	if len(r.https) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## KMIP over HTTPS (get, 8 connections, HTTP/1.1 keep-alive)\n\n")
	fmt.Fprintf(b, "| server | TTLV port ops/s | p99 | HTTPS-TTLV ops/s | p99 | HTTPS-JSON ops/s | p99 |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range r.targets {
		h, ok := r.https[t.name]
		if !ok {
			continue
		}
		port := r.cells[t.name][cellKey{"get", 8}]
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", t.name, rate(port.OpsPerSec()), dur(port.P99),
			rate(h["ttlv"].OpsPerSec()), dur(h["ttlv"].P99), rate(h["json"].OpsPerSec()), dur(h["json"].P99))
	}
	for _, t := range r.targets {
		for _, mode := range []string{"ttlv", "json"} {
			if c := r.https[t.name][mode]; c.FirstFailure != "" {
				fmt.Fprintf(b, "\n- %s HTTPS-%s: %d failed items, %d connection errors; first: %s\n", t.name, mode, c.FailedItems, c.ConnErrors, oneLine(c.FirstFailure))
			}
		}
	}
}
