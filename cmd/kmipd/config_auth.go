package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/auth/slugs"
	"github.com/kmipd/kmipd/adapters/policy"
	"github.com/kmipd/kmipd/adapters/transport/kmiptls"
	"github.com/kmipd/kmipd/app"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Defaults of the access-control configuration.
const (
	defaultPolicyPollInterval = policy.DefaultPollInterval
	defaultSLUGSTimeout       = slugs.DefaultTimeout
	defaultSLUGSCacheTTL      = slugs.DefaultCacheTTL
)

// AuthConfig is the [auth] table: third-party authentication services
// (pykmip-server "Third-Party Authentication").
type AuthConfig struct {
	// SLUGS holds the [auth.slugs.NAME] tables, PyKMIP's [auth:slugs:NAME]
	// blocks. The enabled ones are asked in the order the file lists them.
	SLUGS map[string]SLUGSConfig `toml:"slugs"`
	// CredentialsConfig holds the keys about request credentials
	// (config_credentials.go).
	CredentialsConfig

	// order is the file order of the SLUGS tables.
	order []string
}

// SLUGSConfig is one [auth.slugs.NAME] table.
type SLUGSConfig struct {
	// Enabled makes kmipd ask this service (PyKMIP's enabled; default false).
	Enabled flexBool `toml:"enabled"`
	// URL is the base URL of the SLUGS REST interface, e.g.
	// "http://127.0.0.1:8080/slugs/" (PyKMIP's url). Required when enabled.
	URL string `toml:"url"`
	// Timeout bounds each request to the service (default 5s).
	Timeout duration `toml:"timeout"`
	// CacheTTL is how long an answer about a user is reused (default 0s:
	// the service is asked on every request, as PyKMIP does; caching is an
	// opt-in that delays the effect of removing a user by up to the TTL).
	CacheTTL *duration `toml:"cache_ttl"`
}

// PolicyConfig is the [policy] table; the directory itself is PyKMIP's
// server.policy_path.
type PolicyConfig struct {
	// PollInterval is how often policy_path is checked for added, changed
	// and removed policy files (default 1s).
	PollInterval duration `toml:"poll_interval"`
	// MaxPolicies caps the policies loaded from all files (default 10000);
	// a file that would exceed it is refused and logged.
	MaxPolicies int `toml:"max_policies"`
	// MaxTotalSize caps the bytes of all loaded policy files (default
	// 16 MiB); a file that would exceed it is refused and logged.
	MaxTotalSize int64 `toml:"max_total_size"`
	// onLoad is told of each policy file load (metrics); not configuration.
	onLoad func(err error) `toml:"-"`
}

// recordOrder remembers the file order of the [auth.slugs.NAME] tables
// from the decoder's metadata.
func (a *AuthConfig) recordOrder(md toml.MetaData) {
	seen := map[string]bool{}
	for _, name := range a.order {
		seen[name] = true
	}
	for _, k := range md.Keys() {
		if len(k) == 3 && k[0] == "auth" && k[1] == "slugs" && !seen[k[2]] {
			seen[k[2]] = true
			a.order = append(a.order, k[2])
		}
	}
}

