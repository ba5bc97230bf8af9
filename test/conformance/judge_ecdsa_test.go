package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// The secp256k1 key pair, data and recorded signature of OASIS
// TC-ECDSA-SIGN-1-14, and the bad signature it verifies (last byte changed).
const (
	k1PrivDER = "30740201010420db4d128c30ca309e62c4019758c00ba244dd64d9bf52a31078866b8a00c19c68a00706052b8104000aa14403420004dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366"
	k1Scalar  = "db4d128c30ca309e62c4019758c00ba244dd64d9bf52a31078866b8a00c19c68"
	k1Data    = "01020304050607080910111213141516"
	k1Good    = "30440220078ac91570286b4b35f2bf1da113c6e25e8c45dfc7a7dc7db07f7ff34ffc08d702200135d58e21d091e60b81a0e63db3d914af9fe56de9b3cf747cd8ecc74a75ee71"
	k1Bad     = "30440220078ac91570286b4b35f2bf1da113c6e25e8c45dfc7a7dc7db07f7ff34ffc08d702200135d58e21d091e60b81a0e63db3d914af9fe56de9b3cf747cd8ecc74a75eeff"
	sha256EC  = `<HashingAlgorithm type="Enumeration" value="SHA_256"/><CryptographicAlgorithm type="Enumeration" value="ECDSA"/>`
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// k1Sign signs SHA-256(data) with the case's private key, with decred.
func k1Sign(t *testing.T, data []byte) []byte {
	d := sha256.Sum256(data)
	return k1ecdsa.Sign(secp256k1.PrivKeyFromBytes(mustHex(t, k1Scalar)), d[:]).Serialize()
}

// registerEC plays a KMIP 1.4 Register of a key object (PrivateKey or
// PublicKey) with the given format and DER, bound to uid.
func registerEC(t *testing.T, s *Session, object, format string, der []byte, uid string) {
	t.Helper()
	req := request("Register", `<ObjectType type="Enumeration" value="`+object+`"/><TemplateAttribute/>
  <`+object+`><KeyBlock><KeyFormatType type="Enumeration" value="`+format+`"/>
  <KeyValue><KeyMaterial type="ByteString" value="`+hex.EncodeToString(der)+`"/></KeyValue>
  <CryptographicAlgorithm type="Enumeration" value="EC"/><CryptographicLength type="Integer" value="256"/></KeyBlock></`+object+`>`)
	if _, err := s.Request(node(t, req)); err != nil {
		t.Fatal(err)
	}
	exp := node(t, response(batch("Register", "Success", `<ResponsePayload><UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/></ResponsePayload>`)))
	act := actual(t, response(batch("Register", "Success", `<ResponsePayload><UniqueIdentifier type="TextString" value="`+uid+`"/></ResponsePayload>`)))
	if err := s.Judge(exp, act); err != nil {
		t.Fatal(err)
	}
}

// judgeSign plays a Sign of data under uid with the request's Cryptographic
// Parameters children, whose recorded Signature Data is recorded (a hex
// value or a variable), and judges got as the server's.
func judgeSign(t *testing.T, s *Session, uid, params string, data []byte, recorded string, got []byte) error {
	t.Helper()
	req := request("Sign", `<UniqueIdentifier type="TextString" value="`+uid+`"/><CryptographicParameters>`+params+`</CryptographicParameters>
  <Data type="ByteString" value="`+hex.EncodeToString(data)+`"/>`)
	if _, err := s.Request(node(t, req)); err != nil {
		t.Fatal(err)
	}
	payload := func(sig string) string {
		return `<ResponsePayload><UniqueIdentifier type="TextString" value="` + uid + `"/><SignatureData type="ByteString" value="` + sig + `"/></ResponsePayload>`
	}
	return s.Judge(node(t, response(batch("Sign", "Success", payload(recorded)))),
		actual(t, response(batch("Sign", "Success", payload(hex.EncodeToString(got))))))
}

func TestJudgeECDSASignature(t *testing.T) {
	data := mustHex(t, k1Data)
	fresh := k1Sign(t, data)
	cases := []struct {
		name, params, recorded string
		got                    []byte
		wantErr                string // "" means the signature must conform
	}{
		{"fresh signature, variable", sha256EC, "$SIGNATURE_DATA", fresh, ""},
		{"the recorded signature, variable", sha256EC, "$SIGNATURE_DATA", mustHex(t, k1Good), ""},
		{"fresh signature, literal", sha256EC, k1Good, fresh, ""},
		{"by Digital Signature Algorithm", `<DigitalSignatureAlgorithm type="Enumeration" value="ECDSAWithSHA256"/>`, "$SIGNATURE_DATA", fresh, ""},
		{"bad signature", sha256EC, "$SIGNATURE_DATA", mustHex(t, k1Bad), "does not verify over the request's data under the registered secp256k1 key"},
		{"bad signature, literal", sha256EC, k1Good, mustHex(t, k1Bad), "does not verify"},
		{"signature of other data", sha256EC, "$SIGNATURE_DATA", k1Sign(t, []byte("other data")), "does not verify"},
		{"not a signature", sha256EC, "$SIGNATURE_DATA", []byte("anything at all"), "does not verify"},
		{"wrong hash", `<HashingAlgorithm type="Enumeration" value="SHA_384"/>`, "$SIGNATURE_DATA", fresh, "does not verify"},
		{"no hash", `<CryptographicAlgorithm type="Enumeration" value="ECDSA"/>`, "$SIGNATURE_DATA", fresh, "name no hash"},
		{"unverifiable recording", sha256EC, k1Bad, fresh, "the recorded signature does not verify"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTestSession()
			registerEC(t, s, "PrivateKey", "ECPrivateKey", mustHex(t, k1PrivDER), "priv-1")
			err := judgeSign(t, s, "priv-1", c.params, data, c.recorded, c.got)
			checkErr(t, err, c.wantErr)
			if err == nil && c.recorded == "$SIGNATURE_DATA" {
				v, ok := s.Var("$SIGNATURE_DATA")
				if b, _ := v.AsBytes(); !ok || hex.EncodeToString(b) != hex.EncodeToString(c.got) {
					t.Errorf("$SIGNATURE_DATA bound to %v, want the server's signature", v)
				}
			}
		})
	}
}

// A P-256 public key registered as X.509 guards a Sign under it too, and
// the rule leaves Signs under keys the case did not register alone.
func TestJudgeECDSASignatureP256AndNarrow(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("data to sign")
	sign := func(k *ecdsa.PrivateKey) []byte {
		d := sha256.Sum256(data)
		sig, err := ecdsa.SignASN1(rand.Reader, k, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	for _, c := range []struct {
		name, uid string
		got       []byte
		wantErr   string
	}{
		{"valid", "pub-1", sign(key), ""},
		{"another key's", "pub-1", sign(other), "does not verify over the request's data under the registered P-256 key"},
		{"unregistered key: any value binds", "created-elsewhere", []byte("anything"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newTestSession()
			registerEC(t, s, "PublicKey", "X_509", spki, "pub-1")
			checkErr(t, judgeSign(t, s, c.uid, sha256EC, data, "$SIGNATURE_DATA", c.got), c.wantErr)
		})
	}
}
