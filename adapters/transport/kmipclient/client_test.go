package kmipclient

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
	"github.com/kmipd/kmipd/domain/kmip"
)

// TestFailedRoundTripDoesNotDesync checks that after a round trip that failed
// midway (here: the response arrived after the timeout), the client does not
// hand the late response of the first request to the second one.
func TestFailedRoundTripDoesNotDesync(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cli, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := &Client{Major: 1, Minor: 4, Timeout: 50 * time.Millisecond, conn: cli}
	defer c.Close()

	first := kmip.Struct(kmip.TagResponseMessage, kmip.Text(kmip.TagResultMessage, "answer to the first request"))
	late := make(chan struct{})
	go func() {
		// Read the first request, answer it only after the client gave up.
		if _, err := ttlv.ReadMessage(srv, nil, 0); err != nil {
			return
		}
		<-late
		b, _ := ttlv.Encode(first)
		srv.Write(b)
		// Answer the second request, if it comes, with something else.
		if _, err := ttlv.ReadMessage(srv, nil, 0); err != nil {
			return
		}
		b, _ = ttlv.Encode(kmip.Struct(kmip.TagResponseMessage))
		srv.Write(b)
	}()

	if _, err := c.RoundTrip(c.Request()); err == nil {
		t.Fatal("first round trip succeeded; want a timeout")
	}
	close(late)
	c.Timeout = 5 * time.Second
	resp, err := c.RoundTrip(c.Request())
	if err == nil && resp.Equal(first) {
		t.Fatal("second round trip returned the first request's response")
	}
	if !errors.Is(err, ErrBroken) {
		t.Fatalf("second round trip: %v, want ErrBroken", err)
	}
}

func TestRequestNumbersMultiItemBatches(t *testing.T) {
	c := &Client{Major: 1, Minor: 4}
	one := c.Request(BatchItem(kmip.OperationQuery))
	if one.Path(kmip.TagBatchItem, kmip.TagUniqueBatchItemID) != nil {
		t.Error("a single-item batch got a Unique Batch Item ID")
	}
	two := c.Request(BatchItem(kmip.OperationQuery), BatchItem(kmip.OperationDiscoverVersions))
	seen := map[string]bool{}
	for _, bi := range two.ChildrenOf(kmip.TagBatchItem) {
		kids := bi.Children()
		if len(kids) < 2 || kids[1].Tag != kmip.TagUniqueBatchItemID {
			t.Fatalf("batch item %v has no Unique Batch Item ID after its Operation", bi)
		}
		id, _ := kids[1].AsBytes()
		if seen[string(id)] {
			t.Fatal("duplicate Unique Batch Item ID")
		}
		seen[string(id)] = true
	}
}

func TestRequestBuilders(t *testing.T) {
	v := kmip.Int(kmip.TagCryptographicLength, 128)
	a := Attribute("Cryptographic Length", v)
	if v.Tag != kmip.TagCryptographicLength {
		t.Error("Attribute changed its argument")
	}
	if n, _ := a.Child(kmip.TagAttributeName).AsText(); n != "Cryptographic Length" {
		t.Errorf("attribute name %q", n)
	}
	if l, _ := a.Child(kmip.TagAttributeValue).AsInt(); l != 128 {
		t.Errorf("attribute value %d", l)
	}
	p := CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256, kmip.CryptographicUsageMaskEncrypt, "k")
	if ot, _ := p[0].AsEnum(); kmip.ObjectType(ot) != kmip.ObjectTypeSymmetricKey {
		t.Error("not a symmetric key request")
	}
	if n := len(p[1].ChildrenOf(kmip.TagAttribute)); n != 4 {
		t.Errorf("%d attributes, want 4 with the name", n)
	}
	if n := len(CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 256, kmip.CryptographicUsageMaskEncrypt, "")[1].ChildrenOf(kmip.TagAttribute)); n != 3 {
		t.Errorf("%d attributes, want 3 without a name", n)
	}
}
