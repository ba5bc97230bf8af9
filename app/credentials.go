package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// maxCredentials bounds the Credentials of one request's Authentication, each
// of which may cost a password hash comparison.
const maxCredentials = 4

// Credentials verifies the Credentials of a request's Authentication (KMIP
// 1.4 §2.1.2 and §6.6, KMIP 2.1 §9.4 and §9.11) — [auth] credentials =
// "verify" — and decides whom the request runs as.
type Credentials struct {
	// Verifier checks passwords.
	Verifier ports.CredentialVerifier
	// Delegates are the certificate names that may act for any user whose
	// credential verifies (a gateway multiplexing users); a request from any
	// other certificate may carry only a credential of its own name.
	Delegates []string
	// Log receives successful verifications at DEBUG.
	Log zerolog.Logger
}

// principal returns whom req runs as: cert itself when the header carries no
// Authentication, else the one user every Credential names and proves with
// its password. Otherwise it returns an error wrapping
// ports.ErrNotAuthenticated that names the user and the reason, never the
// password. A header too malformed to read a version from passes unchanged:
// HandleMessage refuses the message before anything runs.
func (cr *Credentials) principal(ctx context.Context, cert domain.Principal, req *kmip.Item) (domain.Principal, error) {
	hdr := req.Child(kmip.TagRequestHeader)
	auth := hdr.Child(kmip.TagAuthentication)
	if auth == nil {
		return cert, nil
	}
	pv := hdr.Child(kmip.TagProtocolVersion)
	maj, ok1 := pv.Child(kmip.TagProtocolVersionMajor).AsInt()
	min, ok2 := pv.Child(kmip.TagProtocolVersionMinor).AsInt()
	v, ok := negotiate(version{maj, min})
	if !ok1 || !ok2 || !ok {
		return cert, nil
	}
	creds := auth.ChildrenOf(kmip.TagCredential)
	if len(creds) == 0 || len(creds) > maxCredentials {
		return domain.Principal{}, notAuthenticated(cert, "", "Authentication must hold 1 to %d Credentials, not %d", maxCredentials, len(creds))
	}
	type proof struct{ user, password string }
	var proofs []proof
	for _, c := range creds {
		user, password, err := credentialProof(v, c)
		if err != nil {
			return domain.Principal{}, notAuthenticated(cert, user, "%v", err)
		}
		if len(proofs) > 0 && proofs[0].user != user {
			return domain.Principal{}, notAuthenticated(cert, user, "Credentials name two users (%q and %q)", proofs[0].user, user)
		}
		proofs = append(proofs, proof{user, password})
	}
	user := proofs[0].user
	if user != cert.Name && !cr.delegate(cert.Name) {
		return domain.Principal{}, notAuthenticated(cert, user,
			"certificate %q may not act for another user (it is not in auth.credential_certificates)", cert.Name)
	}
	// Every Credential must be satisfied (KMIP 2.1 §9.4).
	for _, p := range proofs {
		if err := cr.Verifier.Verify(ctx, p.user, p.password); err != nil {
			if errors.Is(err, ports.ErrBadCredential) {
				return domain.Principal{}, notAuthenticated(cert, user, "unknown user or wrong password")
			}
			return domain.Principal{}, notAuthenticated(cert, user, "password verifier unavailable: %v", err)
		}
	}
	cr.Log.Debug().Str("client", cert.Name).Str("user", user).Msg("credential verified; the request runs as its user")
	return domain.Principal{Name: user}, nil
}

// delegate reports whether certificate name may act for other users.
func (cr *Credentials) delegate(name string) bool {
	for _, d := range cr.Delegates {
		if d == name {
			return true
		}
	}
	return false
}

// credentialProof returns the user a Credential names and the password that
// proves it. Username and Password (KMIP 1.0 on) names its Username; Device
// (1.1 on) names its Device Serial Number, the first of the fields the spec
// makes unique. Both need a Password: a credential without one proves
// nothing. Attestation (1.2 on) and One Time Password, Hashed Password and
// Ticket (2.0 on) cannot be checked against bcrypt hashes and are refused.
func credentialProof(v version, c *kmip.Item) (user, password string, err error) {
	t, ok := c.Child(kmip.TagCredentialType).AsEnum()
	val := c.Child(kmip.TagCredentialValue)
	if !ok || val == nil || val.Type != kmip.TypeStructure {
		//lint:ignore ST1005 the message starts with the KMIP field name Credential, as the spec spells it
		return "", "", errors.New("Credential needs a Credential Type and a Credential Value structure")
	}
	ct := kmip.CredentialType(t)
	nameTag, field := kmip.TagUsername, "Username"
	switch ct {
	case kmip.CredentialTypeUsernameAndPassword:
	case kmip.CredentialTypeDevice:
		if !v.atLeast(1, 1) {
			//lint:ignore ST1005 the message starts with the KMIP field name Credential, as the spec spells it
			return "", "", fmt.Errorf("Credential Type Device is not defined in KMIP %s", v)
		}
		nameTag, field = kmip.TagDeviceSerialNumber, "Device Serial Number"
	default:
		//lint:ignore ST1005 the message starts with the KMIP field name Credential, as the spec spells it
		return "", "", fmt.Errorf("Credential Type %s cannot be verified (only Username and Password and Device can)", ct)
	}
	user, ok = val.Child(nameTag).AsText()
	if !ok || user == "" {
		return "", "", fmt.Errorf("%s Credential without a %s", ct, field)
	}
	password, ok = val.Child(kmip.TagPassword).AsText()
	if !ok {
		return user, "", fmt.Errorf("%s Credential without a Password", ct)
	}
	return user, password, nil
}

// notAuthenticated is the refusal of a request from certificate cert that
// named user (possibly none) for reason.
func notAuthenticated(cert domain.Principal, user, reason string, args ...any) error {
	return fmt.Errorf("%w: credential of user %q from certificate %q: %s",
		ports.ErrNotAuthenticated, user, cert.Name, fmt.Sprintf(reason, args...))
}

// RequestAuth returns the transport's per-request authentication hook: with
// creds (auth.credentials = "verify") the request runs as the user its
// Credentials prove (see Credentials); without, its Credentials are ignored
// and it runs as its certificate. thirdParty (see ThirdPartyAuth; nil: none)
// then validates that user and supplies its groups. A refusal wraps
// ports.ErrNotAuthenticated.
func RequestAuth(creds *Credentials, thirdParty func(context.Context, domain.Principal) (domain.Principal, error)) func(context.Context, domain.Principal, *kmip.Item) (domain.Principal, error) {
	return func(ctx context.Context, who domain.Principal, req *kmip.Item) (domain.Principal, error) {
		if creds != nil {
			var err error
			if who, err = creds.principal(ctx, who, req); err != nil {
				return domain.Principal{}, err
			}
		}
		if thirdParty == nil {
			return who, nil
		}
		return thirdParty(ctx, who)
	}
}
