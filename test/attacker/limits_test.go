package attacker

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// TestPrimeFieldSizeIsBounded: bob asks for a split over a prime field of
// 11213 bits (2^11213-1, a Mersenne prime). Testing its primality alone keeps
// a core busy for many seconds; kmipd refuses it at once as Invalid Field
// (issue 12, item 3).
func TestPrimeFieldSizeIsBounded(t *testing.T) {
	tg := start(t, harness.Options{})
	prime := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 11213), big.NewInt(1))
	began := time.Now()
	_, err := tg.bob.Call(kmip.OperationCreateSplitKey,
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypeSplitKey)),
		kmip.Int(kmip.TagSplitKeyParts, 3), kmip.Int(kmip.TagSplitKeyThreshold, 2),
		kmip.Enum(kmip.TagSplitKeyMethod, uint32(kmip.SplitKeyMethodPolynomialSharingPrimeField)),
		kmip.Big(kmip.TagPrimeFieldSize, prime),
		kmip.Struct(kmip.TagTemplateAttribute,
			kmipclient.Attribute("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES))),
			kmipclient.Attribute("Cryptographic Length", kmip.Int(0, 128))))
	took := time.Since(began)
	if reason(err) != kmip.ResultReasonInvalidField {
		t.Errorf("Create Split Key over an 11213-bit prime: %v, want Invalid Field", err)
	}
	if took > 3*time.Second {
		t.Errorf("the refusal took %s; the size must be checked before the primality test", took)
	}
}

// TestObjectAttributesAreBounded: a client cannot grow one object without
// limit (issue 12, item 6). With the defaults, a 900 KB attribute value is
// refused (Invalid Field), 60 KB values are refused once the object's
// attributes would pass 1 MiB (Permission Denied), the 65th instance of one
// attribute is refused (Index Out of Bounds), and Get Attributes answers
// less than the object limit plus the message overhead.
func TestObjectAttributesAreBounded(t *testing.T) {
	tg := start(t, harness.Options{})
	id := createAES(t, tg.alice, "", kmip.CryptographicUsageMaskEncrypt)
	add := func(name string, size int) error {
		_, err := tg.alice.Call(kmip.OperationAddAttribute, uid(id),
			kmipclient.Attribute(name, kmip.Text(0, strings.Repeat("a", size))))
		return err
	}
	if err := add("x-huge", 900_000); reason(err) != kmip.ResultReasonInvalidField {
		t.Errorf("Add Attribute of 900 KB: %v, want Invalid Field", err)
	}
	var added int
	for ; added < 40; added++ {
		if err := add(fmt.Sprintf("x-big-%d", added), 60_000); err != nil {
			if reason(err) != kmip.ResultReasonPermissionDenied {
				t.Fatalf("Add Attribute %d of 60 KB: %v, want Permission Denied", added, err)
			}
			break
		}
	}
	if added == 40 || added > 18 {
		t.Errorf("%d attributes of 60 KB were added; the 1 MiB object limit allows 17", added)
	}
	for i := 0; i < 65; i++ {
		err := add("x-tag", 1)
		if i < 64 && err != nil {
			t.Fatalf("instance %d of x-tag: %v", i+1, err)
		}
		if i == 64 && reason(err) != kmip.ResultReasonIndexOutOfBounds {
			t.Errorf("instance 65 of x-tag: %v, want Index Out of Bounds", err)
		}
	}
	out := harness.Call(t, tg.alice, kmip.OperationGetAttributes, uid(id))
	if n := kmip.EncodedLen(out); n > 1<<20+64<<10 {
		t.Errorf("Get Attributes answered %d bytes", n)
	}
}

// sha256Params are the Cryptographic Parameters of a SHA-256 Hash.
func sha256Params() *kmip.Item {
	return kmip.Struct(kmip.TagCryptographicParameters, kmip.Enum(kmip.TagHashingAlgorithm, uint32(kmip.HashingAlgorithmSHA_256)))
}

