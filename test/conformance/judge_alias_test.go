package conformance

import (
	"bytes"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// A cipher text the server generated differently from the recording (its key
// was created in the case) replaces the recorded literal in later requests,
// so a Decrypt that quotes the recorded cipher text sends the server's own;
// literals the server did not replace are sent as recorded.
func TestJudgeLiteralAlias(t *testing.T) {
	s := newTestSession()
	send := func(op, payload string) *kmip.Item {
		t.Helper()
		x := `<RequestMessage><RequestHeader><BatchCount type="Integer" value="1"/></RequestHeader>
  <BatchItem><Operation type="Enumeration" value="` + op + `"/><RequestPayload>` + payload + `</RequestPayload></BatchItem></RequestMessage>`
		it, err := s.Request(node(t, x))
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	send("Create", ``) // the case's key is generated: its cipher texts are too
	send("Encrypt", `<Data type="ByteString" value="0102"/>`)
	exp := node(t, response(batch("Encrypt", "Success", `<ResponsePayload><Data type="ByteString" value="fd91"/></ResponsePayload>`)))
	if err := s.Judge(exp, actual(t, response(batch("Encrypt", "Success", `<ResponsePayload><Data type="ByteString" value="abcd"/></ResponsePayload>`)))); err != nil {
		t.Fatal(err)
	}
	dec := send("Decrypt", `<Data type="ByteString" value="fd91"/><IVCounterNonce type="ByteString" value="0304"/>`)
	if b, _ := dec.Path(kmip.TagBatchItem, kmip.TagRequestPayload, kmip.TagData).AsBytes(); !bytes.Equal(b, []byte{0xab, 0xcd}) {
		t.Errorf("the recorded cipher text was sent as %x, want the server's abcd", b)
	}
	if b, _ := dec.Path(kmip.TagBatchItem, kmip.TagRequestPayload, kmip.TagIVCounterNonce).AsBytes(); !bytes.Equal(b, []byte{0x03, 0x04}) {
		t.Errorf("an unrelated literal was changed to %x", b)
	}
}
