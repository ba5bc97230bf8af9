package domain

import (
	"reflect"
	"testing"
)

// TestSharedReservedPolicy: the shared reserved policies are the built-in
// tables, one value per name.
func TestSharedReservedPolicy(t *testing.T) {
	for _, name := range []string{PolicyDefault, PolicyPublic} {
		p := SharedReservedPolicy(name)
		if p == nil || p != SharedReservedPolicy(name) {
			t.Fatalf("%q: not one shared value", name)
		}
		if !reflect.DeepEqual(p, ReservedPolicy(name)) {
			t.Errorf("%q: shared policy differs from the built-in one", name)
		}
	}
	if SharedReservedPolicy("example") != nil || SharedReservedPolicy("Default") != nil {
		t.Error("only default and public are reserved")
	}
}
