package keyformat

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Test vectors made with OpenSSL: a P-256 key with explicit curve
// parameters (-param_enc explicit) as PKCS#8 and SEC 1, and a
// brainpoolP256r1 key as PKCS#8 and SubjectPublicKeyInfo, and a
// self-signed brainpoolP256r1 certificate (used by app's tests).
const (
	explicitP256PKCS8Hex = "308201790201003082010306072a8648ce3d02013081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b031500c49d360886e704936a6678e1139d26b7819f7e900441046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101046d306b02010104200a3be21190dac7361ac2ed567f7da5359b403edfebfa404d79679f600217dc33a14403420004b2d65adc347a38345941b06a5450756caced5bed472b585ac6ec7e5f0557c281ffa56960fc40a68e1ab8414c120c71be511fc6ca614f94d624214b4079c42c1f"
	explicitP256SEC1Hex  = "3082016802010104200a3be21190dac7361ac2ed567f7da5359b403edfebfa404d79679f600217dc33a081fa3081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b031500c49d360886e704936a6678e1139d26b7819f7e900441046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101a14403420004b2d65adc347a38345941b06a5450756caced5bed472b585ac6ec7e5f0557c281ffa56960fc40a68e1ab8414c120c71be511fc6ca614f94d624214b4079c42c1f"
	brainpoolPKCS8Hex    = "308188020100301406072a8648ce3d020106092b2403030208010107046d306b02010104205ce82f19ae0974ec290baf15e895587becafd14589d04677052bd96beb4bfd23a1440342000487ae66573b48d60f83061654bdce2a7a412d52f7de8ed6e5ba050fbf1260f2311469d2429184f7ccbe8b94093f383dfe647888ef7786047b51e5b329413ea04c"
	brainpoolSPKIHex     = "305a301406072a8648ce3d020106092b24030302080101070342000487ae66573b48d60f83061654bdce2a7a412d52f7de8ed6e5ba050fbf1260f2311469d2429184f7ccbe8b94093f383dfe647888ef7786047b51e5b329413ea04c"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestForeignEC: EC keys on curves Go cannot use are recognised as such,
// with their curve and field size, and Decode calls them unsupported (not
// malformed), so Register stores them as registered.
func TestForeignEC(t *testing.T) {
	cases := []struct {
		name   string
		format kmip.KeyFormatType
		hex    string
		want   ForeignEC
	}{
		{"explicit PKCS#8", kmip.KeyFormatTypePKCS_8, explicitP256PKCS8Hex, ForeignEC{"explicit parameters", 256}},
		{"explicit SEC 1", kmip.KeyFormatTypeECPrivateKey, explicitP256SEC1Hex, ForeignEC{"explicit parameters", 256}},
		{"brainpool PKCS#8", kmip.KeyFormatTypePKCS_8, brainpoolPKCS8Hex, ForeignEC{"brainpoolP256r1", 256}},
		{"brainpool SPKI", kmip.KeyFormatTypeX_509, brainpoolSPKIHex, ForeignEC{"brainpoolP256r1", 256}},
	}
	for _, c := range cases {
		b := mustHex(t, c.hex)
		got, ok := IsForeignEC(b)
		if !ok || got != c.want {
			t.Errorf("%s: IsForeignEC = %+v, %v; want %+v", c.name, got, ok, c.want)
		}
		if _, err := Decode(c.format, kmip.Bytes(kmip.TagKeyMaterial, b)); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: Decode: %v, want ErrUnsupported", c.name, err)
		}
	}
	for _, b := range [][]byte{{0x30, 0x00}, []byte("garbage")} {
		if _, ok := IsForeignEC(b); ok {
			t.Errorf("%x called a foreign EC key", b)
		}
	}
}

// Material that is not a DER SEQUENCE, such as a symmetric key's bytes, is
// answered without parsing: Encrypt and Decrypt ask at every call.
func TestIsForeignECSkipsNonSequences(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i*37 + 1)
	}
	if allocs := testing.AllocsPerRun(100, func() { IsForeignEC(key) }); allocs != 0 {
		t.Fatalf("IsForeignEC on a 32-byte symmetric key: %v allocations, want 0", allocs)
	}
	if _, ok := IsForeignEC(key); ok {
		t.Fatal("a symmetric key taken for an EC key")
	}
}