// names returns the SLUGS table names in file order (tables set without a
// file, as in tests, follow in name order).
func (a *AuthConfig) names() []string {
	out := make([]string, 0, len(a.SLUGS))
	seen := map[string]bool{}
	for _, n := range a.order {
		if _, ok := a.SLUGS[n]; ok && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	var rest []string
	for n := range a.SLUGS {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// normalizeAccess validates the [auth] and [policy] tables and fills in
// their defaults.
func (c *Config) normalizeAccess() error {
	if c.Policy.PollInterval == 0 {
		c.Policy.PollInterval = duration(defaultPolicyPollInterval)
	}
	if c.Policy.PollInterval < 0 {
		return keyErr("policy.poll_interval", "%s is not a positive duration", time.Duration(c.Policy.PollInterval))
	}
	if c.Policy.MaxPolicies == 0 {
		c.Policy.MaxPolicies = policy.DefaultMaxPolicies
	}
	if c.Policy.MaxPolicies < 0 {
		return keyErr("policy.max_policies", "%d is not a positive number", c.Policy.MaxPolicies)
	}
	if c.Policy.MaxTotalSize == 0 {
		c.Policy.MaxTotalSize = policy.DefaultMaxTotalSize
	}
	if c.Policy.MaxTotalSize < 0 {
		return keyErr("policy.max_total_size", "%d is not a positive number of bytes", c.Policy.MaxTotalSize)
	}
	for _, name := range c.Auth.names() {
		s := c.Auth.SLUGS[name]
		key := "auth.slugs." + name
		if s.Timeout == 0 {
			s.Timeout = duration(defaultSLUGSTimeout)
		}
		if s.Timeout < 0 {
			return keyErr(key+".timeout", "%s is not a positive duration", time.Duration(s.Timeout))
		}
		if s.CacheTTL == nil {
			d := duration(defaultSLUGSCacheTTL)
			s.CacheTTL = &d
		}
		if *s.CacheTTL < 0 {
			return keyErr(key+".cache_ttl", "%s is negative", time.Duration(*s.CacheTTL))
		}
		if s.Enabled {
			if s.URL == "" {
				return keyErr(key+".url", "required when the service is enabled")
			}
			if _, err := s.client(); err != nil {
				return keyErr(key+".url", "%v", err)
			}
		}
		c.Auth.SLUGS[name] = s
	}
	return c.Auth.normalizeCredentials()
}

func (s SLUGSConfig) client() (*slugs.Client, error) {
	ttl := time.Duration(defaultSLUGSCacheTTL)
	if s.CacheTTL != nil {
		ttl = time.Duration(*s.CacheTTL)
	}
	timeout := time.Duration(s.Timeout)
	if timeout == 0 {
		timeout = slugs.DefaultTimeout
	}
	return slugs.New(slugs.Options{URL: s.URL, Timeout: timeout, CacheTTL: ttl, HTTPClient: peerKeyHTTPClient(timeout)})
}

// peerKeyHTTPClient is the HTTP client of a SLUGS service: Go's certificate
// checks plus kmipd's minimum key sizes (kmiptls.VerifyPeerKeys), which
// stand in for Go's RSA minimum that this binary lifts (main.go).
func peerKeyHTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, VerifyConnection: kmiptls.VerifyPeerKeys}
	return &http.Client{Timeout: timeout, Transport: tr}
}

// access is the access-control wiring built from the configuration.
type access struct {
	// policies resolves operation policy names (nil: the reserved ones only).
	policies ports.PolicySource
	// watch keeps the policies current until ctx ends (nil: nothing to watch).
	watch func(ctx context.Context)
	// rescan reads the policy directory at once (SIGHUP; nil: none).
	rescan func()
	// authenticate is the transport's per-request hook (nil: certificate only).
	authenticate func(context.Context, domain.Principal, *kmip.Item) (domain.Principal, error)
	// reloadPasswords reads the password file at once (SIGHUP; nil: none).
	reloadPasswords func() error
}

// buildAccess opens the policy directory and the enabled third-party
// authentication services, logging what is in force.
func buildAccess(c Config, log zerolog.Logger, observe func(ports.Authenticator) ports.Authenticator) (access, error) {
	var a access
	if p := c.Server.PolicyPath; p != "" {
		plog := log.With().Str("component", "policy").Logger()
		dir, err := policy.Open(p, policy.Options{PollInterval: time.Duration(c.Policy.PollInterval),
			MaxPolicies: c.Policy.MaxPolicies, MaxTotalSize: c.Policy.MaxTotalSize, Log: plog, OnLoad: c.Policy.onLoad})
		if err != nil {
			return a, &ConfigError{Key: "server.policy_path", Value: p, Err: err}
		}
		names := dir.Names()
		plog.Info().Str("policy_path", p).Int("count", len(names)).Strs("policies", names[:min(len(names), 20)]).
			Stringer("poll_interval", time.Duration(c.Policy.PollInterval)).Msg("operation policies loaded")
		a.policies, a.watch, a.rescan = dir, dir.Run, dir.Scan
	}
	alog := log.With().Str("component", "auth").Logger()
	var auths []app.NamedAuthenticator
	for _, name := range c.Auth.names() {
		s := c.Auth.SLUGS[name]
		if !s.Enabled {
			continue
		}
		cl, err := s.client()
		if err != nil {
			return a, keyErr("auth.slugs."+name+".url", "%v", err)
		}
		auths = append(auths, app.NamedAuthenticator{Name: "slugs." + name, Auth: observe(cl)})
		alog.Info().Str("auth", "slugs."+name).Str("url", cl.URL()).Stringer("timeout", time.Duration(s.Timeout)).
			Stringer("cache_ttl", time.Duration(*s.CacheTTL)).Msg("third-party authentication enabled")
	}
	var thirdParty func(context.Context, domain.Principal) (domain.Principal, error)
	if len(auths) == 0 {
		alog.Info().Msg("no third-party authentication enabled: clients are identified by their certificate only, without groups")
	} else {
		thirdParty = app.ThirdPartyAuth(auths, alog)
	}
	cc, err := buildCredentials(c.Auth.CredentialsConfig, alog)
	if err != nil {
		return a, err
	}
	if cc.creds != nil || thirdParty != nil {
		a.authenticate = app.RequestAuth(cc.creds, thirdParty)
	}
	if cc.watch != nil {
		a.watch = bothWatch(a.watch, cc.watch)
		a.reloadPasswords = cc.reload
	}
	return a, nil
}

// bothWatch runs both watchers (either may be nil) until ctx ends and
// returns when both have returned.
func bothWatch(w1, w2 func(context.Context)) func(context.Context) {
	return func(ctx context.Context) {
		var wg sync.WaitGroup
		for _, w := range []func(context.Context){w1, w2} {
			if w != nil {
				wg.Add(1)
				go func() {
					defer wg.Done()
					w(ctx)
				}()
			}
		}
		wg.Wait()
	}
}
