package app

import (
	"context"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// reservedPolicies is the policy source used when none is configured: only
// the built-in "default" and "public" policies exist.
type reservedPolicies struct{}

func (reservedPolicies) Policy(_ context.Context, name string) (*domain.Policy, bool) {
	p := domain.ReservedPolicy(name)
	return p, p != nil
}

// cryptoOps are the operations that use an object's key without returning it.
var cryptoOps = map[kmip.Operation]bool{
	kmip.OperationEncrypt: true, kmip.OperationDecrypt: true, kmip.OperationSign: true,
	kmip.OperationSignatureVerify: true, kmip.OperationMAC: true, kmip.OperationMACVerify: true,
}

// accessOp is the operation whose rule governs op on an object of type t
// under policy p. The reference's Access Control section indexes policies by
// object type and operation, so a policy that has a rule for a cryptographic
// operation on t governs it by that rule; the reserved policies (and files
// that say nothing of them) have no rules for Encrypt, Decrypt, Sign,
// Signature Verify, MAC and MAC Verify, and for those the reference server
// applies the Get rule, which kmipd follows. Likewise Re-key Key Pair,
// which the reserved policies allow on private keys only, changes the
// public key it replaces (names, links) under that key's Modify Attribute rule.
func accessOp(p *domain.Policy, t uint32, op kmip.Operation) kmip.Operation {
	switch {
	case policyNames(p, t, op):
		return op
	case cryptoOps[op]:
		return kmip.OperationGet
	case op == kmip.OperationReKeyKeyPair && t == uint32(kmip.ObjectTypePublicKey):
		return kmip.OperationModifyAttribute
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
