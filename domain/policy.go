package domain

import "errors"

// Principal is an authenticated client: the identity taken from its
// certificate's subject CN and, when third-party authentication supplied
// them, its groups.
type Principal struct {
	Name   string
	Groups []string
	// HasGroupInfo is true when a group service answered for this client
	// (even with no groups), false when no group information exists.
	HasGroupInfo bool
}

// Permission is one access-control rule value (pykmip-server "Access Control").
type Permission int

// The three permissions; the zero value is Disallow All, so a rule that is
// not written down denies.
const (
	DisallowAll Permission = iota
	AllowOwner
	AllowAll
)

// String returns the policy-file spelling of the permission.
func (p Permission) String() string {
	switch p {
	case AllowAll:
		return "ALLOW_ALL"
	case AllowOwner:
		return "ALLOW_OWNER"
	}
	return "DISALLOW_ALL"
}

// ErrPermissionDenied means the operation policy does not allow the client to
// perform the operation on the object (Result Reason Permission Denied).
var ErrPermissionDenied = errors.New("permission denied")

// Rules maps object type → operation → permission (values are the KMIP
// Object Type and Operation enumeration values).
type Rules map[uint32]map[uint32]Permission

// Policy is one named operation policy: Preset rules used when no group
// information is available, and per-group rules.
type Policy struct {
	Name   string
	Preset Rules
	Groups map[string]Rules
}

// Reserved policy names; they cannot be redefined by policy files.
const (
	PolicyDefault = "default"
	PolicyPublic  = "public"
)

// Permission returns the permission the policy grants the principal for the
// operation on the object type, following the reference server's rules: with
// group information, the most permissive rule across the principal's groups
// (or Preset when the policy defines no groups); without it, Preset (Disallow
// All when only groups are defined); Disallow All wherever no rule speaks.
func (p *Policy) Permission(who Principal, objectType, op uint32) Permission {
	if p == nil {
		return DisallowAll
	}
	if who.HasGroupInfo && len(p.Groups) > 0 {
		best := DisallowAll
		for _, g := range who.Groups {
			if perm := p.Groups[g][objectType][op]; perm > best {
				best = perm
			}
		}
		return best
	}
	return p.Preset[objectType][op]
}

// Allowed decides one access: nil when the policy lets the principal perform
// op on an object of objectType owned by owner, ErrPermissionDenied otherwise.
func (p *Policy) Allowed(who Principal, owner string, objectType, op uint32) error {
	switch p.Permission(who, objectType, op) {
	case AllowAll:
		return nil
	case AllowOwner:
		if who.Name != "" && who.Name == owner {
			return nil
		}
	}
	return ErrPermissionDenied
}
