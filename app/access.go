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

// reservedPolicies is the policy source used when none is configured: only
// the built-in "default" and "public" policies exist.
type reservedPolicies struct{}

func (reservedPolicies) Policy(_ context.Context, name string) (*domain.Policy, bool) {
	p := domain.SharedReservedPolicy(name)
	return p, p != nil
}

// accessOp is the operation whose rule governs op on an object of type t
// under policy p. The reference's Access Control section indexes policies by
// object type and operation, so a policy that has a rule for op on t governs
// it by that rule; otherwise the operation table says whose rule applies
// (opSpec.ruleOf, publicKeyRuleOf): the reserved policies (and files that
// say nothing of them) have no rules for Encrypt, Decrypt, Sign, Signature
// Verify, MAC and MAC Verify, and for those the reference server applies
// the Get rule, which kmipd follows.
func accessOp(p *domain.Policy, t uint32, op kmip.Operation) kmip.Operation {
	spec := operations[op]
	switch {
	case policyNames(p, t, op):
		return op
	case spec.publicKeyRuleOf != 0 && t == uint32(kmip.ObjectTypePublicKey):
		return spec.publicKeyRuleOf
	case spec.ruleOf != 0:
		return spec.ruleOf
	}
	return op
}

// policyNames reports whether p has a rule, preset or for any group, for op on type t.
func policyNames(p *domain.Policy, t uint32, op kmip.Operation) bool {
	if _, ok := p.Preset[t][uint32(op)]; ok {
		return true
	}
	for _, rules := range p.Groups {
		if _, ok := rules[t][uint32(op)]; ok {
			return true
		}
	}
	return false
}

// authorize decides whether the caller may perform op on obj under the
// object's operation policy; an unknown policy name allows nothing.
func (s *Service) authorize(ctx context.Context, c *call, obj *domain.Object, op kmip.Operation) error {
	p, ok := s.cfg.Policies.Policy(ctx, obj.Policy)
	if !ok {
		return domain.ErrPermissionDenied
	}
	return p.Allowed(c.who, obj.Owner, obj.Type, uint32(accessOp(p, obj.Type, op)))
}

// NamedAuthenticator is one configured third-party authentication service;
// Name identifies it in logs (e.g. "slugs.primary").
type NamedAuthenticator struct {
	Name string
	Auth ports.Authenticator
}

// ThirdPartyAuth returns the authentication hook the transport calls for
// every request (pykmip-server "Third-Party Integration"): the services are
// asked in order whether the certificate's identity is a valid user; the
// first that validates it supplies the user's groups and no other is asked.
// When every service refuses or cannot be reached the hook returns
// ports.ErrNotAuthenticated, and the transport refuses the request and closes
// the connection. With no services the identity passes unchanged and carries
// no group information.
func ThirdPartyAuth(auths []NamedAuthenticator, log zerolog.Logger) func(context.Context, domain.Principal) (domain.Principal, error) {
	return func(ctx context.Context, who domain.Principal) (domain.Principal, error) {
		if len(auths) == 0 {
			return who, nil
		}
		for _, a := range auths {
			groups, err := a.Auth.Authenticate(ctx, who.Name)
			switch {
			case err == nil:
				log.Debug().Str("client", who.Name).Str("auth", a.Name).Strs("groups", groups).Msg("authentication succeeded")
				return domain.Principal{Name: who.Name, Groups: groups, HasGroupInfo: true}, nil
			case errors.Is(err, ports.ErrUnknownUser):
				log.Warn().Str("client", who.Name).Str("auth", a.Name).Msg("authentication failed: unknown user")
			default:
				log.Error().Err(err).Str("client", who.Name).Str("auth", a.Name).
					Msg("authentication service unavailable; it grants no access")
			}
		}
		return domain.Principal{}, fmt.Errorf("%w for %q by any of %d authentication services", ports.ErrNotAuthenticated, who.Name, len(auths))
	}
}

var _ ports.UnauthenticatedHandler = (*Service)(nil)

// HandleUnauthenticated answers a request whose client failed authentication
// with Result Reason Authentication Not Successful, in the request's
// negotiated protocol version when it has a readable one.
func (s *Service) HandleUnauthenticated(ctx context.Context, req *kmip.Item) *kmip.Item {
	v := version{1, 0}
	hdr := req.Child(kmip.TagRequestHeader)
	pv := hdr.Child(kmip.TagProtocolVersion)
	maj, ok1 := pv.Child(kmip.TagProtocolVersionMajor).AsInt()
	min, ok2 := pv.Child(kmip.TagProtocolVersionMinor).AsInt()
	if ok1 && ok2 {
		if n, ok := negotiate(version{maj, min}); ok {
			v = n
		}
	}
	return s.errorMessage(v, kmip.ResultReasonAuthenticationNotSuccessful, "authentication not successful")
}
