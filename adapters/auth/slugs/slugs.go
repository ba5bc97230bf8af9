// Package slugs authenticates kmipd clients against a SLUGS service (Simple,
// Lightweight User Group Services, https://github.com/OpenKMIP/SLUGS), the
// third-party authentication service PyKMIP's server supports: the identity
// from the client certificate must be a SLUGS user, and the user's SLUGS
// groups drive group-based operation policies.
package slugs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kmipd/kmipd/ports"
)

// Defaults for Options.
const (
	DefaultTimeout = 5 * time.Second
	// DefaultCacheTTL is zero: like the reference server, kmipd asks SLUGS
	// on every request, so a user removed there loses access at once.
	DefaultCacheTTL time.Duration = 0
)

// maxBody bounds the answer read from the service.
const maxBody = 1 << 20

// maxCacheEntries is the cache size above which expired entries are pruned.
const maxCacheEntries = 4096

// Options configure a Client.
type Options struct {
	// URL is the base URL of the SLUGS REST interface, e.g.
	// "http://127.0.0.1:8080/slugs/"; a missing trailing "/" is added, as
	// PyKMIP does. Required, http or https.
	URL string
	// Timeout bounds each HTTP request. Zero means DefaultTimeout (5s).
	Timeout time.Duration
	// CacheTTL is how long a definitive answer (the user's groups, or "no
	// such user") is reused before the service is asked again. Zero
	// disables the cache. Failures to reach the service are never cached.
	CacheTTL time.Duration
	// HTTPClient sends the requests; nil means a client with Timeout.
	HTTPClient *http.Client
	// Now tells the time for the cache; nil means time.Now.
	Now func() time.Time
}

// Client asks one SLUGS service; it implements ports.Authenticator and is
// safe for concurrent use. Its cache is a short-lived copy of the service's
// answers held in this process only; the service stays the source of truth.
type Client struct {
	base    *url.URL
	timeout time.Duration
	ttl     time.Duration
	http    *http.Client
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]entry
}

var _ ports.Authenticator = (*Client)(nil)

type entry struct {
	groups  []string
	unknown bool
	expires time.Time
}

// New returns a client of the SLUGS service at o.URL.
func New(o Options) (*Client, error) {
	if o.URL == "" {
		return nil, errors.New("slugs: the URL must be specified")
	}
	raw := o.URL
	if !strings.HasSuffix(raw, "/") {
		raw += "/"
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Not err itself: a *url.Error repeats the URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("slugs: invalid URL: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("slugs: URL %q: want http:// or https:// and a host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("slugs: URL %q: must not have a query or fragment", u.Redacted())
	}
	c := &Client{base: u, timeout: o.Timeout, ttl: o.CacheTTL, http: o.HTTPClient, now: o.Now, cache: map[string]entry{}}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: c.timeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// URL returns the service's base URL without any password, for logs.
func (c *Client) URL() string { return c.base.Redacted() }

// Authenticate validates user with GET {url}users/{user} (200: known, 404:
// unknown) and fetches its groups with GET {url}users/{user}/groups (200 with
// {"groups": [...]}, 404: no group information, which refuses the user as
// PyKMIP does). Any other status, a malformed answer, a timeout or a
// connection failure is an error wrapping ports.ErrUnavailable: unlike
// PyKMIP, which accepts every status but 404, kmipd fails closed. An
// identity that could name another resource once in the URL path (see
// ambiguousUser) is an unknown user, and the service is not asked.
func (c *Client) Authenticate(ctx context.Context, user string) ([]string, error) {
	if ambiguousUser(user) {
		return nil, ports.ErrUnknownUser
	}
	if groups, unknown, ok := c.cached(user); ok {
		if unknown {
			return nil, ports.ErrUnknownUser
		}
		return groups, nil
	}
	userURL := c.userURL(user, "")
	if _, err := c.get(ctx, userURL, nil); err != nil {
		if errors.Is(err, ports.ErrUnknownUser) {
			c.store(user, nil, true)
		}
		return nil, err
	}
	var body struct {
		Groups *[]string `json:"groups"`
	}
	if _, err := c.get(ctx, c.userURL(user, "/groups"), &body); err != nil {
		if errors.Is(err, ports.ErrUnknownUser) {
			c.store(user, nil, true)
		}
		return nil, err
	}
	if body.Groups == nil {
		return nil, fmt.Errorf("%w: SLUGS %s: group answer for %q has no \"groups\" list", ports.ErrUnavailable, c.URL(), user)
	}
	groups := append([]string{}, (*body.Groups)...)
	c.store(user, groups, false)
	return append([]string{}, groups...), nil
}

// ambiguousUser reports whether user cannot be asked about safely as one
// path segment: empty, a dot segment ("." or ".."), or holding "/" or "\".
// Escaping alone does not protect these: a proxy in front of SLUGS may decode
// %2F and %5C and resolve dot segments before routing, so that ".." would
// read /slugs/groups (every group) and "alice/groups/.." alice's groups.
func ambiguousUser(user string) bool {
	return user == "" || user == "." || user == ".." || strings.ContainsAny(user, `/\`)
}

// userURL is {url}users/{user}{suffix}, the user escaped as one path segment.
func (c *Client) userURL(user, suffix string) *url.URL {
	u := *c.base
	u.Path = c.base.Path + "users/" + user + suffix
	u.RawPath = c.base.EscapedPath() + "users/" + url.PathEscape(user) + suffix
	return &u
}

// get fetches u and decodes a JSON answer into out (when not nil); 404 is
// ports.ErrUnknownUser.
func (c *Client) get(ctx context.Context, u *url.URL, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("%w: SLUGS %s: %v", ports.ErrUnavailable, c.URL(), err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL would repeat the base URL unredacted
		}
		return 0, fmt.Errorf("%w: SLUGS %s: %v", ports.ErrUnavailable, c.URL(), err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxBody)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		io.Copy(io.Discard, body)
		return resp.StatusCode, ports.ErrUnknownUser
	case resp.StatusCode != http.StatusOK:
		io.Copy(io.Discard, body)
		return resp.StatusCode, fmt.Errorf("%w: SLUGS %s: HTTP status %d", ports.ErrUnavailable, c.URL(), resp.StatusCode)
	}
	if out == nil {
		io.Copy(io.Discard, body)
		return resp.StatusCode, nil
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("%w: SLUGS %s: malformed answer: %v", ports.ErrUnavailable, c.URL(), err)
	}
	return resp.StatusCode, nil
}

func (c *Client) cached(user string) (groups []string, unknown, ok bool) {
	if c.ttl <= 0 {
		return nil, false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[user]
	if !ok || !c.now().Before(e.expires) {
		return nil, false, false
	}
	return append([]string{}, e.groups...), e.unknown, true
}

func (c *Client) store(user string, groups []string, unknown bool) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.cache) >= maxCacheEntries {
		for u, e := range c.cache {
			if !now.Before(e.expires) {
				delete(c.cache, u)
			}
		}
	}
	if len(c.cache) < maxCacheEntries {
		c.cache[user] = entry{groups: groups, unknown: unknown, expires: now.Add(c.ttl)}
	}
}
