package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/kmipxml"
	"github.com/kmipd/kmipd/domain/kmip"
)

// node parses one XML message.
func node(t *testing.T, x string) *kmipxml.Node {
	t.Helper()
	ns, err := kmipxml.Parse(strings.NewReader(x))
	if err != nil || len(ns) != 1 {
		t.Fatalf("Parse: %v (%d nodes)\n%s", err, len(ns), x)
	}
	return ns[0]
}

// response wraps batch items in a ResponseMessage with a header.
func response(items ...string) string {
	return `<ResponseMessage><ResponseHeader>
  <ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="4"/></ProtocolVersion>
  <TimeStamp type="DateTime" value="$NOW"/><BatchCount type="Integer" value="1"/></ResponseHeader>` +
		strings.Join(items, "") + `</ResponseMessage>`
}

func batch(op, status, payload string) string {
	return `<BatchItem><Operation type="Enumeration" value="` + op + `"/>
  <ResultStatus type="Enumeration" value="` + status + `"/>` + payload + `</BatchItem>`
}

// actual types an XML response as the server's answer ($NOW is fixedNow).
func actual(t *testing.T, x string) *kmip.Item {
	t.Helper()
	x = strings.ReplaceAll(x, "$NOW", fixedNow.Format(time.RFC3339))
	it, err := node(t, x).Item()
	if err != nil {
		t.Fatal(err)
	}
	return it
}

var fixedNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func newTestSession() *Session {
	s := NewSession()
	s.Now = func() time.Time { return fixedNow }
	return s
}

const attrsExpected = `<ResponsePayload>
  <UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>
  <Attribute><AttributeName type="TextString" value="State"/><AttributeValue type="Enumeration" value="PreActive"/></Attribute>
  <Attribute><AttributeName type="TextString" value="Cryptographic Usage Mask"/><AttributeValue type="Integer" value="Decrypt Encrypt"/></Attribute>
  <Attribute><AttributeName type="TextString" value="Initial Date"/><AttributeValue type="DateTime" value="$NOW"/></Attribute>
</ResponsePayload>`

