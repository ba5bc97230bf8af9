package main

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/admin"
	"github.com/kmipd/kmipd/adapters/telemetry"
	"github.com/kmipd/kmipd/ports"
)

// AdminConfig is the [admin] table: the operator listener for /healthz,
// /readyz and /metrics (adapters/admin). Off unless address is set.
type AdminConfig struct {
	// Address is host:port of the admin listener; empty turns it off. It
	// must be a loopback address unless AllowRemote is set.
	Address string `toml:"address"`
	// AllowRemote lets Address be any address; the listener then serves
	// HTTPS with the server's certificate and requires a client certificate
	// from ca_path, like the KMIP port.
	AllowRemote bool `toml:"allow_remote"`
	// CheckTimeout bounds each readiness check (default 2s).
	CheckTimeout duration `toml:"check_timeout"`
	// BackupClients are the client certificate CNs that may fetch a backup
	// from /backup; it needs AllowRemote (TLS with client certificates).
	BackupClients []string `toml:"backup_clients"`
}

// check validates the [admin] table.
func (a *AdminConfig) check() error {
	if a.CheckTimeout == 0 {
		a.CheckTimeout = duration(2 * time.Second)
	}
	if a.CheckTimeout < 0 {
		return keyErr("admin.check_timeout", "%s is not a positive duration", time.Duration(a.CheckTimeout))
	}
	if len(a.BackupClients) > 0 && !a.AllowRemote {
		return keyErr("admin.backup_clients", "needs admin.allow_remote = true: backups are served over TLS to client certificates only")
	}
	if a.Address == "" {
		if a.AllowRemote {
			return keyErr("admin.allow_remote", "needs admin.address")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(a.Address); err != nil {
		return keyErr("admin.address", "%q is not host:port", a.Address)
	}
	if !a.AllowRemote {
		if err := loopbackAddr(a.Address); err != nil {
			return keyErr("admin.address", "%v (set admin.allow_remote = true to serve it off the host, over TLS with client certificates)", err)
		}
	}
	return nil
}

// readinessChecks are what /readyz asks: the store is still the one opened
// (its health check) and answers a read, and the crypto engine produces a
// random byte, each within the check timeout.
func readinessChecks(store ports.Store, engine ports.CryptoEngine) []admin.Check {
	return []admin.Check{
		{Name: "store", Probe: func(ctx context.Context) error {
			if hc, ok := store.(ports.HealthChecker); ok {
				if err := hc.Check(ctx); err != nil {
					return err
				}
			}
			_, err := store.Get(ctx, "kmipd-readiness-probe")
			if errors.Is(err, ports.ErrNotFound) {
				return nil
			}
			return err
		}},
		{Name: "crypto", Probe: func(ctx context.Context) error {
			_, err := engine.RandomBytes(ctx, 1)
			return err
		}},
	}
}

// startAdmin serves the admin listener when [admin] address is set and
// returns it (nil when off) with the function that stops it.
func startAdmin(cfg AdminConfig, serverTLS *tls.Config, metrics *telemetry.Metrics, checks []admin.Check,
	snapshot ports.Snapshotter, tmpDir string, log zerolog.Logger) (*admin.Server, func(), error) {
	if cfg.Address == "" {
		return nil, func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return nil, nil, err
	}
	srv := &admin.Server{Metrics: metrics.Handler(), Checks: checks, CheckTimeout: time.Duration(cfg.CheckTimeout),
		Log: log.With().Str("component", "admin").Logger()}
	if len(cfg.BackupClients) > 0 && snapshot != nil {
		srv.Backup, srv.MayBackup = streamSnapshot(snapshot, tmpDir), clientIn(cfg.BackupClients)
	}
	scheme := "http"
	if cfg.AllowRemote {
		t := serverTLS.Clone()
		t.MinVersion = max(t.MinVersion, tls.VersionTLS12)
		t.NextProtos = []string{"h2", "http/1.1"}
		srv.TLSConfig, scheme = t, "https"
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Str("component", "admin").Msg("admin listener failed")
		}
	}()
	log.Info().Str("component", "admin").Str("addr", scheme+"://"+ln.Addr().String()).
		Msg("admin listener: /healthz, /readyz, /metrics")
	return srv, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// streamSnapshot snapshots the store into a temporary file in dir (the
// store's own directory, so the copy stays on its disk and under its
// permissions) and streams it, removing the file afterwards.
func streamSnapshot(snap ports.Snapshotter, dir string) func(ctx context.Context, w io.Writer) error {
	return func(ctx context.Context, w io.Writer) error {
		tmp, err := os.MkdirTemp(dir, ".kmipd-backup-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		path := filepath.Join(tmp, "snapshot")
		if err := snap.Snapshot(ctx, path); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	}
}

// clientIn admits a request whose verified client certificate's CN is one
// of names.
func clientIn(names []string) func(r *http.Request) bool {
	return func(r *http.Request) bool {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
			return false
		}
		return slices.Contains(names, r.TLS.VerifiedChains[0][0].Subject.CommonName)
	}
}