// openHash starts a streamed SHA-256 Hash for c and returns its Correlation
// Value, or the error.
func openHash(c *kmipclient.Client) ([]byte, error) {
	out, err := c.Call(kmip.OperationHash, sha256Params(),
		kmip.Bytes(kmip.TagData, bytes.Repeat([]byte("x"), 4096)), kmip.Bool(kmip.TagInitIndicator, true))
	if err != nil {
		return nil, err
	}
	cv, _ := out.Child(kmip.TagCorrelationValue).AsBytes()
	return cv, nil
}

// TestAbandonedStreamsAreBounded: bob opens streams and never finishes
// them (issue 12, item 7). With the defaults his 17th is refused with
// Permission Denied, while alice can still stream.
func TestAbandonedStreamsAreBounded(t *testing.T) {
	tg := start(t, harness.Options{})
	for i := 0; i < 16; i++ {
		if _, err := openHash(tg.bob); err != nil {
			t.Fatalf("bob's stream %d: %v", i+1, err)
		}
	}
	if _, err := openHash(tg.bob); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("bob's 17th open stream: %v, want Permission Denied", err)
	}
	if _, err := openHash(tg.alice); err != nil {
		t.Errorf("alice's stream while bob holds his limit: %v", err)
	}
}

// TestStreamLimitsHoldAcrossNodes: two kmipd nodes on one database count
// the same streams, because the count is the store's scratch records.
func TestStreamLimitsHoldAcrossNodes(t *testing.T) {
	o := harness.Options{ExtraServerTOML: "max_streams_per_client = 4\nmax_streams = 6"}
	a := harness.Start(t, o)
	b := harness.Start(t, o)
	b.Stop(t)
	cfg, err := os.ReadFile(b.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.ConfigPath, []byte(strings.ReplaceAll(string(cfg), b.DBPath, a.DBPath)), 0o600); err != nil {
		t.Fatal(err)
	}
	b.DBPath = a.DBPath
	b.Restart(t)
	bobA, bobB, alice := a.Dial(t, "bob", 1, 4), b.Dial(t, "bob", 1, 4), a.Dial(t, "alice", 1, 4)
	var first []byte
	for i, c := range []*kmipclient.Client{bobA, bobB, bobA, bobB} {
		cv, err := openHash(c)
		if err != nil {
			t.Fatalf("bob's stream %d: %v", i+1, err)
		}
		if first == nil {
			first = cv
		}
	}
	for name, c := range map[string]*kmipclient.Client{"A": bobA, "B": bobB} {
		if _, err := openHash(c); reason(err) != kmip.ResultReasonPermissionDenied {
			t.Errorf("bob's 5th stream on node %s: %v, want Permission Denied", name, err)
		}
	}
	for i := 0; i < 2; i++ {
		if _, err := openHash(alice); err != nil {
			t.Fatalf("alice's stream %d: %v", i+1, err)
		}
	}
	if _, err := openHash(alice); reason(err) != kmip.ResultReasonPermissionDenied {
		t.Errorf("a 7th stream in all: %v, want Permission Denied", err)
	}
	// Bob finishes his first stream on the other node: room for one more.
	harness.Call(t, bobB, kmip.OperationHash, sha256Params(), kmip.Bytes(kmip.TagCorrelationValue, first), kmip.Bool(kmip.TagFinalIndicator, true))
	if _, err := openHash(alice); err != nil {
		t.Errorf("alice's stream after bob finished one: %v", err)
	}
}

