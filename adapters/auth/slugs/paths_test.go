package slugs_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/adapters/auth/slugs"
	"github.com/kmipd/kmipd/ports"
)

// normalizingSLUGS models SLUGS behind a reverse proxy that decodes the
// request path and resolves its dot segments before routing (as nginx does
// with proxy_pass to a URI): it serves SLUGS's routes — GET /slugs/ (users
// and groups), /slugs/users, /slugs/users/U, /slugs/users/U/groups,
// /slugs/groups — on the cleaned path, and records the paths it saw.
func normalizingSLUGS(t *testing.T, users map[string][]string) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.EscapedPath())
		mu.Unlock()
		p := path.Clean(r.URL.Path) // r.URL.Path is already percent-decoded
		all := map[string]bool{}
		for _, gs := range users {
			for _, g := range gs {
				all[g] = true
			}
		}
		var groups []string
		for g := range all {
			groups = append(groups, g)
		}
		parts := strings.Split(strings.TrimPrefix(p, "/slugs"), "/")[1:]
		w.Header().Set("Content-Type", "application/json")
		switch {
		case p == "/slugs":
			json.NewEncoder(w).Encode(map[string]any{"users": []string{}, "groups": groups})
		case len(parts) == 1 && parts[0] == "groups":
			json.NewEncoder(w).Encode(map[string]any{"groups": groups})
		case len(parts) == 1 && parts[0] == "users":
			json.NewEncoder(w).Encode(map[string]any{"users": []string{}})
		case len(parts) >= 2 && parts[0] == "users":
			gs, ok := users[parts[1]]
			switch {
			case !ok || len(parts) > 3 || (len(parts) == 3 && parts[2] != "groups"):
				http.NotFound(w, r)
			case len(parts) == 3:
				json.NewEncoder(w).Encode(map[string]any{"groups": gs})
			default:
				w.Write([]byte("null"))
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string{}, seen...)
	}
}

// TestIdentityCannotEscapeItsPathSegment: a certificate identity is looked up
// as exactly one SLUGS user. An identity that is a dot segment, or holds a
// path separator that a proxy in front of SLUGS decodes, would name another
// resource — ".." reads /slugs/groups, every group there is; "alice/groups/.."
// reads alice's groups — so such identities are unknown users and the service
// is not asked about them.
func TestIdentityCannotEscapeItsPathSegment(t *testing.T) {
	srv, seen := normalizingSLUGS(t, map[string][]string{"alice": {"admins"}, "bob": {"staff"}})
	c := newClient(t, slugs.Options{URL: srv.URL + "/slugs/"})
	ctx := context.Background()
	if g, err := c.Authenticate(ctx, "alice"); err != nil || len(g) != 1 || g[0] != "admins" {
		t.Fatalf("alice: %v %v", g, err)
	}
	before := len(seen())
	for _, user := range []string{"..", ".", "alice/groups/..", "alice/.", "x/../alice", `alice\groups\..`, `..\alice`} {
		g, err := c.Authenticate(ctx, user)
		if !errors.Is(err, ports.ErrUnknownUser) {
			t.Errorf("identity %q: got groups %v, err %v; want ports.ErrUnknownUser", user, g, err)
		}
	}
	if after := seen(); len(after) != before {
		t.Errorf("the service was asked about ambiguous identities: %q", after[before:])
	}
	// Characters that are not path syntax still reach the service as one
	// escaped segment.
	for _, user := range []string{"a?b", "a%2Fb", "a..b", "...", "a b"} {
		if _, err := c.Authenticate(ctx, user); !errors.Is(err, ports.ErrUnknownUser) {
			t.Errorf("identity %q: %v", user, err)
		}
	}
	if n := len(seen()) - before; n != 5 {
		t.Errorf("%d requests for five plain unknown identities, want one each: %q", n, seen()[before:])
	}
}

// TestBadURLErrorHidesPassword: the error for a URL that does not parse, which
// kmipd prints and logs at start-up, does not repeat the URL's password.
func TestBadURLErrorHidesPassword(t *testing.T) {
	for _, u := range []string{"http://kmipd:s3cret%zz@slugs.example/slugs/", "http://kmipd:s3cret@slugs example/", "http://kmipd:s3cret@[::1/"} {
		_, err := slugs.New(slugs.Options{URL: u})
		if err == nil {
			t.Errorf("%q accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
