package domain

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// EnumKey is the index key of an enumeration value.
func EnumKey(v uint32) string { return hexKey('e', uint64(v), 8) }

// hexKey returns kind, a colon and v as width lower-case hex digits: the
// form of integer-like keys (fmt.Sprintf("%c:%0*x"), without its cost, as
// every stored object computes some twenty of them).
func hexKey(kind byte, v uint64, width int) string {
	const digits = "0123456789abcdef"
	var b [2 + 16]byte
	b[0], b[1] = kind, ':'
	for i := width + 1; i >= 2; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:2+width])
}

// IndexKey returns a canonical, type-tagged string for an attribute value, so
// that two values are equal exactly when their keys are equal. Integer-like
// values are fixed-width hex so that keys of one type sort by value.
func IndexKey(v *kmip.Item) string {
	if v == nil {
		return ""
	}
	switch x := v.Value.(type) {
	case []*kmip.Item:
		var b strings.Builder
		b.WriteString("s:")
		for _, c := range x {
			fmt.Fprintf(&b, "%06x=%s;", uint32(c.Tag), IndexKey(c))
		}
		return b.String()
	case int32:
		return hexKey('i', uint64(uint32(x)^0x80000000), 8)
	case int64:
		return hexKey('l', uint64(x)^0x8000000000000000, 16)
	case uint32:
		if v.Type == kmip.TypeInterval {
			return hexKey('v', uint64(x), 8)
		}
		return EnumKey(x)
	case bool:
		if x {
			return "b:1"
		}
		return "b:0"
	case string:
		return "t:" + x
	case []byte:
		return "x:" + hex.EncodeToString(x)
	case time.Time:
		return hexKey('d', uint64(x.Unix())^0x8000000000000000, 16)
	default:
		return fmt.Sprintf("?:%v", x)
	}
}

// Pseudo-attribute names of the derived index terms (see DerivedTerms): they
// let a store answer access, storage-status and usage-mask questions from its
// index alone.
const (
	// IndexAccess holds AccessKey(policy, object type).
	IndexAccess = "kmipd:access"
	// IndexOwnerAccess holds OwnerAccessKey(owner, policy, object type).
	IndexOwnerAccess = "kmipd:owner-access"
	// IndexStorage holds EnumKey of the object's Storage Status Mask bit.
	IndexStorage = "kmipd:storage"
	// IndexUsageBit holds EnumKey of each bit set in Cryptographic Usage Mask.
	IndexUsageBit = "kmipd:usage-bit"
	// IndexNameValue holds NameValueKey of the Name Value of each Name: a
	// Name identifies one object by its value, whatever its Name Type.
	IndexNameValue = "kmipd:name-value"
)

// NameValueKey is the IndexNameValue key of a Name Value.
func NameValueKey(v string) string { return "t:" + v }

// NameValue returns the Name Value of a Name attribute value, false when it
// has none.
func NameValue(name *kmip.Item) (string, bool) {
	return name.Child(kmip.TagNameValue).AsText()
}

// AccessKey is the IndexAccess key of an object under policy of objectType.
func AccessKey(policy string, objectType uint32) string {
	return EnumKey(objectType) + ":" + policy
}

// OwnerAccessKey is the IndexOwnerAccess key of an object of objectType
// owned by owner under policy; the policy's length makes it unambiguous.
func OwnerAccessKey(owner, policy string, objectType uint32) string {
	return fmt.Sprintf("%s:%d:%s:%s", EnumKey(objectType), len(policy), policy, owner)
}

// StorageStatus is the Storage Status Mask bit (KMIP 1.4 §9.1.3.3.2, KMIP 2.1
// §12.3) that describes where the object is: destroyed objects, whose
// metadata kmipd keeps, are in Destroyed Storage, archived ones (Archived)
// in Archival Storage, every other one On-line.
func (o *Object) StorageStatus() uint32 {
	switch {
	case o.State == Destroyed || o.State == DestroyedCompromised:
		return uint32(kmip.StorageStatusMaskDestroyedStorage)
	case o.Archived():
		return uint32(kmip.StorageStatusMaskArchivalStorage)
	}
	return uint32(kmip.StorageStatusMaskOnLineStorage)
}

// DerivedTerms lists the search terms computed from the object rather than
// copied from one attribute value: its access terms, its storage status,
// each bit of its Cryptographic Usage Mask and the value of each Name. All
// but the usage bits are Indexed.
func (o *Object) DerivedTerms() []IndexTerm { return o.derivedTerms(nil, true) }

