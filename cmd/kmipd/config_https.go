package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/transport/kmiphttp"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/adapters/transport/ttlv"
)

// httpsAuto is the https.address value that means "the KMIP port's host,
// port + 1" (development mode's default).
const httpsAuto = "auto"

// HTTPSConfig is the [https] table: KMIP over HTTPS (POST /kmip) in the
// TTLV, JSON and XML encodings, beside the TTLV port, with the same
// certificates, client authentication, policies and [server] limits.
type HTTPSConfig struct {
	// Address is the host:port to serve HTTPS on; empty (the default)
	// serves none, "auto" means server.hostname and server.port + 1.
	Address string `toml:"address"`
}

// normalizeHTTPS resolves "auto" and checks the address.
func (c *Config) normalizeHTTPS() error {
	h := &c.HTTPS
	if h.Address == "" {
		return nil
	}
	if h.Address == httpsAuto {
		if c.Server.Port >= 65535 {
			return keyErr("https.address", "auto needs server.port below 65535, not %d", c.Server.Port)
		}
		h.Address = net.JoinHostPort(c.Server.Hostname, strconv.Itoa(c.Server.Port+1))
	}
	host, port, err := net.SplitHostPort(h.Address)
	if err != nil {
		return keyErr("https.address", "%q is not host:port", h.Address)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || (p == 0 && port != "0") {
		return keyErr("https.address", "%q has no valid port", h.Address)
	}
	if port != "0" && port == strconv.Itoa(c.Server.Port) && (host == c.Server.Hostname || isWildcard(host) || isWildcard(c.Server.Hostname)) {
		return keyErr("https.address", "%q is the KMIP port's address", h.Address)
	}
	return nil
}

func isWildcard(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

// listenerSettings are the [server] limits and timeouts both KMIP listeners
// apply: the TTLV server gets them, and listenHTTPS copies them from it.
func listenerSettings(s ServerConfig) kmiptls.Settings {
	return kmiptls.Settings{
		MaxMessageSize:   s.MaxMessageSize,
		ReadTimeout:      time.Duration(s.ReadTimeout),
		WriteTimeout:     time.Duration(s.WriteTimeout),
		IdleTimeout:      time.Duration(s.IdleTimeout),
		HandshakeTimeout: time.Duration(s.HandshakeTimeout),
		MaxConnections:   s.MaxConnections,
		RequestTimeout:   time.Duration(s.RequestTimeout),
		Limits:           ttlv.Limits{MaxDepth: s.MaxNestingDepth, MaxItems: s.MaxMessageItems},
	}
}

// httpsListener is the running HTTPS server, or nothing when https.address
// is empty.
type httpsListener struct {
	srv *kmiphttp.Server
	ln  net.Listener
}

// listenHTTPS opens https.address and builds the HTTPS server from the TTLV
// server's own settings, so both serve the same handler with the same
// certificates, authentication sequence, limits and timeouts.
func listenHTTPS(c HTTPSConfig, tt *kmiptls.Server, log zerolog.Logger) (*httpsListener, error) {
	if c.Address == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", c.Address)
	if err != nil {
		return nil, fmt.Errorf("https.address %q: %w", c.Address, err)
	}
	return &httpsListener{ln: ln, srv: &kmiphttp.Server{
		Handler:   tt.Handler,
		TLSConfig: tt.TLSConfig,
		Auth:      tt.Authenticator(),
		Settings:  tt.Settings,
		Memory:    tt,
		Log:       log.With().Str("component", "https").Logger(),
	}}, nil
}

// Addr returns the address served, or "" when none.
func (h *httpsListener) Addr() string {
	if h == nil {
		return ""
	}
	return h.ln.Addr().String()
}

// serve runs the server, sending Serve's error to errs; nothing without a server.
func (h *httpsListener) serve(errs chan<- error) {
	if h != nil {
		go func() { errs <- h.srv.Serve(h.ln) }()
	}
}

// shutdown drains the server (see kmiphttp.Server.Shutdown).
func (h *httpsListener) shutdown(ctx context.Context) error {
	if h == nil {
		return nil
	}
	return h.srv.Shutdown(ctx)
}

// closedNormally reports whether a Serve error only says the server was shut down.
func closedNormally(err error) bool {
	return err == nil || errors.Is(err, kmiptls.ErrServerClosed) || errors.Is(err, kmiphttp.ErrServerClosed)
}

// writeDevHTTPSBanner prints how to reach the HTTPS listener with curl and
// the development certificates.
func writeDevHTTPSBanner(w io.Writer, pki kmiptls.DevPKI, addr string) error {
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	_, err := fmt.Fprintf(w, `KMIP over HTTPS (TTLV, JSON or XML by Content-Type) on https://%s/kmip; a JSON Query:

  curl --cacert %s --cert %s --key %s \
    -H 'Content-Type: application/json' https://%s/kmip \
    -d '{"tag":"RequestMessage","value":[{"tag":"RequestHeader","value":[{"tag":"ProtocolVersion","value":[{"tag":"ProtocolVersionMajor","type":"Integer","value":2},{"tag":"ProtocolVersionMinor","type":"Integer","value":1}]},{"tag":"BatchCount","type":"Integer","value":1}]},{"tag":"BatchItem","value":[{"tag":"Operation","type":"Enumeration","value":"Query"},{"tag":"RequestPayload","value":[{"tag":"QueryFunction","type":"Enumeration","value":"QueryOperations"}]}]}]}'

`, net.JoinHostPort(host, port), pki.CACert, pki.ClientCert, pki.ClientKey, net.JoinHostPort(host, port))
	return err
}
