package slugs_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/auth/slugs"
	"github.com/kmipd/kmipd/adapters/auth/slugs/slugstest"
	"github.com/kmipd/kmipd/ports"
)

func newClient(t *testing.T, o slugs.Options) *slugs.Client {
	t.Helper()
	c, err := slugs.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAuthenticateKnownUnknown(t *testing.T) {
	svc := slugstest.New(map[string][]string{"alice": {"group_A", "group_B"}, "nogroups": nil, "a b?c%d": {"g"}})
	defer svc.Close()
	c := newClient(t, slugs.Options{URL: svc.URL})
	ctx := context.Background()
	g, err := c.Authenticate(ctx, "alice")
	if err != nil || !reflect.DeepEqual(g, []string{"group_A", "group_B"}) {
		t.Errorf("alice: %v %v", g, err)
	}
	g, err = c.Authenticate(ctx, "nogroups")
	if err != nil || len(g) != 0 {
		t.Errorf("a user in no group is valid with no groups: %v %v", g, err)
	}
	g, err = c.Authenticate(ctx, "a b?c%d")
	if err != nil || !reflect.DeepEqual(g, []string{"g"}) {
		t.Errorf("identity with a space, a question mark and a percent sign must be one path segment: %v %v", g, err)
	}
	if _, err := c.Authenticate(ctx, "mallory"); !errors.Is(err, ports.ErrUnknownUser) {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := c.Authenticate(ctx, ""); !errors.Is(err, ports.ErrUnknownUser) {
		t.Errorf("empty identity: %v", err)
	}
}

// TestURLWithoutSlash: like PyKMIP, a missing trailing slash is added.
func TestURLWithoutSlash(t *testing.T) {
	svc := slugstest.New(map[string][]string{"alice": {"g"}})
	defer svc.Close()
	c := newClient(t, slugs.Options{URL: strings.TrimSuffix(svc.URL, "/")})
	if g, err := c.Authenticate(context.Background(), "alice"); err != nil || len(g) != 1 {
		t.Errorf("%v %v", g, err)
	}
}

// TestRequestsAndAnswers pins the REST calls and how each answer is read.
func TestRequestsAndAnswers(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	userStatus, groupsStatus, groupsBody := 200, 200, `{"groups": ["x"]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.EscapedPath())
		us, gs, gb := userStatus, groupsStatus, groupsBody
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/groups") {
			w.WriteHeader(gs)
			w.Write([]byte(gb))
			return
		}
		w.WriteHeader(us)
	}))
	defer srv.Close()
	c := newClient(t, slugs.Options{URL: srv.URL + "/slugs/"})
	ctx := context.Background()
	if _, err := c.Authenticate(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	want := []string{"GET /slugs/users/alice", "GET /slugs/users/alice/groups"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("requests %q, want %q", paths, want)
	}
	for _, c2 := range []struct {
		name        string
		us, gs      int
		body        string
		unknown     bool
		unavailable bool
	}{
		{"user 404", 404, 200, `{"groups": []}`, true, false},
		{"groups 404", 200, 404, ``, true, false},
		{"user 500", 500, 200, `{"groups": []}`, false, true},
		{"user 401", 401, 200, `{"groups": []}`, false, true},
		{"groups 503", 200, 503, ``, false, true},
		{"groups not JSON", 200, 200, `<html>`, false, true},
		{"groups without list", 200, 200, `{"users": []}`, false, true},
		{"groups wrong type", 200, 200, `{"groups": "admins"}`, false, true},
	} {
		mu.Lock()
		userStatus, groupsStatus, groupsBody = c2.us, c2.gs, c2.body
		mu.Unlock()
		g, err := c.Authenticate(ctx, "alice")
		if err == nil || errors.Is(err, ports.ErrUnknownUser) != c2.unknown || errors.Is(err, ports.ErrUnavailable) != c2.unavailable {
			t.Errorf("%s: groups %v, err %v", c2.name, g, err)
		}
	}
}

// TestServiceDownFailsClosed: a service that cannot be reached, or answers
// too late, refuses the user; it never grants anything.
func TestServiceDownFailsClosed(t *testing.T) {
	svc := slugstest.New(map[string][]string{"alice": {"g"}})
	url := svc.URL
	svc.Close()
	c := newClient(t, slugs.Options{URL: url})
	if _, err := c.Authenticate(context.Background(), "alice"); !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("service down: %v", err)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	c = newClient(t, slugs.Options{URL: slow.URL, Timeout: 50 * time.Millisecond})
	if _, err := c.Authenticate(context.Background(), "alice"); !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("service timing out: %v", err)
	}
}

func TestCache(t *testing.T) {
	svc := slugstest.New(map[string][]string{"alice": {"g1"}})
	defer svc.Close()
	now := time.Unix(1_000_000, 0)
	c := newClient(t, slugs.Options{URL: svc.URL, CacheTTL: 30 * time.Second, Now: func() time.Time { return now }})
	ctx := context.Background()
	c.Authenticate(ctx, "alice")
	c.Authenticate(ctx, "mallory")
	hits := svc.Hits()
	svc.SetUser("alice", "g2")
	svc.SetUser("mallory")
	now = now.Add(29 * time.Second)
	if g, err := c.Authenticate(ctx, "alice"); err != nil || !reflect.DeepEqual(g, []string{"g1"}) {
		t.Errorf("cached answer not used: %v %v", g, err)
	}
	if _, err := c.Authenticate(ctx, "mallory"); !errors.Is(err, ports.ErrUnknownUser) {
		t.Errorf("cached refusal not used: %v", err)
	}
	if svc.Hits() != hits {
		t.Errorf("service asked again within the TTL")
	}
	now = now.Add(time.Second)
	if g, err := c.Authenticate(ctx, "alice"); err != nil || !reflect.DeepEqual(g, []string{"g2"}) {
		t.Errorf("expired answer reused: %v %v", g, err)
	}
	if _, err := c.Authenticate(ctx, "mallory"); err != nil {
		t.Errorf("expired refusal reused: %v", err)
	}
	// Failures are not cached: the next request asks again.
	now = now.Add(time.Minute)
	svc.SetDown(true)
	if _, err := c.Authenticate(ctx, "alice"); !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("down: %v", err)
	}
	svc.SetDown(false)
	if _, err := c.Authenticate(ctx, "alice"); err != nil {
		t.Errorf("an outage was cached: %v", err)
	}
	// A returned slice is the caller's own.
	g, _ := c.Authenticate(ctx, "alice")
	g[0] = "admin"
	if g2, _ := c.Authenticate(ctx, "alice"); g2[0] != "g2" {
		t.Error("caller changed the cache")
	}
}

func TestNoCache(t *testing.T) {
	svc := slugstest.New(map[string][]string{"alice": {"g1"}})
	defer svc.Close()
	c := newClient(t, slugs.Options{URL: svc.URL})
	c.Authenticate(context.Background(), "alice")
	c.Authenticate(context.Background(), "alice")
	if svc.Hits() != 4 {
		t.Errorf("zero CacheTTL must ask every time: %d requests", svc.Hits())
	}
}

func TestNewValidates(t *testing.T) {
	for _, u := range []string{"", "ftp://h/", "http://", "slugs/", "http://h/?x=1", "http://h/%zz"} {
		if _, err := slugs.New(slugs.Options{URL: u}); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
	c := newClient(t, slugs.Options{URL: "https://user:secret@h/slugs"})
	if strings.Contains(c.URL(), "secret") || c.URL() != "https://user:xxxxx@h/slugs/" {
		t.Errorf("URL() = %q", c.URL())
	}
}
