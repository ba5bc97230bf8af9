package ttlv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/kmipd/kmipd/domain/kmip"
)

func TestReadMessageStream(t *testing.T) {
	m1, _ := Encode(getRequest())
	m2, _ := Encode(kmip.Struct(0x420078, kmip.Bytes(0x420002, bytes.Repeat([]byte{7}, 300_000))))
	m3 := hx("54 00 01 | 01 | 00 00 00 00")
	stream := bytes.NewReader(bytes.Join([][]byte{m1, m2, m3}, nil))
	r := iotest.HalfReader(stream)

	buf := make([]byte, 0, 1024)
	got, err := ReadMessage(r, buf, 0)
	if err != nil || !bytes.Equal(got, m1) {
		t.Fatalf("message 1: %v", err)
	}
	if &got[0] != &buf[:1][0] {
		t.Error("message 1 did not reuse buf")
	}
	got, err = ReadMessage(r, buf, 0) // too large for buf: a fresh buffer
	if err != nil || !bytes.Equal(got, m2) {
		t.Fatalf("message 2: %v", err)
	}
	got, err = ReadMessage(r, nil, 0)
	if err != nil || !bytes.Equal(got, m3) {
		t.Fatalf("message 3: %v", err)
	}
	if _, err = ReadMessage(r, buf, 0); err != io.EOF {
		t.Fatalf("after the last message: err = %v, want io.EOF", err)
	}
	if it, err := Decode(m2, Limits{}); err != nil || len(it.Children()) != 1 {
		t.Fatalf("Decode of message 2: %v", err)
	}
}

func TestReadMessageErrors(t *testing.T) {
	m, _ := Encode(getRequest())
	cases := []struct {
		name    string
		in      []byte
		maxSize int
		want    []error
	}{
		{"truncated header", m[:5], 0, []error{ErrFraming, io.ErrUnexpectedEOF}},
		{"truncated body", m[:len(m)-3], 0, []error{ErrFraming, io.ErrUnexpectedEOF}},
		{"header only", m[:8], 0, []error{ErrFraming, io.ErrUnexpectedEOF}},
		{"not a structure", hx("42 00 78 | 02 | 00 00 00 04 | 00 00 00 01 00 00 00 00"), 0, []error{ErrFraming}},
		{"bad tag", []byte("GET / HTTP/1.1\r\n\r\n"), 0, []error{ErrFraming}},
		{"too large", m, len(m) - 1, []error{ErrTooLarge, ErrFraming}},
		{"length 0xFFFFFFFF", hx("42 00 78 | 01 | FF FF FF FF"), 0, []error{ErrTooLarge}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadMessage(bytes.NewReader(c.in), nil, c.maxSize)
			if got != nil {
				t.Errorf("returned %d bytes with an error", len(got))
			}
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("err = %v, want it to match %v", err, w)
				}
			}
		})
	}
	// Exactly maxSize is allowed.
	if got, err := ReadMessage(bytes.NewReader(m), nil, len(m)); err != nil || !bytes.Equal(got, m) {
		t.Errorf("message of exactly maxSize: %v", err)
	}
}

func TestReadMessageTooLargeReadsOnlyHeader(t *testing.T) {
	in := bytes.NewReader(hx("42 00 78 | 01 | 7F FF FF F8 | 00 00 00 00 00 00 00 00"))
	if _, err := ReadMessage(in, nil, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if in.Len() != 8 {
		t.Errorf("ReadMessage consumed %d body bytes of an oversized message", 8-in.Len())
	}
}

func TestReadMessageCommitsMemoryAsBytesArrive(t *testing.T) {
	// A peer announcing a 16 MiB message and sending 16 bytes must not cost 16 MiB.
	var hdr [8]byte
	copy(hdr[:], []byte{0x42, 0x00, 0x78, 0x01})
	binary.BigEndian.PutUint32(hdr[4:], 16<<20-8)
	in := io.MultiReader(bytes.NewReader(hdr[:]), bytes.NewReader(make([]byte, 16)))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadMessage(in, nil, 16<<20)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, ErrFraming) {
		t.Fatalf("err = %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
		t.Errorf("allocated %d bytes for 24 bytes received", n)
	}
}