func TestJudge(t *testing.T) {
	createOK := response(batch("Create", "Success", `<ResponsePayload>
  <ObjectType type="Enumeration" value="SymmetricKey"/>
  <UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/></ResponsePayload>`))
	now := fixedNow.Format(time.RFC3339)
	hourAgo := fixedNow.Add(-time.Hour).Format(time.RFC3339)

	cases := []struct {
		name     string
		bound    map[string]string // variables bound before judging (TextStrings)
		expected string
		actual   string
		wantErr  string // "" means the response must conform
	}{
		{"pass and extra values allowed", nil, createOK, response(batch("Create", "Success", `<ResponsePayload>
  <UniqueIdentifier type="TextString" value="abc"/><ObjectType type="Enumeration" value="SymmetricKey"/>
  <TemplateAttribute/></ResponsePayload>`)), ""},
		{"wrong status", nil, createOK, response(`<BatchItem><Operation type="Enumeration" value="Create"/>
  <ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="InvalidField"/>
  <ResultMessage type="TextString" value="nope"/></BatchItem>`), `ResultStatus: got OperationFailed/InvalidField "nope", want Success`},
		{"wrong operation", nil, createOK, response(batch("Register", "Success", `<ResponsePayload>
  <ObjectType type="Enumeration" value="SymmetricKey"/><UniqueIdentifier type="TextString" value="abc"/></ResponsePayload>`)), "Operation: got Register, want Create"},
		{"missing value", nil, createOK, response(batch("Create", "Success", `<ResponsePayload>
  <UniqueIdentifier type="TextString" value="abc"/></ResponsePayload>`)), "missing ObjectType=SymmetricKey"},
		{"wrong enumeration", nil, createOK, response(batch("Create", "Success", `<ResponsePayload>
  <ObjectType type="Enumeration" value="SecretData"/><UniqueIdentifier type="TextString" value="abc"/></ResponsePayload>`)), "ObjectType: got SecretData, want SymmetricKey"},
		{"wrong type", nil, createOK, response(batch("Create", "Success", `<ResponsePayload>
  <ObjectType type="Integer" value="2"/><UniqueIdentifier type="TextString" value="abc"/></ResponsePayload>`)), "got a Integer, want a Enumeration"},
		{"result reason named", nil,
			response(`<BatchItem><Operation type="Enumeration" value="Get"/><ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="ItemNotFound"/><ResultMessage type="TextString" value="whatever"/></BatchItem>`),
			response(`<BatchItem><Operation type="Enumeration" value="Get"/><ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="PermissionDenied"/></BatchItem>`),
			"ResultReason: got OperationFailed/PermissionDenied, want OperationFailed/ItemNotFound"},
		{"result message not compared", nil,
			response(`<BatchItem><Operation type="Enumeration" value="Get"/><ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="ItemNotFound"/><ResultMessage type="TextString" value="whatever"/></BatchItem>`),
			response(`<BatchItem><Operation type="Enumeration" value="Get"/><ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="ItemNotFound"/><ResultMessage type="TextString" value="other text"/></BatchItem>`),
			""},
		{"batch count", nil, createOK, response(batch("Create", "Success", "<ResponsePayload/>"), batch("Create", "Success", "<ResponsePayload/>")), "2 batch items, want 1"},
		{"attributes compare as a set", map[string]string{"$UNIQUE_IDENTIFIER_0": "k1"},
			response(batch("GetAttributes", "Success", attrsExpected)),
			response(batch("GetAttributes", "Success", `<ResponsePayload>
  <UniqueIdentifier type="TextString" value="k1"/>
  <Attribute><AttributeName type="TextString" value="Initial Date"/><AttributeValue type="DateTime" value="`+now+`"/></Attribute>
  <Attribute><AttributeName type="TextString" value="Cryptographic Usage Mask"/><AttributeValue type="Integer" value="12"/></Attribute>
  <Attribute><AttributeName type="TextString" value="State"/><AttributeValue type="Enumeration" value="PreActive"/></Attribute>
</ResponsePayload>`)), ""},
		{"set member differs", map[string]string{"$UNIQUE_IDENTIFIER_0": "k1"},
			response(batch("GetAttributes", "Success", attrsExpected)),
			response(batch("GetAttributes", "Success", `<ResponsePayload>
  <UniqueIdentifier type="TextString" value="k1"/>
  <Attribute><AttributeName type="TextString" value="Initial Date"/><AttributeValue type="DateTime" value="`+now+`"/></Attribute>
  <Attribute><AttributeName type="TextString" value="Cryptographic Usage Mask"/><AttributeValue type="Integer" value="4"/></Attribute>
  <Attribute><AttributeName type="TextString" value="State"/><AttributeValue type="Enumeration" value="PreActive"/></Attribute>
</ResponsePayload>`)), "Attribute/AttributeValue: got Encrypt, want Encrypt Decrypt"},
		{"set member missing", map[string]string{"$UNIQUE_IDENTIFIER_0": "k1"},
			response(batch("GetAttributes", "Success", attrsExpected)),
			response(batch("GetAttributes", "Success", `<ResponsePayload>
  <UniqueIdentifier type="TextString" value="k1"/>
  <Attribute><AttributeName type="TextString" value="Initial Date"/><AttributeValue type="DateTime" value="`+now+`"/></Attribute>
  <Attribute><AttributeName type="TextString" value="State"/><AttributeValue type="Enumeration" value="PreActive"/></Attribute>
  <Attribute><AttributeName type="TextString" value="Object Type"/><AttributeValue type="Enumeration" value="SymmetricKey"/></Attribute>
</ResponsePayload>`)), "no Attribute among 3 matches"},
		{"bound variable differs", map[string]string{"$UNIQUE_IDENTIFIER_0": "k1"},
			response(batch("GetAttributes", "Success", attrsExpected)),
			response(batch("GetAttributes", "Success", `<ResponsePayload>
  <UniqueIdentifier type="TextString" value="k2"/>
  <Attribute><AttributeName type="TextString" value="Initial Date"/><AttributeValue type="DateTime" value="`+now+`"/></Attribute>
  <Attribute><AttributeName type="TextString" value="Cryptographic Usage Mask"/><AttributeValue type="Integer" value="12"/></Attribute>
  <Attribute><AttributeName type="TextString" value="State"/><AttributeValue type="Enumeration" value="PreActive"/></Attribute>
</ResponsePayload>`)), "got k2, want $UNIQUE_IDENTIFIER_0 = k1"},
		{"clock value far from $NOW", map[string]string{"$UNIQUE_IDENTIFIER_0": "k1"},
			response(batch("GetAttributes", "Success", attrsExpected)),
			response(batch("GetAttributes", "Success", `<ResponsePayload>
  <UniqueIdentifier type="TextString" value="k1"/>
  <Attribute><AttributeName type="TextString" value="Initial Date"/><AttributeValue type="DateTime" value="`+hourAgo+`"/></Attribute>
  <Attribute><AttributeName type="TextString" value="Cryptographic Usage Mask"/><AttributeValue type="Integer" value="12"/></Attribute>
  <Attribute><AttributeName type="TextString" value="State"/><AttributeValue type="Enumeration" value="PreActive"/></Attribute>
</ResponsePayload>`)), "want $NOW"},
		{"locate returns exactly the expected identifiers", map[string]string{"$UNIQUE_IDENTIFIER_0": "k1"},
			response(batch("Locate", "Success", `<ResponsePayload><UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/></ResponsePayload>`)),
			response(batch("Locate", "Success", `<ResponsePayload><UniqueIdentifier type="TextString" value="k2"/><UniqueIdentifier type="TextString" value="k1"/></ResponsePayload>`)),
			"2 UniqueIdentifier, want 1"},
		{"empty locate", nil,
			response(batch("Locate", "Success", `<ResponsePayload/>`)),
			response(batch("Locate", "Success", `<ResponsePayload><UniqueIdentifier type="TextString" value="k2"/></ResponsePayload>`)),
			"1 UniqueIdentifier, want 0"},
		{"locate finds nothing", nil,
			response(batch("Locate", "Success", `<ResponsePayload/>`)),
			response(batch("Locate", "Success", `<ResponsePayload><LocatedItems type="Integer" value="0"/></ResponsePayload>`)),
			""},
		{"several set members missing", nil,
			response(batch("Query", "Success", `<ResponsePayload><Operation type="Enumeration" value="Create"/><Operation type="Enumeration" value="Get"/>
  <Operation type="Enumeration" value="Check"/><Operation type="Enumeration" value="ReKey"/><VendorIdentification type="TextString" value="ACME"/></ResponsePayload>`)),
			response(batch("Query", "Success", `<ResponsePayload><Operation type="Enumeration" value="Get"/><Operation type="Enumeration" value="Create"/>
  <Operation type="Enumeration" value="Locate"/><VendorIdentification type="TextString" value="kmipd"/></ResponsePayload>`)),
			"2 of 4 expected Operation unmatched among 3: Check, ReKey"},
		{"query need not list server-to-client operations", nil,
			response(batch("Query", "Success", `<ResponsePayload><Operation type="Enumeration" value="Get"/><Operation type="Enumeration" value="Notify"/>
  <Operation type="Enumeration" value="Put"/><ObjectType type="Enumeration" value="SymmetricKey"/></ResponsePayload>`)),
			response(batch("Query", "Success", `<ResponsePayload><Operation type="Enumeration" value="Get"/><ObjectType type="Enumeration" value="SymmetricKey"/></ResponsePayload>`)),
			""},
		{"query listing a server-to-client operation fails", nil,
			response(batch("Query", "Success", `<ResponsePayload><Operation type="Enumeration" value="Get"/><Operation type="Enumeration" value="Notify"/></ResponsePayload>`)),
			response(batch("Query", "Success", `<ResponsePayload><Operation type="Enumeration" value="Get"/><Operation type="Enumeration" value="Notify"/></ResponsePayload>`)),
			"lists Notify, a server-to-client operation kmipd never sends"},
		{"query still needs every other operation", nil,
			response(batch("Query", "Success", `<ResponsePayload><Operation type="Enumeration" value="Get"/><Operation type="Enumeration" value="Put"/>
  <Operation type="Enumeration" value="Certify"/></ResponsePayload>`)),
			response(batch("Query", "Success", `<ResponsePayload><Operation type="Enumeration" value="Get"/></ResponsePayload>`)),
			"got Get, want Certify"},
		{"query vendor is the server's own", nil,
			response(batch("Query", "Success", `<ResponsePayload><Operation type="Enumeration" value="Get"/><VendorIdentification type="TextString" value="ACME"/></ResponsePayload>`)),
			response(batch("Query", "Success", `<ResponsePayload><Operation type="Enumeration" value="Get"/><VendorIdentification type="TextString" value="kmipd"/></ResponsePayload>`)),
			""},
		{"empty expected payload matches an absent one", nil,
			response(batch("Activate", "Success", `<ResponsePayload></ResponsePayload>`)),
			response(`<BatchItem><Operation type="Enumeration" value="Activate"/><ResultStatus type="Enumeration" value="Success"/></BatchItem>`),
			""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTestSession()
			for k, v := range c.bound {
				s.vars[k] = kmip.Text(kmip.TagUniqueIdentifier, v)
			}
			err := s.Judge(node(t, c.expected), actual(t, c.actual))
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("Judge = %v, want conformance", err)
			case c.wantErr != "" && err == nil:
				t.Errorf("Judge passed, want an error containing %q", c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Errorf("Judge = %q, want it to contain %q", err, c.wantErr)
			}
		})
	}
}

