package app

import (
	"context"

	"github.com/kmipd/kmipd/domain/kmip"
)

// decrypt implements Decrypt (KMIP 1.4 §4.30, KMIP 2.1 §6.1.12).
func (s *Service) decrypt(ctx context.Context, c *call) (*kmip.Item, error) {
	return s.cipherOp(ctx, c, useDecrypt, false)
}
