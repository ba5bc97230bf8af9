package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/adapters/auth/passwordfile"
	"github.com/kmipd/kmipd/app"
)

// Values of auth.credentials.
const (
	credentialsIgnore = "ignore"
	credentialsVerify = "verify"
)

// CredentialsConfig holds the [auth] keys about the Credentials of a
// request's Authentication header (KMIP 1.4 §6.6, KMIP 2.1 §9.4).
type CredentialsConfig struct {
	// Credentials is "ignore" (default: a request runs as its certificate
	// whatever Credential it carries) or "verify" (a request carrying a
	// Credential runs as the user it proves, see app.Credentials).
	Credentials string `toml:"credentials"`
	// PasswordFile holds "user:bcrypt-hash" lines; required with "verify".
	PasswordFile string `toml:"password_file"`
	// PasswordPollInterval is how often password_file is read for changes
	// (default 1s); SIGHUP reads it at once.
	PasswordPollInterval duration `toml:"password_poll_interval"`
	// CredentialCertificates are the certificate common names that may act
	// for other users (default none: a certificate may present only a
	// credential of its own name).
	CredentialCertificates []string `toml:"credential_certificates"`
}

// normalizeCredentials validates the credential keys of [auth] and fills in
// their defaults.
func (c *CredentialsConfig) normalizeCredentials() error {
	if c.Credentials == "" {
		c.Credentials = credentialsIgnore
	}
	if c.PasswordPollInterval == 0 {
		c.PasswordPollInterval = duration(passwordfile.DefaultPollInterval)
	}
	switch {
	case c.Credentials != credentialsIgnore && c.Credentials != credentialsVerify:
		return keyErr("auth.credentials", "%q is not \"ignore\" or \"verify\"", c.Credentials)
	case c.PasswordPollInterval < 0:
		return keyErr("auth.password_poll_interval", "%s is not a positive duration", time.Duration(c.PasswordPollInterval))
	case c.Credentials == credentialsVerify && c.PasswordFile == "":
		return keyErr("auth.password_file", "required when auth.credentials = \"verify\"")
	case c.Credentials == credentialsIgnore && c.PasswordFile != "":
		return keyErr("auth.password_file", "set, but auth.credentials is \"ignore\": set it to \"verify\" to check credentials")
	case c.Credentials == credentialsIgnore && len(c.CredentialCertificates) > 0:
		return keyErr("auth.credential_certificates", "set, but auth.credentials is \"ignore\"")
	}
	for _, cn := range c.CredentialCertificates {
		if cn == "" {
			return keyErr("auth.credential_certificates", "an empty certificate name")
		}
	}
	return nil
}

// checkPasswordFile reads and parses auth.password_file when credentials are
// verified, so that a bad file stops kmipd before it opens anything.
func (c *CredentialsConfig) checkPasswordFile() error {
	if c.Credentials != credentialsVerify {
		return nil
	}
	if err := passwordfile.Check(c.PasswordFile); err != nil {
		return keyErr("auth.password_file", "%v", err)
	}
	return nil
}

// credentialCheck is the credential verification built from the
// configuration: nil creds when credentials are ignored.
type credentialCheck struct {
	creds *app.Credentials
	// watch keeps the password file current until ctx ends.
	watch func(ctx context.Context)
	// reload reads the password file at once (SIGHUP).
	reload func() error
}

// buildCredentials opens the password file when credentials are verified,
// logging what is in force.
func buildCredentials(c CredentialsConfig, log zerolog.Logger) (credentialCheck, error) {
	if c.Credentials != credentialsVerify {
		log.Info().Msg("request credentials are ignored: requests run as their client certificate")
		return credentialCheck{}, nil
	}
	f, err := passwordfile.Open(c.PasswordFile, passwordfile.Options{
		PollInterval: time.Duration(c.PasswordPollInterval), Log: log})
	if err != nil {
		return credentialCheck{}, keyErr("auth.password_file", "%v", err)
	}
	log.Info().Str("password_file", c.PasswordFile).Int("users", f.Users()).
		Strs("credential_certificates", c.CredentialCertificates).
		Msg("request credentials are verified: a request carrying one runs as its user")
	return credentialCheck{
		creds: &app.Credentials{Verifier: f, Delegates: c.CredentialCertificates, Log: log},
		watch: f.Run,
		reload: func() error {
			_, err := f.Reload()
			return err
		},
	}, nil
}
