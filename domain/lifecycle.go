package domain

import (
	"errors"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// State is a managed object's lifecycle state (KMIP 1.4 §3.22; values of the
// State enumeration).
type State uint32

// The six lifecycle states.
const (
	PreActive            State = 1
	Active               State = 2
	Deactivated          State = 3
	Compromised          State = 4
	Destroyed            State = 5
	DestroyedCompromised State = 6
)

// String returns the state's specification name.
func (s State) String() string {
	switch s {
	case PreActive:
		return "Pre-Active"
	case Active:
		return "Active"
	case Deactivated:
		return "Deactivated"
	case Compromised:
		return "Compromised"
	case Destroyed:
		return "Destroyed"
	case DestroyedCompromised:
		return "Destroyed Compromised"
	}
	return "Unknown"
}

// Valid reports whether s is one of the six states.
func (s State) Valid() bool { return s >= PreActive && s <= DestroyedCompromised }

// Event is something that may move an object between lifecycle states
// (KMIP 1.4 §3.22, Figure 1).
type Event int

// Lifecycle events.
const (
	EvActivate   Event = iota + 1 // Activate operation, or Activation Date reached
	EvDeactivate                  // Revoke (not compromise), or Deactivation Date reached
	EvCompromise                  // Revoke with Key Compromise / CA Compromise
	EvDestroy                     // Destroy operation
)

var eventNames = map[Event]string{EvActivate: "activate", EvDeactivate: "deactivate", EvCompromise: "compromise", EvDestroy: "destroy"}

func (e Event) String() string { return eventNames[e] }

// ErrWrongState means the object's lifecycle state does not allow the request
// (Result Reason Wrong Key Lifecycle State).
var ErrWrongState = errors.New("object is not in a lifecycle state that allows this")

// ErrNotApplicable means the event does not apply to this object type, e.g.
// activating an Opaque Object, which has no usage lifecycle (Result Reason
// Illegal Operation, as the reference server answers).
var ErrNotApplicable = errors.New("operation does not apply to this object type")

// transitions is the complete lifecycle table: from-state × event → to-state.
// A pair missing from it is refused with ErrWrongState.
var transitions = map[State]map[Event]State{
	PreActive: {
		EvActivate:   Active,
		EvCompromise: Compromised,
		EvDestroy:    Destroyed,
	},
	Active: {
		EvDeactivate: Deactivated,
		EvCompromise: Compromised,
	},
	Deactivated: {
		EvCompromise: Compromised,
		EvDestroy:    Destroyed,
	},
	Compromised: {
		EvDestroy: DestroyedCompromised,
	},
	Destroyed: {
		EvCompromise: DestroyedCompromised,
	},
	DestroyedCompromised: {},
}

// Next returns the state that event e leads to from s, or ErrWrongState.
func (s State) Next(e Event) (State, error) {
	if to, ok := transitions[s][e]; ok {
		return to, nil
	}
	return s, ErrWrongState
}

// HasLifecycle reports whether objects of this type can be activated, revoked
// and compromised. Opaque Objects cannot: they are only stored and destroyed.
func HasLifecycle(objectType uint32) bool {
	switch objectType {
	case uint32(kmip.ObjectTypeSymmetricKey), uint32(kmip.ObjectTypePublicKey),
		uint32(kmip.ObjectTypePrivateKey), uint32(kmip.ObjectTypeSplitKey),
		uint32(kmip.ObjectTypeCertificate), uint32(kmip.ObjectTypeSecretData),
		uint32(kmip.ObjectTypePGPKey):
		return true
	}
	return false
}

// apply moves the object through event e and records the dates the
// specification ties to the new state.
func (o *Object) apply(e Event, now time.Time) error {
	to, err := o.State.Next(e)
	if err != nil {
		return err
	}
	o.State = to
	return nil
}

// Activate moves a Pre-Active object to Active and sets its Activation Date.
func (o *Object) Activate(now time.Time) error {
	if !HasLifecycle(o.Type) {
		return ErrNotApplicable
	}
	if err := o.apply(EvActivate, now); err != nil {
		return err
	}
	o.SetAttr("Activation Date", kmip.DateTime(kmip.TagActivationDate, now))
	return nil
}

// Revoke deactivates an Active object, or marks an object compromised when the
// reason is a key or CA compromise (KMIP 1.4 §4.20). compromiseOccurred is the
// Compromise Occurrence Date, zero when not given, in which case the Initial
// Date stands in for it, as §4.20 says it SHOULD.
func (o *Object) Revoke(reason *kmip.Item, compromise bool, compromiseOccurred, now time.Time) error {
	if !HasLifecycle(o.Type) {
		return ErrNotApplicable
	}
	ev := EvDeactivate
	if compromise {
		ev = EvCompromise
	}
	if err := o.apply(ev, now); err != nil {
		return err
	}
	if compromise {
		o.SetAttr("Compromise Date", kmip.DateTime(kmip.TagCompromiseDate, now))
		if compromiseOccurred.IsZero() {
			compromiseOccurred = o.InitialDate
		}
		o.SetAttr("Compromise Occurrence Date", kmip.DateTime(kmip.TagCompromiseOccurrenceDate, compromiseOccurred))
	} else {
		o.SetAttr("Deactivation Date", kmip.DateTime(kmip.TagDeactivationDate, now))
	}
	if reason != nil {
		o.SetAttr("Revocation Reason", reason)
	}
	return nil
}

// Destroy moves the object to Destroyed (or Destroyed Compromised), drops its
// key material and sets the Destroy Date. Metadata is kept (KMIP 1.4 §4.21).
// Objects without a lifecycle can be destroyed from any non-destroyed state.
func (o *Object) Destroy(now time.Time) error {
	if HasLifecycle(o.Type) {
		if err := o.apply(EvDestroy, now); err != nil {
			return err
		}
	} else {
		if o.State == Destroyed || o.State == DestroyedCompromised {
			return ErrWrongState
		}
		o.State = Destroyed
	}
	o.Payload = nil
	o.SetAttr("Destroy Date", kmip.DateTime(kmip.TagDestroyDate, now))
	return nil
}

// dateAttr returns the named Date-Time attribute and whether it is set.
func (o *Object) dateAttr(name string) (time.Time, bool) {
	return o.Attr(name).AsTime()
}

// EffectiveState is the state an object stored in state stored is in at now,
// given its Activation and Deactivation Dates (zero when unset): a Pre-Active
// object whose Activation Date has been reached is Active, and an Active one
// whose Deactivation Date has been reached is Deactivated (KMIP 1.4 §3.22
// transitions 4 and 6, §3.24, §3.27; KMIP 2.1 §4.57). Other states are not
// moved by dates.
func EffectiveState(stored State, activation, deactivation, now time.Time) State {
	s := stored
	if s == PreActive && !activation.IsZero() && !activation.After(now) {
		s = Active
	}
	if s == Active && !deactivation.IsZero() && !deactivation.After(now) {
		s = Deactivated
	}
	return s
}

// ApplyDates moves the object into the state its dates give it at now (see
// EffectiveState) and reports whether the state changed. Objects without a
// usage lifecycle (Opaque Objects, Templates) are left alone.
func (o *Object) ApplyDates(now time.Time) bool {
	if !HasLifecycle(o.Type) {
		return false
	}
	ad, _ := o.dateAttr("Activation Date")
	dd, _ := o.dateAttr("Deactivation Date")
	s := EffectiveState(o.State, ad, dd, now)
	if s == o.State {
		return false
	}
	o.State = s
	return true
}

// ErrDateOrder means a lifecycle date would break the order the specification
// requires between dates (Result Reason Invalid Field).
var ErrDateOrder = errors.New("lifecycle dates out of order")

// CheckDateChange decides whether a client may set (value non-zero) or
// delete (value zero) one of the lifecycle dates of obj at now, with
// Add/Modify/Set/Delete Attribute, following each attribute's rules table
// (KMIP 1.4 §3.24-§3.27; KMIP 2.1 §4.1, §4.21, §4.44, §4.45):
//
//   - Activation Date: only while Pre-Active; never deleted.
//   - Process Start Date, Protect Stop Date: only while Pre-Active or Active
//     and before the current value (if any) has been reached; never deleted.
//   - Deactivation Date: only while Pre-Active or Active; never deleted.
//
// The state considered is the effective one (ApplyDates first). A refused
// state or deletion is ErrWrongState; a Process Start Date before the
// Activation Date or a Protect Stop Date after the Deactivation Date is
// ErrDateOrder. Names that are not lifecycle dates are always allowed here.
// After a successful change the caller applies ApplyDates, so that a date in
// the past takes effect at once (KMIP 1.4 §3.22 transitions 4 and 6).
func CheckDateChange(obj *Object, name string, value, now time.Time) error {
	state := obj.State
	if HasLifecycle(obj.Type) {
		ad, _ := obj.dateAttr("Activation Date")
		dd, _ := obj.dateAttr("Deactivation Date")
		state = EffectiveState(obj.State, ad, dd, now)
	}
	preOrActive := state == PreActive || state == Active
	switch name {
	case "Activation Date":
		if value.IsZero() || state != PreActive {
			return ErrWrongState
		}
	case "Process Start Date", "Protect Stop Date":
		if value.IsZero() || !preOrActive {
			return ErrWrongState
		}
		if cur, ok := obj.dateAttr(name); ok && !cur.After(now) {
			return ErrWrongState
		}
		ad, hasAD := obj.dateAttr("Activation Date")
		dd, hasDD := obj.dateAttr("Deactivation Date")
		if name == "Process Start Date" && hasAD && value.Before(ad) {
			return ErrDateOrder
		}
		if name == "Protect Stop Date" && hasDD && value.After(dd) {
			return ErrDateOrder
		}
	case "Deactivation Date":
		if value.IsZero() || !preOrActive {
			return ErrWrongState
		}
	}
	return nil
}

// Usage is a class of cryptographic use of a key (KMIP 1.4 §3.22): applying
// protection (encrypt, sign, wrap, MAC, derive) or processing protected data
// (decrypt, verify, unwrap, MAC verify).
type Usage int

// Usage classes.
const (
	UseProtect Usage = iota + 1
	UseProcess
)

// ErrUsageDate means the object may not be used at this time: before its
// Process Start Date, or after its Protect Stop Date (KMIP 1.4 §3.25-§3.26).
var ErrUsageDate = errors.New("object may not be used for this purpose at this time")

// CheckUse decides whether obj may be used for u at now: only an Active
// object may be used (KMIP 1.4 §3.22; Deactivated and Compromised objects
// "SHOULD only" process data under special permission, which kmipd does not
// grant), not for processing before its Process Start Date, and not for
// protection after its Protect Stop Date. The state considered is the
// effective one. A wrong state is ErrWrongState, a date outside the window
// ErrUsageDate.
func CheckUse(obj *Object, u Usage, now time.Time) error {
	ad, _ := obj.dateAttr("Activation Date")
	dd, _ := obj.dateAttr("Deactivation Date")
	if EffectiveState(obj.State, ad, dd, now) != Active {
		return ErrWrongState
	}
	switch u {
	case UseProcess:
		if ps, ok := obj.dateAttr("Process Start Date"); ok && now.Before(ps) {
			return ErrUsageDate
		}
	case UseProtect:
		if ps, ok := obj.dateAttr("Protect Stop Date"); ok && now.After(ps) {
			return ErrUsageDate
		}
	}
	return nil
}

// Archived reports whether the object is in archival storage: it carries an
// Archive Date, which Archive sets and Recover removes (KMIP 1.4 §3.32).
func (o *Object) Archived() bool { return o.Attr("Archive Date") != nil }

// Archive marks the object archived at now (KMIP 1.4 §4.22); an object that
// is already archived is refused with ErrArchived.
func (o *Object) Archive(now time.Time) error {
	if o.Archived() {
		return ErrArchived
	}
	o.SetAttr("Archive Date", kmip.DateTime(kmip.TagArchiveDate, now))
	return nil
}

// Recover brings an archived object back on-line (KMIP 1.4 §4.23): "The
// server SHALL delete this attribute whenever a Recover operation is
// performed" (§3.32). Recovering an on-line object changes nothing.
func (o *Object) Recover() { o.DeleteAttr("Archive Date") }

// ErrArchived means the object is in archival storage (Result Reason Object
// Archived).
var ErrArchived = errors.New("object is archived")

// ErrNoActivationDate means a Re-key Offset was given for a key that has no
// Activation Date to move the other dates by (KMIP 1.4 §11.5: Illegal
// Operation).
var ErrNoActivationDate = errors.New("the existing key has no Activation Date for the Offset to apply to")

// notCopiedOnReKey lists the attributes a replacement key does not take from
// the existing key (KMIP 1.4 §4.4 Table 173; KMIP 2.1 §6.1.46 Table 304):
// they are not set, recomputed, or set by the server anew. Name is moved
// separately.
var notCopiedOnReKey = map[string]bool{
	"Destroy Date": true, "Compromise Occurrence Date": true, "Compromise Date": true,
	"Revocation Reason": true, "Digest": true, "Link": true, "Last Change Date": true,
	"Archive Date": true, "Name": true, "Original Creation Date": true,
	"Rotate Date": true, "Rotate Generation": true, "Rotate Latest": true,
}

// ReKey derives the replacement of the existing key o for Re-key (KMIP 1.4
// §4.4, KMIP 2.1 §6.1.46) and updates o to match: the replacement gets
// identifier id, Initial Date now, the existing key's other attributes
// except those Table 173 excludes, its Names (removed from o), a Replaced
// Object Link to o (o gets a Replacement Object Link to it), and its Usage
// Limits Count reset to the Total. With an offset, the Activation Date
// becomes now+offset and the Process Start, Protect Stop and Deactivation
// Dates move by as much as the Activation Date did (Table 172); without one
// they are copied. The replacement's state follows its dates. It carries no
// Payload: the caller generates the new key material.
func (o *Object) ReKey(id string, now time.Time, offset *time.Duration) (*Object, error) {
	if !HasLifecycle(o.Type) {
		return nil, ErrNotApplicable
	}
	r := &Object{ID: id, Type: o.Type, State: PreActive, Owner: o.Owner, Policy: o.Policy, InitialDate: now}
	for _, a := range o.Attributes {
		if !notCopiedOnReKey[a.Name] {
			r.Attributes = append(r.Attributes, Attribute{Name: a.Name, Index: a.Index, Value: a.Value.Clone()})
		}
	}
	for _, n := range o.AttrValues("Name") {
		r.AddAttr("Name", n.Clone())
	}
	o.DeleteAttr("Name")
	if offset != nil {
		at1, ok := o.dateAttr("Activation Date")
		if !ok {
			return nil, ErrNoActivationDate
		}
		at2 := now.Add(*offset)
		r.SetAttr("Activation Date", kmip.DateTime(kmip.TagActivationDate, at2))
		shift := at2.Sub(at1)
		for _, name := range []string{"Process Start Date", "Protect Stop Date", "Deactivation Date"} {
			if t, ok := o.dateAttr(name); ok {
				tag, _ := kmip.TagBySpecName(name)
				r.SetAttr(name, kmip.DateTime(tag, t.Add(shift)))
			}
		}
	}
	if ul := r.Attr("Usage Limits"); ul != nil {
		if total, ok := ul.Child(kmip.TagUsageLimitsTotal).AsLong(); ok {
			r.SetAttr("Usage Limits", withUsageCount(ul, total))
		}
	}
	r.AddAttr("Link", link(kmip.LinkTypeReplacedObjectLink, o.ID))
	o.AddAttr("Link", link(kmip.LinkTypeReplacementObjectLink, id))
	MarkRotation(o, r, now)
	r.SetAttr("Last Change Date", kmip.DateTime(kmip.TagLastChangeDate, now))
	o.SetAttr("Last Change Date", kmip.DateTime(kmip.TagLastChangeDate, now))
	r.ApplyDates(now)
	return r, nil
}

// MarkRotation records that repl replaces old (KMIP 2.1 §4.49-4.52): repl
// is the latest of its rotation set, one generation after old, rotated at
// now; old is no longer the latest.
func MarkRotation(old, repl *Object, now time.Time) {
	gen, _ := old.Attr("Rotate Generation").AsInt()
	repl.SetAttr("Rotate Generation", kmip.Int(kmip.TagRotateGeneration, gen+1))
	repl.SetAttr("Rotate Date", kmip.DateTime(kmip.TagRotateDate, now))
	repl.SetAttr("Rotate Latest", kmip.Bool(kmip.TagRotateLatest, true))
	old.SetAttr("Rotate Latest", kmip.Bool(kmip.TagRotateLatest, false))
}

// link builds a Link attribute value (KMIP 1.4 §3.35).
func link(t kmip.LinkType, id string) *kmip.Item {
	return kmip.Struct(kmip.TagLink,
		kmip.Enum(kmip.TagLinkType, uint32(t)),
		kmip.Text(kmip.TagLinkedObjectIdentifier, id))
}

// withUsageCount returns a copy of a Usage Limits value whose Usage Limits
// Count is n, its fields in the order of KMIP 1.4 Table 101 (Total, Count,
// Unit), which 1.0-1.2 clients decode in sequence.
func withUsageCount(ul *kmip.Item, n int64) *kmip.Item {
	out := kmip.Struct(ul.Tag)
	if t := ul.Child(kmip.TagUsageLimitsTotal); t != nil {
		out.Add(t.Clone())
	}
	out.Add(kmip.Long(kmip.TagUsageLimitsCount, n))
	for _, ch := range ul.Children() {
		if ch.Tag != kmip.TagUsageLimitsTotal && ch.Tag != kmip.TagUsageLimitsCount {
			out.Add(ch.Clone())
		}
	}
	return out
}

// UsageLimitsAsSet is the Usage Limits value a client's value becomes when it
// is set (KMIP 1.4 §3.21, the same in 1.0-1.2 and 2.x): all three fields,
// Usage Limits Count equal to the Usage Limits Total, since "the server
// SHALL ignore the Usage Limits Count value" a client gives and "the Usage
// Limits Count is set to the Usage Limits Total value" when the attribute is
// set. ok is false when the value has no Long Integer Total.
func UsageLimitsAsSet(ul *kmip.Item) (*kmip.Item, bool) {
	total, ok := ul.Child(kmip.TagUsageLimitsTotal).AsLong()
	if !ok {
		return nil, false
	}
	return withUsageCount(ul, total), true
}

// ErrUsageLimit means a Usage Limits allocation cannot be granted (KMIP 1.4
// §11.19: Permission Denied).
var ErrUsageLimit = errors.New("usage limits allocation not available")

// AllocateUsage takes n units from the object's Usage Limits Count for Get
// Usage Allocation (KMIP 1.4 §4.18): the object must have Usage Limits
// (ErrNotApplicable otherwise), may apply protection at now (CheckUse with
// UseProtect), and must have n units left (ErrUsageLimit).
func (o *Object) AllocateUsage(n int64, now time.Time) error {
	ul := o.Attr("Usage Limits")
	if ul == nil {
		return ErrNotApplicable
	}
	if err := CheckUse(o, UseProtect, now); err != nil {
		return err
	}
	count, ok := ul.Child(kmip.TagUsageLimitsCount).AsLong()
	if !ok {
		count, _ = ul.Child(kmip.TagUsageLimitsTotal).AsLong()
	}
	if n <= 0 || n > count {
		return ErrUsageLimit
	}
	o.SetAttr("Usage Limits", withUsageCount(ul, count-n))
	return nil
}

// UsageAvailable reports whether n units are left in the object's Usage
// Limits; an object without Usage Limits is not limited.
func (o *Object) UsageAvailable(n int64) bool {
	ul := o.Attr("Usage Limits")
	if ul == nil {
		return true
	}
	count, ok := ul.Child(kmip.TagUsageLimitsCount).AsLong()
	if !ok {
		count, _ = ul.Child(kmip.TagUsageLimitsTotal).AsLong()
	}
	return n <= count
}

// protectBits are the Cryptographic Usage Mask bits that apply cryptographic
// protection (KMIP 1.4 §3.22: "encryption, signing, wrapping, MACing,
// deriving"); processBits those that process protected data.
const (
	protectBits = uint32(kmip.CryptographicUsageMaskSign | kmip.CryptographicUsageMaskEncrypt |
		kmip.CryptographicUsageMaskWrapKey | kmip.CryptographicUsageMaskMACGenerate |
		kmip.CryptographicUsageMaskDeriveKey | kmip.CryptographicUsageMaskCertificateSign |
		kmip.CryptographicUsageMaskCRLSign | kmip.CryptographicUsageMaskTranslateEncrypt |
		kmip.CryptographicUsageMaskTranslateWrap | kmip.CryptographicUsageMaskGenerateCryptogram)
	processBits = uint32(kmip.CryptographicUsageMaskVerify | kmip.CryptographicUsageMaskDecrypt |
		kmip.CryptographicUsageMaskUnwrapKey | kmip.CryptographicUsageMaskMACVerify |
		kmip.CryptographicUsageMaskTranslateDecrypt | kmip.CryptographicUsageMaskTranslateUnwrap |
		kmip.CryptographicUsageMaskValidateCryptogram)
)

// CheckUsageMask decides whether obj may be used at now for every use in
// mask (Check, KMIP 1.4 §4.10): each bit must be in the object's own
// Cryptographic Usage Mask, and the object's state and Process Start /
// Protect Stop Dates must allow the protecting and processing uses asked
// for (CheckUse).
func CheckUsageMask(obj *Object, mask uint32, now time.Time) error {
	own, _ := obj.Attr("Cryptographic Usage Mask").AsInt()
	if mask&^uint32(own) != 0 {
		return ErrPermissionDenied
	}
	if mask&protectBits != 0 {
		if err := CheckUse(obj, UseProtect, now); err != nil {
			return err
		}
	}
	if mask&processBits != 0 {
		if err := CheckUse(obj, UseProcess, now); err != nil {
			return err
		}
	}
	return nil
}
