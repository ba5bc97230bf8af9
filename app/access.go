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
	p := domain.ReservedPolicy(name)
	return p, p != nil
}

// accessOp is the operation whose rule governs op: like the reference server,
// cryptographic operations that use an object's key are governed by Get.
func accessOp(op kmip.Operation) kmip.Operation {
	switch op {
	case kmip.OperationEncrypt, kmip.OperationDecrypt, kmip.OperationSign, kmip.OperationSignatureVerify,
		kmip.OperationMAC, kmip.OperationMACVerify:
		return kmip.OperationGet
	}
	return op
}

// authorize decides whether the caller may perform op on obj under the
// object's operation policy; an unknown policy name allows nothing.
func (s *Service) authorize(ctx context.Context, c *call, obj *domain.Object, op kmip.Operation) error {
	p, ok := s.cfg.Policies.Policy(ctx, obj.Policy)
	if !ok {
		return domain.ErrPermissionDenied
	}
	return p.Allowed(c.who, obj.Owner, obj.Type, uint32(accessOp(op)))
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