// TestJudgeBindsVariables follows a variable from a Create response into the
// next request, and checks that a failing response binds nothing.
func TestJudgeBindsVariables(t *testing.T) {
	s := newTestSession()
	if _, err := s.Request(node(t, `<RequestMessage><BatchItem><Operation type="Enumeration" value="Create"/>
  <RequestPayload><ObjectType type="Enumeration" value="SymmetricKey"/></RequestPayload></BatchItem></RequestMessage>`)); err != nil {
		t.Fatal(err)
	}
	exp := node(t, response(batch("Create", "Success", `<ResponsePayload>
  <ObjectType type="Enumeration" value="SymmetricKey"/>
  <UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/></ResponsePayload>`)))

	bad := actual(t, response(batch("Create", "Success", `<ResponsePayload>
  <ObjectType type="Enumeration" value="SecretData"/><UniqueIdentifier type="TextString" value="wrong"/></ResponsePayload>`)))
	if err := s.Judge(exp, bad); err == nil {
		t.Fatal("Judge passed a wrong object type")
	}
	if v, ok := s.Var("$UNIQUE_IDENTIFIER_0"); ok {
		t.Fatalf("a failing response bound $UNIQUE_IDENTIFIER_0 = %v", v)
	}

	req := node(t, `<RequestMessage><BatchItem><Operation type="Enumeration" value="Destroy"/>
  <RequestPayload><UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/></RequestPayload></BatchItem></RequestMessage>`)
	if _, err := s.Request(req); err == nil || !strings.Contains(err.Error(), "before a response bound it") {
		t.Fatalf("Request with an unbound variable = %v, want an error", err)
	}

	good := actual(t, response(batch("Create", "Success", `<ResponsePayload>
  <ObjectType type="Enumeration" value="SymmetricKey"/><UniqueIdentifier type="TextString" value="key-7"/></ResponsePayload>`)))
	if err := s.Judge(exp, good); err != nil {
		t.Fatalf("Judge: %v", err)
	}
	if v, ok := s.Var("$UNIQUE_IDENTIFIER_0"); !ok || !v.Equal(kmip.Text(kmip.TagUniqueIdentifier, "key-7")) {
		t.Fatalf("$UNIQUE_IDENTIFIER_0 = %v, want key-7", v)
	}
	it, err := s.Request(req)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := it.Path(kmip.TagBatchItem, kmip.TagRequestPayload, kmip.TagUniqueIdentifier).AsText(); got != "key-7" {
		t.Errorf("request carries %q, want key-7", got)
	}
	// A variable first seen in a request takes the same tag's value from the
	// latest conforming response (the case files print it there as a literal).
	macExp := node(t, response(batch("MAC", "Success", `<ResponsePayload>
  <UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/><MACData type="ByteString" value="c911"/></ResponsePayload>`)))
	macAct := actual(t, response(batch("MAC", "Success", `<ResponsePayload>
  <UniqueIdentifier type="TextString" value="key-7"/><MACData type="ByteString" value="abcd"/></ResponsePayload>`)))
	if err := s.Judge(macExp, macAct); err != nil {
		t.Fatalf("MAC of a created key: %v", err)
	}
	verify, err := s.Request(node(t, `<RequestMessage><BatchItem><Operation type="Enumeration" value="MACVerify"/>
  <RequestPayload><MACData type="ByteString" value="$MAC_DATA"/></RequestPayload></BatchItem></RequestMessage>`))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := verify.Path(kmip.TagBatchItem, kmip.TagRequestPayload, kmip.TagMACData).AsBytes(); string(got) != "\xab\xcd" {
		t.Errorf("$MAC_DATA = %x, want abcd", got)
	}

	// Once bound, the variable must match: the same expectation now fails on
	// another identifier.
	other := actual(t, response(batch("Create", "Success", `<ResponsePayload>
  <ObjectType type="Enumeration" value="SymmetricKey"/><UniqueIdentifier type="TextString" value="key-8"/></ResponsePayload>`)))
	if err := s.Judge(exp, other); err == nil {
		t.Error("Judge passed a different identifier for a bound variable")
	}
}

