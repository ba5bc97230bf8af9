package app

import (
	"context"
	"errors"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// revoke implements Revoke (KMIP 1.4 §4.20): Key Compromise and CA Compromise
// mark the object Compromised; other reasons deactivate an Active object.
func (s *Service) revoke(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeRevoke(c.payload)
	if err != nil {
		return nil, err
	}
	out, err := s.transition(ctx, c, func(obj *domain.Object, now time.Time) error {
		return obj.Revoke(req.Reason, req.Compromise(), req.CompromiseAt, now)
	})
	if errors.Is(err, domain.ErrWrongState) {
		// KMIP 1.4 §11.21 has no state error for Revoke; an object that cannot
		// be revoked is an Illegal Operation, as the reference server answers.
		return nil, kindErr(errKindRevokeRefused, "the object cannot be revoked for this reason in its state")
	}
	return out, err
}
