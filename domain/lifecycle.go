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
