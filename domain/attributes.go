package domain

import (
	"strings"

	"github.com/kmipd/kmipd/domain/kmip"
)

// AttrRule says how clients may use one attribute: the "Rules" table of each
// attribute in KMIP 1.4 §3 and KMIP 2.1 §4 ("Initially set by", "Modifiable
// by client", "Deletable by client", "Multiple instances permitted",
// "Applies to Object Types"). Where the two versions differ the KMIP 2.1
// rule is used.
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
	// AppliesTo lists the object types that may carry the attribute; empty
	// means every object type.
	AppliesTo []kmip.ObjectType
	// SinceMajor/SinceMinor is the first protocol version that defines the
	// attribute; older clients are not shown it.
	SinceMajor, SinceMinor int32
	// RemovedIn is the major protocol version that dropped the attribute
	// (0: never); clients of that version or later are not shown it.
	RemovedIn int32
	// ListedMajor/ListedMinor, when later than SinceMajor/SinceMinor, is
	// the first version whose answers listing every attribute (Get
	// Attributes without names, Get Attribute List) include it; before it,
	// only a request naming the attribute is answered with it (ListedIn).
	ListedMajor, ListedMinor int32
}

// Object type groups of the "Applies to Object Types" rows.
var (
	certificates = []kmip.ObjectType{kmip.ObjectTypeCertificate}
	// keyValues are the objects whose key value may be absent (KMIP 1.4 §3.38-39).
	keyValues = []kmip.ObjectType{kmip.ObjectTypeSymmetricKey, kmip.ObjectTypePrivateKey,
		kmip.ObjectTypeSplitKey, kmip.ObjectTypeSecretData}
	// cryptographic are the Managed Cryptographic Objects (the types with a lifecycle, HasLifecycle).
	cryptographic = []kmip.ObjectType{kmip.ObjectTypeSymmetricKey, kmip.ObjectTypePublicKey, kmip.ObjectTypePrivateKey,
		kmip.ObjectTypeSplitKey, kmip.ObjectTypeCertificate, kmip.ObjectTypeSecretData, kmip.ObjectTypePGPKey}
	asymmetric = []kmip.ObjectType{kmip.ObjectTypePublicKey, kmip.ObjectTypePrivateKey, kmip.ObjectTypeTemplate}
)

// clientAttr is the rule of an ordinary client-managed single-valued attribute.
var clientAttr = AttrRule{ClientSets: true, ClientModifies: true, ClientDeletes: true}

// since returns r first defined in major.minor.
func (r AttrRule) since(major, minor int32) AttrRule {
	r.SinceMajor, r.SinceMinor = major, minor
	return r
}

// listedFrom returns r listed in every-attribute answers only from
// major.minor on (ListedIn).
func (r AttrRule) listedFrom(major, minor int32) AttrRule {
	r.ListedMajor, r.ListedMinor = major, minor
	return r
}

// multi returns r as a multi-valued attribute.
func (r AttrRule) multi() AttrRule {
	r.Multi = true
	return r
}

// serverCert is the rule of the certificate attributes the server derives
// from the certificate itself.
func serverCert(major, minor, removed int32) AttrRule {
	return AttrRule{AppliesTo: certificates, SinceMajor: major, SinceMinor: minor, RemovedIn: removed}
}

// originalCreationDate is the rule of Original Creation Date. KMIP 1.2
// defines it (tag 0x4200BC, the OASIS 1.2 case TC-MDO-2-12 reads it by
// name), but PyKMIP's client, which speaks 1.2 by default, cannot decode
// its value and fails the whole Get Attributes; so a 1.2 answer listing
// every attribute leaves it out, while a 1.2 request naming it gets it (a
// deliberate difference, README "Conformance to each KMIP version").
var originalCreationDate = clientAttr.since(1, 2).listedFrom(1, 3)