// derivedTerms appends DerivedTerms to terms, leaving out those not Indexed
// unless all.
func (o *Object) derivedTerms(terms []IndexTerm, all bool) []IndexTerm {
	terms = append(terms,
		IndexTerm{IndexAccess, AccessKey(o.Policy, o.Type)},
		IndexTerm{IndexOwnerAccess, OwnerAccessKey(o.Owner, o.Policy, o.Type)},
		IndexTerm{IndexStorage, EnumKey(o.StorageStatus())},
	)
	if all {
		for _, v := range o.AttrValues("Cryptographic Usage Mask") {
			if m, ok := v.AsInt(); ok {
				for _, bit := range MaskBits(uint32(m)) {
					terms = append(terms, IndexTerm{IndexUsageBit, EnumKey(bit)})
				}
			}
		}
	}
	for _, n := range o.AttrValues("Name") {
		if v, ok := NameValue(n); ok {
			terms = append(terms, IndexTerm{IndexNameValue, NameValueKey(v)})
		}
	}
	return terms
}

// unindexed lists the search terms stores keep no index entries for:
// attributes whose few values most objects share (algorithms, lengths,
// masks, flags, formats, the dates and counters kmipd sets) and the
// usage-mask bits. An entry costs every write of the object (an AES key
// carried 25, 18 of them these), and a Locate by such a term alone matches
// most objects anyway; a Locate filtering on one checks it on the candidates
// its indexed terms select.
var unindexed = map[string]bool{
	IndexUsageBit:                     true,
	"Cryptographic Algorithm":         true,
	"Cryptographic Length":            true,
	"Cryptographic Parameters":        true,
	"Cryptographic Domain Parameters": true,
	"Cryptographic Usage Mask":        true,
	"Certificate Type":                true,
	"Certificate Length":              true,
	"Digital Signature Algorithm":     true,
	"Lease Time":                      true,
	"Usage Limits":                    true,
	"Activation Date":                 true,
	"Process Start Date":              true,
	"Protect Stop Date":               true,
	"Deactivation Date":               true,
	"Destroy Date":                    true,
	"Compromise Occurrence Date":      true,
	"Compromise Date":                 true,
	"Revocation Reason":               true,
	"Archive Date":                    true,
	"Fresh":                           true,
	"Last Change Date":                true,
	"Key Value Present":               true,
	"Original Creation Date":          true,
	"Random Number Generator":         true,
	"Sensitive":                       true,
	"Always Sensitive":                true,
	"Extractable":                     true,
	"Never Extractable":               true,
	"Key Format Type":                 true,
	"Opaque Data Type":                true,
	"NIST Key Type":                   true,
	"Protection Level":                true,
	"Protection Period":               true,
	"Protection Storage Mask":         true,
	"Quantum Safe":                    true,
	"Rotate Automatic":                true,
	"Rotate Interval":                 true,
	"Rotate Offset":                   true,
	"Rotate Date":                     true,
	"Rotate Generation":               true,
	"Rotate Latest":                   true,
}

// Indexed reports whether stores index the search terms named name
// (Object.IndexTerms): every attribute and pseudo-attribute but those whose
// values most objects share. Names, Object Groups, Links, identifiers,
// digests, certificate names, the object type, state, owner, policy, access
// and storage terms and every custom attribute are.
func Indexed(name string) bool { return !unindexed[name] }

// MaskBits returns the bits set in m, lowest first.
func MaskBits(m uint32) []uint32 {
	var bits []uint32
	for b := uint32(1); b != 0; b <<= 1 {
		if m&b != 0 {
			bits = append(bits, b)
		}
	}
	return bits
}

// AccessTerms returns index terms of which an object under the policy named
// name, p, must
// carry one for who to be allowed op on it: an IndexAccess term for each
// object type the policy opens to everyone, an IndexOwnerAccess term for each
// type it opens to the owner only. It follows Policy.Allowed exactly, so a
// store can filter by access without loading objects. A nil policy gives none.
func AccessTerms(name string, p *Policy, who Principal, op uint32) []IndexTerm {
	if p == nil {
		return nil
	}
	types := map[uint32]bool{}
	for t := range p.Preset {
		types[t] = true
	}
	for _, rules := range p.Groups {
		for t := range rules {
			types[t] = true
		}
	}
	var terms []IndexTerm
	for t := range types {
		switch p.Permission(who, t, op) {
		case AllowAll:
			terms = append(terms, IndexTerm{IndexAccess, AccessKey(name, t)})
		case AllowOwner:
			if who.Name != "" {
				terms = append(terms, IndexTerm{IndexOwnerAccess, OwnerAccessKey(who.Name, name, t)})
			}
		}
	}
	slices.SortFunc(terms, func(a, b IndexTerm) int {
		return strings.Compare(a.Name+"\x00"+a.Key, b.Name+"\x00"+b.Key)
	})
	return terms
}
