package app

import (
	"context"

	"github.com/kmipd/kmipd/domain/kmip"
)

// encrypt implements Encrypt (KMIP 1.4 §4.29, KMIP 2.1 §6.1.19).
func (s *Service) encrypt(ctx context.Context, c *call) (*kmip.Item, error) {
	return s.cipherOp(ctx, c, useEncrypt, true)
}
