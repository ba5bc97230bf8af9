package ports

import (
	"context"

	"github.com/kmipd/kmipd/domain"
)

// PolicySource resolves operation policy names to policies. Implementations
// must always resolve the reserved "default" and "public" policies to the
// built-in ones (domain.ReservedPolicy), which policy files cannot redefine.
type PolicySource interface {
	// Policy returns the named policy, or false when none has that name.
	Policy(ctx context.Context, name string) (*domain.Policy, bool)
}
