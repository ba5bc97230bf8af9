package main

import (
	"context"
	"crypto/tls"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// reloader is one thing SIGHUP renews: name says what, in the log line.
type reloader struct {
	name string
	run  func() error
}

// tlsReloader reads the server certificate, key and CA bundle again and
// gives them, prepared by prepare (the session tickets), to srv for new
// connections; a certificate that does not load keeps the one in force.
func tlsReloader(s ServerConfig, prepare func(*tls.Config), listeners ...tlsListener) reloader {
	return reloader{"tls", func() error {
		cfg, _, err := kmiptls.NewTLSConfig(kmiptls.TLSOptions{CertFile: s.CertificatePath, KeyFile: s.KeyPath,
			CAFile: s.CAPath, CipherSuites: s.TLSCipherSuites, AuthSuite: s.AuthSuite})
		if err != nil {
			return err
		}
		prepare(cfg)
		for _, l := range listeners {
			if err := l.SetTLSConfig(cfg); err != nil {
				return err
			}
		}
		return nil
	}}
}

// tlsListener is a listener whose TLS configuration can be renewed
// (kmiptls.Server, kmiphttp.Server).
type tlsListener interface {
	SetTLSConfig(cfg *tls.Config) error
}

// handleSIGHUP runs every reloader on each SIGHUP until ctx ends, logging
// what each did; a failed one leaves what it would renew as it was. It
// returns when its goroutine has stopped.
func handleSIGHUP(ctx context.Context, log zerolog.Logger, reloaders []reloader) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				for _, r := range reloaders {
					if err := r.run(); err != nil {
						log.Error().Err(err).Str("reload", r.name).Msg("SIGHUP: reload failed; the previous one stays in force")
						continue
					}
					log.Info().Str("reload", r.name).Msg("SIGHUP: reloaded")
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-done
	}
}