// attrRules holds the rules of every standard attribute of KMIP 1.0 to 2.1.
var attrRules = map[string]AttrRule{
	"Unique Identifier":                {},
	"Short Unique Identifier":          AttrRule{}.since(2, 0),
	"Name":                             clientAttr.multi(),
	"Alternative Name":                 clientAttr.multi().since(1, 2),
	"Object Type":                      {},
	"Cryptographic Algorithm":          {ClientSets: true},
	"Cryptographic Length":             {ClientSets: true},
	"Cryptographic Parameters":         clientAttr.multi(),
	"Cryptographic Domain Parameters":  {ClientSets: true, AppliesTo: asymmetric},
	"Certificate Type":                 serverCert(1, 0, 0),
	"Certificate Length":               serverCert(1, 1, 0),
	"X.509 Certificate Identifier":     serverCert(1, 1, 0),
	"X.509 Certificate Subject":        serverCert(1, 1, 0),
	"X.509 Certificate Issuer":         serverCert(1, 1, 0),
	"Certificate Identifier":           serverCert(1, 0, 2),
	"Certificate Subject":              serverCert(1, 0, 2),
	"Certificate Issuer":               serverCert(1, 0, 2),
	"Digital Signature Algorithm":      {Multi: true, AppliesTo: []kmip.ObjectType{kmip.ObjectTypeCertificate, kmip.ObjectTypePGPKey}, SinceMajor: 1, SinceMinor: 1},
	"Digest":                           {Multi: true},
	"Operation Policy Name":            {ClientSets: true, RemovedIn: 2}, // 1.4 Table 91: not modifiable or deletable by the client
	"Cryptographic Usage Mask":         {ClientSets: true},
	"Lease Time":                       {AppliesTo: cryptographic}, // 1.4 §3.20: set and modified by the server only
	"Usage Limits":                     clientAttr,
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
	"Object Group":                     clientAttr.multi(),
	"Fresh":                            AttrRule{ClientSets: true}.since(1, 1),
	"Link":                             clientAttr.multi(),
	"Application Specific Information": clientAttr.multi(),
	"Contact Information":              clientAttr,
	"Last Change Date":                 {},
	"Key Value Present":                {AppliesTo: keyValues, SinceMajor: 1, SinceMinor: 2},
	"Key Value Location":               {Multi: true, ClientSets: true, ClientModifies: true, ClientDeletes: true, AppliesTo: keyValues, SinceMajor: 1, SinceMinor: 2},
	"Original Creation Date":           originalCreationDate, // tag 0x4200BC, KMIP 1.2 (test case TC-MDO-2-12)
	"Random Number Generator":          AttrRule{ClientSets: true}.since(1, 3),
	"PKCS#12 Friendly Name":            clientAttr.since(1, 4),
	"Description":                      clientAttr.since(1, 4),
	"Comment":                          clientAttr.since(1, 4),
	"Sensitive":                        AttrRule{ClientSets: true, ClientModifies: true}.since(1, 4),
	"Always Sensitive":                 AttrRule{}.since(1, 4),
	"Extractable":                      AttrRule{ClientSets: true, ClientModifies: true}.since(1, 4),
	"Never Extractable":                AttrRule{}.since(1, 4),
	"Key Format Type":                  AttrRule{}.since(2, 0),
	"Opaque Data Type":                 {AppliesTo: []kmip.ObjectType{kmip.ObjectTypeOpaqueObject}, SinceMajor: 2},
	"NIST Key Type":                    AttrRule{ClientSets: true, Multi: true}.since(2, 0),
	"Protection Level":                 clientAttr.since(2, 0),
	"Protection Period":                clientAttr.since(2, 0),
	"Protection Storage Mask":          AttrRule{}.since(2, 0),
	"Quantum Safe":                     clientAttr.since(2, 0),
	// Rotation (KMIP 2.1 §4.48-4.54): the client names the set and may ask
	// for automatic rotation at creation; the server records each rotation.
	"Rotate Automatic":  AttrRule{ClientSets: true}.since(2, 1),
	"Rotate Interval":   AttrRule{ClientSets: true}.since(2, 1),
	"Rotate Offset":     AttrRule{ClientSets: true}.since(2, 1),
	"Rotate Name":       clientAttr.since(2, 1),
	"Rotate Date":       AttrRule{}.since(2, 1),
	"Rotate Generation": AttrRule{}.since(2, 1),
	"Rotate Latest":     AttrRule{}.since(2, 1),
}

func init() {
	// The KMIP 2.x Certificate Attributes (KMIP 2.1 §4.6): one multi-valued
	// attribute per subject and issuer name field.
	for _, who := range []string{"Subject", "Issuer"} {
		for _, field := range []string{"CN", "O", "OU", "Email", "C", "ST", "L", "UID", "Serial Number", "Title", "DC", "DN Qualifier"} {
			r := serverCert(2, 0, 0)
			r.Multi = true
			attrRules["Certificate "+who+" "+field] = r
		}
	}
}

// AttrRuleFor returns the rules of an attribute. Custom attributes (KMIP
// 1.4 §3.39) whose names begin "x-" are the client's (multi-valued, freely
// changed); "y-" attributes are the server's. KMIP 2.x Vendor Attributes are
// stored as "<Vendor Identification>-<Attribute Name>" and are the client's
// unless the vendor is "y". ok is false for a name kmipd does not know.
func AttrRuleFor(name string) (AttrRule, bool) {
	if r, ok := attrRules[name]; ok {
		return r, true
	}
	switch {
	case strings.HasPrefix(name, "y-") || strings.HasPrefix(name, "Y-"):
		return AttrRule{Multi: true}, true
	case IsVendorOrCustomAttr(name):
		return AttrRule{Multi: true, ClientSets: true, ClientModifies: true, ClientDeletes: true}, true
	}
	return AttrRule{}, false
}

// IsVendorOrCustomAttr reports whether name is a custom attribute ("x-..." and
// "y-..." in KMIP 1.x) or a KMIP 2.x Vendor Attribute ("<vendor>-<name>"):
// any name that is not a standard attribute's and contains a hyphen after a
// non-empty prefix.
func IsVendorOrCustomAttr(name string) bool {
	if _, std := attrRules[name]; std {
		return false
	}
	i := strings.IndexByte(name, '-')
	return i > 0 && i < len(name)-1
}

// VisibleIn reports whether a client of protocol version major.minor knows the attribute.
func (r AttrRule) VisibleIn(major, minor int32) bool {
	if r.RemovedIn != 0 && major >= r.RemovedIn {
		return false
	}
	return major > r.SinceMajor || (major == r.SinceMajor && minor >= r.SinceMinor)
}

// ListedIn reports whether an answer listing every attribute to a client of
// protocol version major.minor includes the attribute: it is visible there
// (VisibleIn) and the version is ListedMajor.ListedMinor or later.
func (r AttrRule) ListedIn(major, minor int32) bool {
	return r.VisibleIn(major, minor) && (major > r.ListedMajor || (major == r.ListedMajor && minor >= r.ListedMinor))
}

// AppliesToType reports whether objects of type t may carry the attribute.
func (r AttrRule) AppliesToType(t uint32) bool {
	if len(r.AppliesTo) == 0 {
		return true
	}
	for _, a := range r.AppliesTo {
		if uint32(a) == t {
			return true
		}
	}
	return false
}
