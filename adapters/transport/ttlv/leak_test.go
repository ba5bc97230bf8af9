package ttlv

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

// secret is key material a client sent in a Byte String whose length field
// understates it, so that the decoder reads part of it as item headers.
var secret = []byte{0x9A, 0x8B, 0x7C, 0x6D, 0x5E, 0x4F, 0x30, 0x21}

// leaks reports which rendering of secret's bytes (or of any 3 to 8 of them in
// a row) appears in msg.
func leaks(msg string, b []byte) string {
	up := strings.ToUpper(msg)
	for n := 3; n <= len(b); n++ {
		for i := 0; i+n <= len(b); i++ {
			w := b[i : i+n]
			if h := fmt.Sprintf("%X", w); strings.Contains(up, h) {
				return h
			}
		}
	}
	for i := 0; i+4 <= len(b); i++ { // a length field printed in decimal
		if d := fmt.Sprint(uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])); strings.Contains(msg, d) {
			return d
		}
	}
	return ""
}

// TestErrorsDoNotQuotePayload: decode errors are logged and may be sent back
// in a Result Message, so they must not quote bytes of the message, which may
// be key material.
func TestErrorsDoNotQuotePayload(t *testing.T) {
	misaligned := func(key []byte) []byte {
		// Structure { ByteString of declared length 8, then 8 key bytes }.
		b := hx("42 00 79 | 01 | 00 00 00 18 | 42 00 40 | 08 | 00 00 00 08 | 11 22 33 44 55 66 77 88")
		return append(b, key...)
	}
	cases := map[string][]byte{
		"bad tag":       misaligned(secret),
		"unknown type":  misaligned([]byte{0x42, 0x8B, 0x7C, 0x6D, 0x5E, 0x4F, 0x30, 0x21}),
		"length":        misaligned([]byte{0x42, 0x8B, 0x7C, 0x07, 0x9A, 0x8B, 0x7C, 0x6D}),
		"fixed length":  misaligned([]byte{0x42, 0x8B, 0x7C, 0x02, 0x00, 0x00, 0x00, 0x05}),
		"boolean value": hx("42 00 79 | 01 | 00 00 00 10 | 42 00 08 | 06 | 00 00 00 08 | 9A 8B 7C 6D 5E 4F 30 21"),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(b, Limits{}); err == nil {
				t.Fatal("decoded")
			} else if l := leaks(err.Error(), b[len(b)-8:]); l != "" {
				t.Fatalf("error %q quotes payload bytes %s", err, l)
			}
		})
	}
	t.Run("stream", func(t *testing.T) {
		// The stream lost step and a message starts inside key material.
		for _, b := range [][]byte{
			secret,
			{0x42, 0x8B, 0x7C, 0x6D, 0x5E, 0x4F, 0x30, 0x21},
			{0x42, 0x8B, 0x7C, 0x01, 0x9A, 0x8B, 0x7C, 0x6D},
			{0x42, 0x8B, 0x7C, 0x01, 0x00, 0x00, 0x7C, 0x68},
		} {
			_, err := ReadMessage(bytes.NewReader(b), nil, 1<<20)
			if err == nil {
				t.Fatalf("%X: read", b)
			}
			if l := leaks(err.Error(), b); l != "" {
				t.Fatalf("error %q quotes payload bytes %s", err, l)
			}
		}
	})
}

// TestEncodeRejectsUnrepresentableTimes: a Date-Time Extended beyond the
// int64 microsecond range must fail, not wrap around to another date.
func TestEncodeRejectsUnrepresentableTimes(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-300000, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		it := &kmip.Item{Tag: 0x420001, Type: kmip.TypeDateTimeExtended, Value: tm}
		if b, err := Encode(it); !errors.Is(err, ErrInvalid) {
			got, _ := Decode(b, Limits{})
			t.Errorf("Encode(%v) = %v, %v; want ErrInvalid", tm, got, err)
		}
	}
	// Pre-1970 and non-UTC times encode the same instant.
	tm := time.Date(1901, 2, 3, 4, 5, 6, 7000, time.FixedZone("x", -5*3600))
	for _, typ := range []kmip.Type{kmip.TypeDateTime, kmip.TypeDateTimeExtended} {
		b, err := Encode(&kmip.Item{Tag: 0x420001, Type: typ, Value: tm})
		if err != nil {
			t.Fatal(err)
		}
		it, err := Decode(b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := it.AsTime()
		want := tm.Truncate(time.Second)
		if typ == kmip.TypeDateTimeExtended {
			want = tm.Truncate(time.Microsecond)
		}
		if !got.Equal(want) {
			t.Errorf("%s: %v decoded as %v", typ, tm, got)
		}
	}
}