// TestJudgeGeneratedValues checks which Byte Strings and dates count as server-chosen.
func TestJudgeGeneratedValues(t *testing.T) {
	getExp := response(batch("Get", "Success", `<ResponsePayload>
  <ObjectType type="Enumeration" value="SymmetricKey"/>
  <SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/>
    <KeyValue><KeyMaterial type="ByteString" value="00112233"/></KeyValue></KeyBlock></SymmetricKey>
  <ActivationDate type="DateTime" value="2000-02-01T00:00:00+10:00"/>
</ResponsePayload>`))
	getAct := func(material, date string) *kmip.Item {
		return actual(t, response(batch("Get", "Success", `<ResponsePayload>
  <ObjectType type="Enumeration" value="SymmetricKey"/>
  <SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/>
    <KeyValue><KeyMaterial type="ByteString" value="`+material+`"/></KeyValue></KeyBlock></SymmetricKey>
  <ActivationDate type="DateTime" value="`+date+`"/>
</ResponsePayload>`)))
	}
	request := func(s *Session, op, payload string) {
		t.Helper()
		if _, err := s.Request(node(t, `<RequestMessage><BatchItem><Operation type="Enumeration" value="`+op+`"/>
  <RequestPayload>`+payload+`</RequestPayload></BatchItem></RequestMessage>`)); err != nil {
			t.Fatal(err)
		}
	}
	// Created key: material and an unrequested date are the server's choice.
	s := newTestSession()
	request(s, "Create", `<ObjectType type="Enumeration" value="SymmetricKey"/>`)
	if err := s.Judge(node(t, getExp), getAct("ffff", "2020-01-01T00:00:00Z")); err != nil {
		t.Errorf("created key: %v", err)
	}
	// Registered key: the material and the date were in a request, so they must come back.
	s = newTestSession()
	request(s, "Register", `<SymmetricKey><KeyBlock><KeyValue><KeyMaterial type="ByteString" value="00112233"/></KeyValue></KeyBlock></SymmetricKey>
  <ActivationDate type="DateTime" value="2000-02-01T00:00:00+10:00"/>`)
	if err := s.Judge(node(t, getExp), getAct("00112233", "2000-01-31T14:00:00Z")); err != nil {
		t.Errorf("registered key, same values: %v", err)
	}
	if err := s.Judge(node(t, getExp), getAct("ffff", "2000-01-31T14:00:00Z")); err == nil || !strings.Contains(err.Error(), "KeyMaterial: got ffff, want 00112233") {
		t.Errorf("registered key, other material: %v", err)
	}
	if err := s.Judge(node(t, getExp), getAct("00112233", "2000-02-01T00:00:00Z")); err == nil || !strings.Contains(err.Error(), "ActivationDate") {
		t.Errorf("registered key, other date: %v", err)
	}
}