// TestHugeRSAKeyIsRefusedAtOnce: bob registers a PKCS#1 "private key" with
// a 524288-bit modulus (about 300 KB, inside one message). Validating it
// takes crypto/x509 many seconds of one core; kmipd refuses keys over 16384
// bits before parsing them, as Invalid Field (issue 12, item 3).
func TestHugeRSAKeyIsRefusedAtOnce(t *testing.T) {
	tg := start(t, harness.Options{})
	odd := func(bits int) *big.Int {
		n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		return n.SetBit(n, 0, 1)
	}
	const bits = 524288
	der, err := asn1.Marshal(struct {
		Version                     int
		N, E, D, P, Q, Dp, Dq, Qinv *big.Int
	}{0, odd(bits), big.NewInt(65537), odd(bits - 2), odd(bits / 2), odd(bits / 2), odd(bits/2 - 2), odd(bits/2 - 2), odd(bits/2 - 2)})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_, err = tg.bob.Call(kmip.OperationRegister,
		kmip.Enum(kmip.TagObjectType, uint32(kmip.ObjectTypePrivateKey)),
		kmip.Struct(kmip.TagTemplateAttribute),
		kmip.Struct(kmip.TagPrivateKey, kmip.Struct(kmip.TagKeyBlock,
			kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypePKCS_1)),
			kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, der)),
			kmip.Enum(kmip.TagCryptographicAlgorithm, uint32(kmip.CryptographicAlgorithmRSA)),
			kmip.Int(kmip.TagCryptographicLength, bits))))
	took := time.Since(began)
	if reason(err) != kmip.ResultReasonInvalidField {
		t.Errorf("Register of a %d-bit RSA key: %v, want Invalid Field", bits, err)
	}
	if took > 3*time.Second {
		t.Errorf("the refusal took %s; the size must be checked before parsing", took)
	}
}

// TestBatchResponseIsBounded: bob sends one batch of RNG Retrieve items
// whose answers together pass max_response_size (here its minimum, 64 KiB;
// by default 1000 items of 1 MiB would build a gigabyte). The item that
// would pass it answers Response Too Large and the batch stops there.
func TestBatchResponseIsBounded(t *testing.T) {
	tg := start(t, harness.Options{ExtraServerTOML: "max_response_size = 65536"})
	var items []*kmip.Item
	for i := 0; i < 10; i++ {
		items = append(items, kmipclient.BatchItem(kmip.OperationRNGRetrieve, kmip.Int(kmip.TagDataLength, 16<<10)))
	}
	resp, err := tg.bob.RoundTrip(tg.bob.Request(items...))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := kmipclient.Results(resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 4 {
		t.Fatalf("%d batch items answered, want 3 successes and Response Too Large", len(rs))
	}
	for _, r := range rs[:3] {
		if r.Err != nil {
			t.Errorf("an item within the limit: %v", r.Err)
		}
	}
	if reason(rs[3].Err) != kmip.ResultReasonResponseTooLarge || rs[3].Payload != nil {
		t.Errorf("the item past the limit: %v, want Response Too Large without a payload", rs[3].Err)
	}
	if n := kmip.EncodedLen(resp); n > 65536+4096 {
		t.Errorf("response of %d bytes", n)
	}
}

// TestBatchResponseDefaultBound: with the defaults, 20 RNG Retrieve items of
// 1 MiB would answer 20 MiB; kmipd answers the first 15 and refuses the
// 16th, which would pass 16 MiB, with Response Too Large.
func TestBatchResponseDefaultBound(t *testing.T) {
	tg := start(t, harness.Options{})
	var items []*kmip.Item
	for i := 0; i < 20; i++ {
		items = append(items, kmipclient.BatchItem(kmip.OperationRNGRetrieve, kmip.Int(kmip.TagDataLength, 1<<20)))
	}
	resp, err := tg.bob.RoundTrip(tg.bob.Request(items...))
	if err != nil {
		t.Fatalf("a batch of 20 MiB of RNG output: %v", err)
	}
	rs, err := kmipclient.Results(resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 16 || reason(rs[15].Err) != kmip.ResultReasonResponseTooLarge {
		t.Fatalf("%d batch items answered (last: %v), want 15 successes and Response Too Large", len(rs), rs[len(rs)-1].Err)
	}
}
