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
