package conformance

import "testing"

// Each stream's Correlation Value is the server's: a variable bound by one
// stream binds again when an Init Indicator starts the next, but stays
// fixed within a stream.
func TestJudgeCorrelationValuePerStream(t *testing.T) {
	s := newTestSession()
	req := func(extra string) {
		t.Helper()
		x := `<RequestMessage><RequestHeader><BatchCount type="Integer" value="1"/></RequestHeader>
  <BatchItem><Operation type="Enumeration" value="Encrypt"/><RequestPayload>` + extra + `</RequestPayload></BatchItem></RequestMessage>`
		if _, err := s.Request(node(t, x)); err != nil {
			t.Fatal(err)
		}
	}
	exp := node(t, response(batch("Encrypt", "Success", `<ResponsePayload><CorrelationValue type="ByteString" value="$CORRELATION_VALUE"/></ResponsePayload>`)))
	got := func(cv string) error {
		return s.Judge(exp, actual(t, response(batch("Encrypt", "Success", `<ResponsePayload><CorrelationValue type="ByteString" value="`+cv+`"/></ResponsePayload>`))))
	}
	req(`<InitIndicator type="Boolean" value="true"/>`)
	if err := got("aa"); err != nil {
		t.Fatal(err)
	}
	req(`<CorrelationValue type="ByteString" value="$CORRELATION_VALUE"/>`)
	if err := got("bb"); err == nil {
		t.Fatal("a Correlation Value that changed within a stream conformed")
	}
	if err := got("aa"); err != nil {
		t.Fatal(err)
	}
	req(`<InitIndicator type="Boolean" value="true"/>`)
	if err := got("bb"); err != nil {
		t.Fatalf("a new stream's Correlation Value: %v", err)
	}
	req(`<CorrelationValue type="ByteString" value="$CORRELATION_VALUE"/>`)
	if err := got("aa"); err == nil {
		t.Fatal("the previous stream's Correlation Value conformed")
	}
}

// Streaming Capability describes the server: either Boolean conforms; the
// other capabilities still compare.
func TestJudgeStreamingCapabilityIsServerChosen(t *testing.T) {
	s := newTestSession()
	exp := node(t, response(batch("Query", "Success", `<ResponsePayload><CapabilityInformation>
  <StreamingCapability type="Boolean" value="false"/><BatchUndoCapability type="Boolean" value="true"/>
</CapabilityInformation></ResponsePayload>`)))
	got := func(streaming, undo string) error {
		return s.Judge(exp, actual(t, response(batch("Query", "Success", `<ResponsePayload><CapabilityInformation>
  <StreamingCapability type="Boolean" value="`+streaming+`"/><BatchUndoCapability type="Boolean" value="`+undo+`"/>
</CapabilityInformation></ResponsePayload>`))))
	}
	if err := got("true", "true"); err != nil {
		t.Fatal(err)
	}
	if err := got("false", "true"); err != nil {
		t.Fatal(err)
	}
	if err := got("true", "false"); err == nil {
		t.Fatal("a different Batch Undo Capability conformed")
	}
}

// Asynchronous Capability describes the server too (the recorded server
// was never asynchronous, kmipd is when its store keeps scratch values).
func TestJudgeAsynchronousCapabilityIsServerChosen(t *testing.T) {
	s := newTestSession()
	exp := node(t, response(batch("Query", "Success", `<ResponsePayload><CapabilityInformation>
  <AsynchronousCapability type="Boolean" value="false"/><BatchUndoCapability type="Boolean" value="true"/>
</CapabilityInformation></ResponsePayload>`)))
	got := func(async, undo string) error {
		return s.Judge(exp, actual(t, response(batch("Query", "Success", `<ResponsePayload><CapabilityInformation>
  <AsynchronousCapability type="Boolean" value="`+async+`"/><BatchUndoCapability type="Boolean" value="`+undo+`"/>
</CapabilityInformation></ResponsePayload>`))))
	}
	if err := got("true", "true"); err != nil {
		t.Fatal(err)
	}
	if err := got("true", "false"); err == nil {
		t.Fatal("a different Batch Undo Capability conformed")
	}
}
