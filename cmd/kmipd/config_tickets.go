package main

import (
	"context"
	"crypto/tls"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/transport/tlstickets"
	"github.com/kmipd/kmipd/ports"
)

// SessionTickets are the [server] keys of TLS session resumption: the
// ticket keys are shared by every node on the store and rotated in step
// (adapters/transport/tlstickets).
type SessionTickets struct {
	// TLSSessionTickets lets clients resume sessions (default true).
	TLSSessionTickets flexBool `toml:"tls_session_tickets"`
	// TLSTicketRotation is how long one ticket key encrypts new tickets
	// (default 1h); the same on every node of a store.
	TLSTicketRotation duration `toml:"tls_ticket_rotation"`
	// TLSTicketLifetime is how long a key still resumes sessions after its
	// rotation period (default 24h).
	TLSTicketLifetime duration `toml:"tls_ticket_lifetime"`
}

func defaultSessionTickets() SessionTickets {
	return SessionTickets{
		TLSSessionTickets: true,
		TLSTicketRotation: duration(tlstickets.DefaultRotation),
		TLSTicketLifetime: duration(tlstickets.DefaultLifetime),
	}
}

// validate names the key of a rotation or lifetime the ring refuses.
func (t SessionTickets) validate() error {
	if !t.TLSSessionTickets {
		return nil
	}
	rot, life := time.Duration(t.TLSTicketRotation), time.Duration(t.TLSTicketLifetime)
	if rot < tlstickets.MinRotation {
		return keyErr("server.tls_ticket_rotation", "%s is shorter than %s", rot, tlstickets.MinRotation)
	}
	if err := tlstickets.CheckPeriods(rot, life); err != nil {
		return keyErr("server.tls_ticket_lifetime", "%v", err)
	}
	return nil
}

// sessionTickets starts the shared ticket keys of the store's nodes and
// returns what every TLS configuration of the listeners gets (prepare) and
// what stops the rotation (stop, before the store is closed). With
// tls_session_tickets off, prepare turns resumption off. A store without
// scratch space leaves Go's per-process keys, with a warning.
func sessionTickets(t SessionTickets, store ports.Store, log zerolog.Logger) (prepare func(*tls.Config), stop func(), err error) {
	if !t.TLSSessionTickets {
		return func(c *tls.Config) { c.SessionTicketsDisabled = true }, func() {}, nil
	}
	ss, ok := store.(ports.ScratchStore)
	if !ok {
		log.Warn().Msg("TLS session ticket keys: the store has no shared scratch space; each node keeps its own keys")
		return func(*tls.Config) {}, func() {}, nil
	}
	ring, err := tlstickets.New(tlstickets.Options{Store: ss, Rotation: time.Duration(t.TLSTicketRotation),
		Lifetime: time.Duration(t.TLSTicketLifetime), Log: log})
	if err != nil {
		return nil, nil, err
	}
	// The first keys are in force before the first connection.
	if _, err := ring.Refresh(context.Background()); err != nil {
		log.Error().Err(err).Msg("TLS session ticket keys: reading or writing the shared keys failed; serving with the keys in hand")
	}
	return ring.Apply, runPoller(ring.Run), nil
}
