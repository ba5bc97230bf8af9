package domain

import "strings"

// AttrRule says how clients may use one attribute (KMIP 1.4 §3, the
// "Rules" table of each attribute; KMIP 2.1 §4).
type AttrRule struct {
	// Multi: the attribute may hold several values (Name, Link, Object Group, ...).
	Multi bool
	// ClientSets: a client may supply it in Create, Register, Add/Set Attribute.
	ClientSets bool
	// ClientModifies: a client may change it with Modify Attribute.
	ClientModifies bool
	// ClientDeletes: a client may remove it with Delete Attribute.
	ClientDeletes bool
	// PreActiveOnly: modification and deletion are allowed only while the
	// object is Pre-Active (Activation Date, Process Start Date, ...).
	PreActiveOnly bool
	// SinceMajor/SinceMinor is the first protocol version that defines the
	// attribute; older clients are not shown it.
	SinceMajor, SinceMinor int32
	// RemovedIn is the major protocol version that dropped the attribute
	// (0: never); clients of that version or later are not shown it.
	RemovedIn int32
}

// attrRules holds the rules of the standard attributes kmipd manages.
var attrRules = map[string]AttrRule{
	"Unique Identifier":                {},
	"Name":                             {Multi: true, ClientSets: true, ClientModifies: true, ClientDeletes: true},
	"Object Type":                      {},
	"Cryptographic Algorithm":          {ClientSets: true},
	"Cryptographic Length":             {ClientSets: true},
	"Cryptographic Parameters":         {Multi: true, ClientSets: true, ClientModifies: true, ClientDeletes: true},
	"Cryptographic Usage Mask":         {ClientSets: true},
	"Digest":                           {Multi: true},
	"Operation Policy Name":            {ClientSets: true, RemovedIn: 2}, // 1.4 Table 91: not modifiable or deletable by the client
	"Lease Time":                       {},
	"Usage Limits":                     {ClientSets: true, ClientModifies: true, ClientDeletes: true},
	"State":                            {},
	"Initial Date":                     {},
	"Activation Date":                  {ClientSets: true, ClientModifies: true, ClientDeletes: true, PreActiveOnly: true},
	"Process Start Date":               {ClientSets: true, ClientModifies: true, ClientDeletes: true, PreActiveOnly: true},
	"Protect Stop Date":                {ClientSets: true, ClientModifies: true, ClientDeletes: true, PreActiveOnly: true},
	"Deactivation Date":                {ClientSets: true, ClientModifies: true, ClientDeletes: true},
	"Destroy Date":                     {},
	"Compromise Occurrence Date":       {},
	"Compromise Date":                  {},
	"Revocation Reason":                {},
	"Archive Date":                     {},
	"Object Group":                     {Multi: true, ClientSets: true, ClientModifies: true, ClientDeletes: true},
	"Fresh":                            {ClientSets: true, SinceMajor: 1, SinceMinor: 1},
	"Link":                             {Multi: true, ClientSets: true, ClientModifies: true, ClientDeletes: true},
	"Application Specific Information": {Multi: true, ClientSets: true, ClientModifies: true, ClientDeletes: true},
	"Contact Information":              {ClientSets: true, ClientModifies: true, ClientDeletes: true},
	"Last Change Date":                 {},
	"Description":                      {ClientSets: true, ClientModifies: true, ClientDeletes: true, SinceMajor: 1, SinceMinor: 4},
	"Comment":                          {ClientSets: true, ClientModifies: true, ClientDeletes: true, SinceMajor: 1, SinceMinor: 4},
	"Sensitive":                        {ClientSets: true, ClientModifies: true, SinceMajor: 1, SinceMinor: 4},
	"Always Sensitive":                 {SinceMajor: 1, SinceMinor: 4},
	"Extractable":                      {ClientSets: true, ClientModifies: true, SinceMajor: 1, SinceMinor: 4},
	"Never Extractable":                {SinceMajor: 1, SinceMinor: 4},
	"Key Format Type":                  {SinceMajor: 2},
	"Original Creation Date":           {SinceMajor: 1, SinceMinor: 3},
}

// AttrRuleFor returns the rules of an attribute. Custom attributes whose
// names begin "x-" are the client's (multi-valued, freely changed); "y-"
// attributes are the server's. ok is false for a name kmipd does not know.
func AttrRuleFor(name string) (AttrRule, bool) {
	if r, ok := attrRules[name]; ok {
		return r, true
	}
	switch {
	case strings.HasPrefix(name, "x-") || strings.HasPrefix(name, "X-"):
		return AttrRule{Multi: true, ClientSets: true, ClientModifies: true, ClientDeletes: true}, true
	case strings.HasPrefix(name, "y-") || strings.HasPrefix(name, "Y-"):
		return AttrRule{Multi: true}, true
	}
	return AttrRule{}, false
}

// VisibleIn reports whether a client of protocol version major.minor knows the attribute.
func (r AttrRule) VisibleIn(major, minor int32) bool {
	if r.RemovedIn != 0 && major >= r.RemovedIn {
		return false
	}
	return major > r.SinceMajor || (major == r.SinceMajor && minor >= r.SinceMinor)
}
