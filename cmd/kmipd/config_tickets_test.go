package main

import (
	"context"
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/adapters/transport/tlstickets"
	"github.com/kmipd/kmipd/ports"
)

func TestSessionTicketDefaults(t *testing.T) {
	c, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	st := c.Server.SessionTickets
	if !st.TLSSessionTickets || time.Duration(st.TLSTicketRotation) != time.Hour || time.Duration(st.TLSTicketLifetime) != 24*time.Hour {
		t.Fatalf("defaults %+v", st)
	}
	c, err = load(t, "[server]\ntls_session_tickets = false\ntls_ticket_rotation = \"1ms\"\n")
	if err != nil || c.Server.TLSSessionTickets {
		t.Fatalf("tickets off (the periods then unchecked): %v %+v", err, c.Server.SessionTickets)
	}
}

func TestBadSessionTicketKeys(t *testing.T) {
	for toml, key := range map[string]string{
		"[server]\ntls_ticket_rotation = \"500ms\"\n":                             "server.tls_ticket_rotation",
		"[server]\ntls_ticket_rotation = \"-1h\"\n":                               "server.tls_ticket_rotation",
		"[server]\ntls_ticket_lifetime = \"0s\"\n":                                "server.tls_ticket_lifetime",
		"[server]\ntls_ticket_rotation = \"1m\"\ntls_ticket_lifetime = \"24h\"\n": "server.tls_ticket_lifetime",
		"[server]\ntls_session_tickets = \"maybe\"\n":                             "server.tls_session_tickets",
	} {
		_, err := load(t, toml)
		if err == nil {
			t.Errorf("%q: accepted, want a %s error", toml, key)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, key) {
			t.Errorf("%q: message %q is not one line naming %s", toml, msg, key)
		}
	}
}

// sessionTickets: off turns resumption off on every configuration it
// prepares; on, it sets the shared keys' hooks and stops on demand.
func TestSessionTicketsPrepare(t *testing.T) {
	prepare, stop, err := sessionTickets(SessionTickets{}, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{}
	prepare(cfg)
	stop()
	if !cfg.SessionTicketsDisabled {
		t.Fatal("tls_session_tickets = false left session tickets on")
	}
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	prepare, stop, err = sessionTickets(defaultSessionTickets(), s, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	cfg = &tls.Config{}
	prepare(cfg)
	stop()
	stop() // idempotent: main calls it before closing the store and on return
	if cfg.WrapSession == nil || cfg.UnwrapSession == nil || cfg.SessionTicketsDisabled {
		t.Fatal("the shared ticket keys were not applied")
	}
	// The current period's key was made before sessionTickets returned.
	name := tlstickets.KeyName(time.Hour, tlstickets.Period(time.Now(), time.Hour))
	if k, err := ports.ScratchStore(s).GetScratch(context.Background(), name); err != nil || len(k) != 32 {
		t.Fatalf("current ticket key: %d bytes, %v", len(k), err)
	}
}
