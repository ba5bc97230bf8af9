package record_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/adapters/storage/record"
	"github.com/kmipd/kmipd/ports/storetest"
)

// TestKeyRefRoundTrip: an HSM key's engine reference survives the record.
func TestKeyRefRoundTrip(t *testing.T) {
	o := storetest.Sample("hsm")
	o.KeyRef = "secret/0123456789abcdef"
	b, err := record.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := record.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	sameObject(t, got, o)
}

// TestReadsVersion2Records: records written before KeyRef existed (format 2,
// ending after the payload) still decode, with no KeyRef, and a format 2
// record with bytes after its payload is still refused as corrupt.
func TestReadsVersion2Records(t *testing.T) {
	o := storetest.Sample("old")
	b, err := record.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if b[len(b)-1] != 0 { // an empty KeyRef is one zero length byte
		t.Fatalf("record does not end with an empty KeyRef: % x", b[len(b)-4:])
	}
	v2 := append([]byte{2}, b[1:len(b)-1]...)
	got, err := record.Unmarshal(v2)
	if err != nil {
		t.Fatal(err)
	}
	sameObject(t, got, o)
	if _, err := record.Unmarshal(append(bytes.Clone(v2), 0)); !errors.Is(err, record.ErrCorrupt) {
		t.Fatalf("version 2 record with a trailing byte: err = %v, want ErrCorrupt", err)
	}
}
