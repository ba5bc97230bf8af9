// Package slugstest runs an in-process SLUGS-compatible HTTP service (the
// Simple, Lightweight User Group Services REST API PyKMIP's server queries)
// for tests: GET {base}users/{user} answers 200 or 404, and
// GET {base}users/{user}/groups answers {"groups": [...]} or 404.
package slugstest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
)

// Server is a fake SLUGS service whose users and groups tests may change
// while it runs.
type Server struct {
	// URL is the base URL to configure, ending in "/slugs/".
	URL string

	srv   *httptest.Server
	mu    sync.Mutex
	users map[string][]string
	down  bool
	hits  int
}

// New starts a service knowing users (user → groups).
func New(users map[string][]string) *Server {
	s := &Server{users: map[string][]string{}}
	for u, g := range users {
		s.users[u] = append([]string{}, g...)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/slugs/"
	return s
}

// Close stops the service.
func (s *Server) Close() { s.srv.Close() }

// SetUser adds the user or replaces its groups.
func (s *Server) SetUser(user string, groups ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[user] = append([]string{}, groups...)
}

// RemoveUser makes the user unknown.
func (s *Server) RemoveUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, user)
}

// SetDown makes every request fail with 503 Service Unavailable (true) or
// be answered again (false).
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Hits returns the number of requests received so far.
func (s *Server) Hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	if s.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/slugs/users/")
	parts := strings.Split(rest, "/")
	user, err := url.PathUnescape(parts[0])
	groupsReq := len(parts) == 2 && parts[1] == "groups"
	if r.Method != http.MethodGet || !ok || err != nil || user == "" || (len(parts) != 1 && !groupsReq) {
		http.NotFound(w, r)
		return
	}
	groups, known := s.users[user]
	if !known {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if groupsReq {
		if groups == nil {
			groups = []string{}
		}
		json.NewEncoder(w).Encode(map[string][]string{"groups": groups})
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"user": user})
}
