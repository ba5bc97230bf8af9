package kmipparams

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

var paddings = []kmip.PaddingMethod{kmip.PaddingMethodPKCS5, kmip.PaddingMethodANSIX9_23, kmip.PaddingMethodISO10126}

func TestPaddingRoundTrip(t *testing.T) {
	for _, pad := range paddings {
		for _, bs := range []int{8, 16} {
			for n := 0; n <= 2*bs+1; n++ {
				data := bytes.Repeat([]byte{0xA5}, n)
				padded := AddPadding(data, bs, pad)
				want := (n/bs + 1) * bs // always 1 to bs bytes of padding
				if len(padded) != want {
					t.Fatalf("%s bs %d: %d bytes padded to %d, want %d", pad, bs, n, len(padded), want)
				}
				if !bytes.Equal(padded[:n], data) || int(padded[len(padded)-1]) != want-n {
					t.Fatalf("%s bs %d n %d: padded %x", pad, bs, n, padded)
				}
				tail := padded[n : len(padded)-1]
				for _, c := range tail {
					switch {
					case pad == kmip.PaddingMethodPKCS5 && int(c) != want-n,
						pad == kmip.PaddingMethodANSIX9_23 && c != 0:
						t.Fatalf("%s bs %d n %d: pad bytes %x", pad, bs, n, tail)
					}
				}
				got, err := RemovePadding(padded, bs, pad)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s bs %d n %d: RemovePadding = %x, %v", pad, bs, n, got, err)
				}
			}
		}
	}
}

// AddPadding must not write into spare capacity of the caller's slice.
func TestAddPaddingLeavesInputAlone(t *testing.T) {
	buf := make([]byte, 3, 64)
	spare := buf[:64]
	spare[3] = 0xEE
	AddPadding(buf, 16, kmip.PaddingMethodPKCS5)
	if spare[3] != 0xEE {
		t.Fatal("AddPadding wrote into the input's backing array")
	}
}

func TestRemovePaddingRejects(t *testing.T) {
	block := func(tail ...byte) []byte { return append(bytes.Repeat([]byte{1}, 16-len(tail)), tail...) }
	cases := []struct {
		name string
		data []byte
		pad  kmip.PaddingMethod
	}{
		{"empty", nil, kmip.PaddingMethodPKCS5},
		{"not whole blocks", make([]byte, 15), kmip.PaddingMethodANSIX9_23},
		{"count zero", block(0), kmip.PaddingMethodPKCS5},
		{"count zero X9.23", block(0), kmip.PaddingMethodANSIX9_23},
		{"count above block", block(17), kmip.PaddingMethodISO10126},
		{"PKCS#5 byte differs", block(3, 4, 4, 4), kmip.PaddingMethodPKCS5},
		{"PKCS#5 first pad byte differs", append(bytes.Repeat([]byte{15}, 15), 16), kmip.PaddingMethodPKCS5},
	}
	for _, c := range cases {
		if _, err := RemovePadding(c.data, 16, c.pad); !errors.Is(err, ports.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", c.name, err)
		}
	}
	// X9.23 and ISO 10126 check the count only.
	for _, pad := range []kmip.PaddingMethod{kmip.PaddingMethodANSIX9_23, kmip.PaddingMethodISO10126} {
		got, err := RemovePadding(block(9, 9, 9, 4), 16, pad)
		if err != nil || len(got) != 12 {
			t.Errorf("%s: %x, %v", pad, got, err)
		}
	}
}

func TestBlockPadding(t *testing.T) {
	cases := []struct {
		in   kmip.PaddingMethod
		want kmip.PaddingMethod
		err  error
	}{
		{0, 0, nil},
		{kmip.PaddingMethodNone, 0, nil},
		{kmip.PaddingMethodPKCS5, kmip.PaddingMethodPKCS5, nil},
		{kmip.PaddingMethodANSIX9_23, kmip.PaddingMethodANSIX9_23, nil},
		{kmip.PaddingMethodISO10126, kmip.PaddingMethodISO10126, nil},
		{kmip.PaddingMethodOAEP, 0, ports.ErrUnsupported},
		{kmip.PaddingMethodSSL3, 0, ports.ErrUnsupported},
	}
	for _, c := range cases {
		got, err := BlockPadding(ports.CryptoParams{PaddingMethod: uint32(c.in)})
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("BlockPadding(%s) = %s, %v; want %s, %v", c.in, got, err, c.want, c.err)
		}
	}
}
