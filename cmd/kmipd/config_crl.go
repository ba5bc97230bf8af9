package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
)

// openCRL loads server.crl_path (nil when it is not set); a file that is
// missing or holds a list not signed by a CA of ca_path is a ConfigError.
func openCRL(s ServerConfig, log zerolog.Logger) (*kmiptls.CRL, error) {
	if s.CRLPath == "" {
		return nil, nil
	}
	crl, err := kmiptls.OpenCRL(s.CRLPath, kmiptls.CRLOptions{
		CAFile: s.CAPath,
		Log:    log.With().Str("component", "tls").Logger(),
	})
	if err != nil {
		return nil, &ConfigError{Key: "server.crl_path", Value: s.CRLPath, Err: err}
	}
	return crl, nil
}

// runPoller runs poll in its own goroutine and returns the function that
// stops it and waits for it to end.
func runPoller(poll func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		poll(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
