package domain

import (
	"errors"
	"testing"
)

// TestTransitionTable checks every state × event pair against the KMIP 1.4
// §3.22 state diagram, written out independently of the implementation.
func TestTransitionTable(t *testing.T) {
	const refused = State(0)
	want := map[State]map[Event]State{
		PreActive:            {EvActivate: Active, EvDeactivate: refused, EvCompromise: Compromised, EvDestroy: Destroyed},
		Active:               {EvActivate: refused, EvDeactivate: Deactivated, EvCompromise: Compromised, EvDestroy: refused},
		Deactivated:          {EvActivate: refused, EvDeactivate: refused, EvCompromise: Compromised, EvDestroy: Destroyed},
		Compromised:          {EvActivate: refused, EvDeactivate: refused, EvCompromise: refused, EvDestroy: DestroyedCompromised},
		Destroyed:            {EvActivate: refused, EvDeactivate: refused, EvCompromise: DestroyedCompromised, EvDestroy: refused},
		DestroyedCompromised: {EvActivate: refused, EvDeactivate: refused, EvCompromise: refused, EvDestroy: refused},
	}
	events := []Event{EvActivate, EvDeactivate, EvCompromise, EvDestroy}
	for s := PreActive; s <= DestroyedCompromised; s++ {
		for _, e := range events {
			exp, listed := want[s][e]
			if !listed {
				t.Fatalf("test table misses %s × %s", s, e)
			}
			got, err := s.Next(e)
			if exp == refused {
				if !errors.Is(err, ErrWrongState) || got != s {
					t.Errorf("%s × %s = (%s, %v), want refusal with ErrWrongState", s, e, got, err)
				}
				continue
			}
			if err != nil || got != exp {
				t.Errorf("%s × %s = (%s, %v), want %s", s, e, got, err, exp)
			}
		}
	}
	if _, err := State(0).Next(EvActivate); !errors.Is(err, ErrWrongState) {
		t.Errorf("invalid state accepted an event")
	}
}
