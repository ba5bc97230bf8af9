package conformance

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipxml"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

var (
	rsaKeysOnce sync.Once
	rsaKey      [2]*rsa.PrivateKey
)

// testRSAKeys returns two distinct RSA keys, generated once per test binary.
func testRSAKeys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	rsaKeysOnce.Do(func() {
		for i := range rsaKey {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKey[i] = k
		}
	})
	return rsaKey[0], rsaKey[1]
}

func oaep(t *testing.T, pub *rsa.PublicKey, h, mgf crypto.Hash, label, msg []byte) []byte {
	t.Helper()
	c, err := rsa.EncryptOAEPWithOptions(rand.Reader, pub, msg, &rsa.OAEPOptions{Hash: h, MGFHash: mgf, Label: label})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func request(op, payload string) string {
	return `<RequestMessage><RequestHeader><BatchCount type="Integer" value="1"/></RequestHeader>
  <BatchItem><Operation type="Enumeration" value="` + op + `"/><RequestPayload>` + payload + `</RequestPayload></BatchItem></RequestMessage>`
}

const oaepSHA256 = `<PaddingMethod type="Enumeration" value="OAEP"/><HashingAlgorithm type="Enumeration" value="SHA_256"/>
  <CryptographicAlgorithm type="Enumeration" value="RSA"/><MaskGenerator type="Enumeration" value="MGF1"/>
  <MaskGeneratorHashingAlgorithm type="Enumeration" value="SHA_256"/>`

// registerRSA plays a KMIP 1.4 Register of pub (X.509) with the given
// Cryptographic Parameters attribute children ("" for none), bound to uid.
func registerRSA(t *testing.T, s *Session, pub *rsa.PublicKey, params, uid string) {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	attr := ""
	if params != "" {
		attr = `<Attribute><AttributeName type="TextString" value="Cryptographic Parameters"/><AttributeValue>` + params + `</AttributeValue></Attribute>`
	}
	req := request("Register", `<ObjectType type="Enumeration" value="PublicKey"/><TemplateAttribute>`+attr+`</TemplateAttribute>
  <PublicKey><KeyBlock><KeyFormatType type="Enumeration" value="X_509"/>
  <KeyValue><KeyMaterial type="ByteString" value="`+hex.EncodeToString(der)+`"/></KeyValue>
  <CryptographicAlgorithm type="Enumeration" value="RSA"/><CryptographicLength type="Integer" value="2048"/></KeyBlock></PublicKey>`)
	if _, err := s.Request(node(t, req)); err != nil {
		t.Fatal(err)
	}
	exp := node(t, response(batch("Register", "Success", `<ResponsePayload><UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/></ResponsePayload>`)))
	act := actual(t, response(batch("Register", "Success", `<ResponsePayload><UniqueIdentifier type="TextString" value="`+uid+`"/></ResponsePayload>`)))
	if err := s.Judge(exp, act); err != nil {
		t.Fatal(err)
	}
}

// judgeEncrypt plays an Encrypt of msg under $UNIQUE_IDENTIFIER_0 (with the
// request's Cryptographic Parameters children, "" for none) whose recorded
// answer is recorded, and judges got as the server's cipher text.
func judgeEncrypt(t *testing.T, s *Session, params string, msg, recorded, got []byte) error {
	t.Helper()
	if params != "" {
		params = `<CryptographicParameters>` + params + `</CryptographicParameters>`
	}
	req := request("Encrypt", `<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>`+params+
		`<Data type="ByteString" value="`+hex.EncodeToString(msg)+`"/>`)
	if _, err := s.Request(node(t, req)); err != nil {
		t.Fatal(err)
	}
	payload := func(uid string, data []byte) string {
		return `<ResponsePayload><UniqueIdentifier type="TextString" value="` + uid + `"/><Data type="ByteString" value="` + hex.EncodeToString(data) + `"/></ResponsePayload>`
	}
	uid, _ := s.Var("$UNIQUE_IDENTIFIER_0")
	text, _ := uid.AsText()
	return s.Judge(node(t, response(batch("Encrypt", "Success", payload("$UNIQUE_IDENTIFIER_0", recorded)))),
		actual(t, response(batch("Encrypt", "Success", payload(text, got)))))
}

func TestJudgeRSAEncryption(t *testing.T) {
	key, other := testRSAKeys(t)
	msg := []byte("the plaintext of the request")
	sha256 := func(pub *rsa.PublicKey, m []byte) []byte { return oaep(t, pub, crypto.SHA256, crypto.SHA256, nil, m) }
	recorded := sha256(&key.PublicKey, msg)
	fresh := sha256(&key.PublicKey, msg)

	cases := []struct {
		name    string
		got     []byte
		wantErr string // "" means the cipher text must conform
	}{
		{"correct re-encryption", fresh, ""},
		{"the recorded cipher text", recorded, ""},
		{"wrong plaintext", sha256(&key.PublicKey, []byte("another plaintext")), "to other data than the request's Data"},
		{"wrong key", sha256(&other.PublicKey, msg), "does not decrypt with OAEP SHA-256, MGF1 SHA-256"},
		{"wrong hash", oaep(t, &key.PublicKey, crypto.SHA1, crypto.SHA256, nil, msg), "does not decrypt"},
		{"wrong mask generator hash", oaep(t, &key.PublicKey, crypto.SHA256, crypto.SHA1, nil, msg), "does not decrypt"},
		{"wrong label", oaep(t, &key.PublicKey, crypto.SHA256, crypto.SHA256, []byte("label"), msg), "does not decrypt"},
		{"PKCS#1 v1.5 instead of OAEP", pkcs1v15(t, &key.PublicKey, msg), "does not decrypt"},
		{"truncated", fresh[:len(fresh)-1], "got a 255-byte cipher text, want 256 bytes"},
		{"the plaintext itself", msg, "cipher text, want 256 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTestSession()
			s.PrivateKeys = []*rsa.PrivateKey{other, key}
			registerRSA(t, s, &key.PublicKey, oaepSHA256, "pub-1")
			err := judgeEncrypt(t, s, "", msg, recorded, c.got)
			checkErr(t, err, c.wantErr)
		})
	}
}

func pkcs1v15(t *testing.T, pub *rsa.PublicKey, msg []byte) []byte {
	t.Helper()
	//lint:ignore SA1019 builds a PKCS1 v1.5 ciphertext, the KMIP Padding Method under test
	c, err := rsa.EncryptPKCS1v15(rand.Reader, pub, msg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("does not conform: %v", err)
	case want != "" && err == nil:
		t.Fatalf("conforms, want an error containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q, want it to contain %q", err, want)
	}
}

// The parameters in effect: the request's, else the key's attribute, with
// KMIP's defaults (MGF1 with SHA-1, empty P Source) and RFC 8017's SHA-1.
func TestJudgeRSAEncryptionParameters(t *testing.T) {
	key, other := testRSAKeys(t)
	msg := []byte("some data")
	label := []byte("Kilroy was here")
	sha384 := `<PaddingMethod type="Enumeration" value="OAEP"/><HashingAlgorithm type="Enumeration" value="SHA_384"/>
  <PSource type="ByteString" value="` + hex.EncodeToString(label) + `"/>`
	reqRecorded := oaep(t, &key.PublicKey, crypto.SHA384, crypto.SHA1, label, msg)
	attrRecorded := oaep(t, &key.PublicKey, crypto.SHA256, crypto.SHA256, nil, msg)

	cases := []struct {
		name          string
		attr, reqPars string
		keys          []*rsa.PrivateKey
		recorded, got []byte
		wantErr       string
	}{
		{"request parameters override the attribute", oaepSHA256, sha384, nil, reqRecorded,
			oaep(t, &key.PublicKey, crypto.SHA384, crypto.SHA1, label, msg), ""},
		{"the attribute does not apply when the request has parameters", oaepSHA256, sha384, nil, reqRecorded,
			oaep(t, &key.PublicKey, crypto.SHA256, crypto.SHA256, nil, msg), "does not decrypt with OAEP SHA-384, MGF1 SHA-1, 15-byte P Source"},
		{"mask generator hash defaults to SHA-1, not the OAEP hash", oaepSHA256, sha384, nil, reqRecorded,
			oaep(t, &key.PublicKey, crypto.SHA384, crypto.SHA384, label, msg), "does not decrypt"},
		{"OAEP hash defaults to SHA-1", "", `<PaddingMethod type="Enumeration" value="OAEP"/>`, nil,
			oaep(t, &key.PublicKey, crypto.SHA1, crypto.SHA1, nil, msg), oaep(t, &key.PublicKey, crypto.SHA1, crypto.SHA1, nil, msg), ""},
		{"PKCS#1 v1.5", `<PaddingMethod type="Enumeration" value="PKCS1V1_5"/>`, "", nil,
			pkcs1v15(t, &key.PublicKey, msg), pkcs1v15(t, &key.PublicKey, msg), ""},
		{"PKCS#1 v1.5 key, OAEP cipher text", `<PaddingMethod type="Enumeration" value="PKCS1V1_5"/>`, "", nil,
			pkcs1v15(t, &key.PublicKey, msg), attrRecorded, "does not decrypt with PKCS#1 v1.5"},
		{"no parameters anywhere", "", "", nil, attrRecorded, attrRecorded, "no Cryptographic Parameters"},
		{"no padding method", `<HashingAlgorithm type="Enumeration" value="SHA_256"/>`, "", nil, attrRecorded, attrRecorded, "padding method none"},
		{"not RSA", `<PaddingMethod type="Enumeration" value="OAEP"/><CryptographicAlgorithm type="Enumeration" value="AES"/>`, "", nil,
			attrRecorded, attrRecorded, "Cryptographic Algorithm AES is not RSA"},
		{"no matching private key in the suite", oaepSHA256, "", []*rsa.PrivateKey{other}, attrRecorded,
			oaep(t, &key.PublicKey, crypto.SHA256, crypto.SHA256, nil, msg), "no private key registered in the OASIS suite"},
		{"the judge's reading of the parameters must explain the recording", oaepSHA256, "", nil,
			oaep(t, &key.PublicKey, crypto.SHA256, crypto.SHA1, nil, msg), attrRecorded, "the recorded cipher text does not decrypt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTestSession()
			s.PrivateKeys = []*rsa.PrivateKey{key}
			if c.keys != nil {
				s.PrivateKeys = c.keys
			}
			registerRSA(t, s, &key.PublicKey, c.attr, "pub-1")
			checkErr(t, judgeEncrypt(t, s, c.reqPars, msg, c.recorded, c.got), c.wantErr)
		})
	}
}

// Without the suite's private keys, and for keys the case did not register
// as RSA public keys, only the recorded Data conforms.
func TestJudgeRSAEncryptionNarrow(t *testing.T) {
	key, _ := testRSAKeys(t)
	msg := []byte("data")
	recorded := oaep(t, &key.PublicKey, crypto.SHA256, crypto.SHA256, nil, msg)
	fresh := oaep(t, &key.PublicKey, crypto.SHA256, crypto.SHA256, nil, msg)

	s := newTestSession()
	registerRSA(t, s, &key.PublicKey, oaepSHA256, "pub-1")
	checkErr(t, judgeEncrypt(t, s, "", msg, recorded, fresh), "no private key registered")

	// An Encrypt under a key registered some other way (here: none) keeps
	// the exact comparison.
	s = newTestSession()
	s.PrivateKeys = []*rsa.PrivateKey{key}
	if _, err := s.Request(node(t, request("Create", `<ObjectType type="Enumeration" value="SymmetricKey"/>`))); err != nil {
		t.Fatal(err)
	}
	if err := s.Judge(node(t, response(batch("Create", "Success", `<ResponsePayload><UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/></ResponsePayload>`))),
		actual(t, response(batch("Create", "Success", `<ResponsePayload><UniqueIdentifier type="TextString" value="sym-1"/></ResponsePayload>`)))); err != nil {
		t.Fatal(err)
	}
	s.generated = false // judge the Data exactly, as after a Register
	checkErr(t, judgeEncrypt(t, s, "", msg, recorded, fresh), "BatchItem/ResponsePayload/Data: got "+hex.EncodeToString(fresh)[:48])
	checkErr(t, judgeEncrypt(t, s, "", msg, recorded, recorded), "")
}

// The KMIP 2.x Register form (Attributes) and a PKCS#1 public key.
func TestJudgeRSAEncryptionKMIP2Register(t *testing.T) {
	key, _ := testRSAKeys(t)
	msg := []byte("data")
	s := newTestSession()
	s.PrivateKeys = []*rsa.PrivateKey{key}
	req := request("Register", `<ObjectType type="Enumeration" value="PublicKey"/>
  <Attributes><CryptographicParameters>`+oaepSHA256+`</CryptographicParameters></Attributes>
  <PublicKey><KeyBlock><KeyFormatType type="Enumeration" value="PKCS_1"/>
  <KeyValue><KeyMaterial type="ByteString" value="`+hex.EncodeToString(x509.MarshalPKCS1PublicKey(&key.PublicKey))+`"/></KeyValue></KeyBlock></PublicKey>`)
	if _, err := s.Request(node(t, req)); err != nil {
		t.Fatal(err)
	}
	if err := s.Judge(node(t, response(batch("Register", "Success", `<ResponsePayload><UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/></ResponsePayload>`))),
		actual(t, response(batch("Register", "Success", `<ResponsePayload><UniqueIdentifier type="TextString" value="k2"/></ResponsePayload>`)))); err != nil {
		t.Fatal(err)
	}
	recorded := oaep(t, &key.PublicKey, crypto.SHA256, crypto.SHA256, nil, msg)
	checkErr(t, judgeEncrypt(t, s, "", msg, recorded, oaep(t, &key.PublicKey, crypto.SHA256, crypto.SHA256, nil, msg)), "")
	checkErr(t, judgeEncrypt(t, s, "", msg, recorded, oaep(t, &key.PublicKey, crypto.SHA256, crypto.SHA256, nil, []byte("datb"))), "other data")
}

// The OASIS OAEP cases themselves: the suite holds the private key of each
// Encrypt case's public key, a fresh encryption with the case's parameters
// conforms, and one whose mask generator hash or label differs does not.
func TestJudgeOASISOAEPCases(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(filepath.Dir(root), "shared", "conformance")
	var files []string
	for _, d := range caseDirs {
		m, _ := filepath.Glob(filepath.Join(shared, d, "*.xml"))
		files = append(files, m...)
	}
	if len(files) == 0 {
		skipOrFailOnCI(t, "no OASIS test cases in %s", shared)
	}
	keys := SuitePrivateKeys(files)
	kilroy := []byte("Kilroy was here")
	cases := []struct {
		n        string
		h, mgf   crypto.Hash
		label    []byte
		wrongMGF crypto.Hash
	}{
		{"1", crypto.SHA256, crypto.SHA256, nil, crypto.SHA1},
		{"3", crypto.SHA384, crypto.SHA384, nil, crypto.SHA256},
		{"5", crypto.SHA512, crypto.SHA512, nil, crypto.SHA1},
		{"7", crypto.SHA384, crypto.SHA256, nil, crypto.SHA384},
		{"9", crypto.SHA384, crypto.SHA256, kilroy, crypto.SHA384},
	}
	for _, c := range cases {
		for _, v := range []struct{ dir, suffix string }{{"oasis-kmip-1.4", "14"}, {"oasis-kmip-2.1", "21"}} {
			name := "CS-AC-M-OAEP-" + c.n + "-" + v.suffix
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(shared, v.dir, name+".xml")
				if _, err := os.Stat(path); err != nil {
					t.Skip(err)
				}
				good := playOAEP(t, path, keys, func(pub *rsa.PublicKey, msg []byte) []byte {
					return oaep(t, pub, c.h, c.mgf, c.label, msg)
				})
				if good != nil {
					t.Fatalf("a correct encryption does not conform: %v", good)
				}
				if err := playOAEP(t, path, keys, func(pub *rsa.PublicKey, msg []byte) []byte {
					return oaep(t, pub, c.h, c.wrongMGF, c.label, msg)
				}); err == nil || !strings.Contains(err.Error(), "does not decrypt") {
					t.Fatalf("wrong mask generator hash: %v", err)
				}
				if c.label != nil {
					if err := playOAEP(t, path, keys, func(pub *rsa.PublicKey, msg []byte) []byte {
						return oaep(t, pub, c.h, c.mgf, nil, msg)
					}); err == nil {
						t.Fatal("a cipher text without the P Source label conforms")
					}
				}
				if err := playOAEP(t, path, nil, func(pub *rsa.PublicKey, msg []byte) []byte {
					return oaep(t, pub, c.h, c.mgf, c.label, msg)
				}); err == nil {
					t.Fatal("conforms without the suite's private keys")
				}
			})
		}
	}
}

// playOAEP plays a case file's first two exchanges (Register, Encrypt) with
// the recorded responses as the server's answers, except that the Encrypt's
// Data is encrypt's output; it returns the Encrypt's judgement.
func playOAEP(t *testing.T, path string, keys []*rsa.PrivateKey, encrypt func(*rsa.PublicKey, []byte) []byte) error {
	t.Helper()
	pairs, err := loadPairs(path)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSession()
	s.PrivateKeys = keys
	var req *kmip.Item
	for i, pr := range pairs {
		if req, err = s.Request(pr.req); err != nil {
			t.Fatal(err)
		}
		if op, _ := req.Path(kmip.TagBatchItem, kmip.TagOperation).AsEnum(); op == uint32(kmip.OperationEncrypt) {
			break
		}
		if err := s.Judge(pr.resp, recordedAnswer(t, pr.resp, nil)); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	uid, _ := req.Path(kmip.TagBatchItem, kmip.TagRequestPayload, kmip.TagUniqueIdentifier).AsText()
	msg, _ := req.Path(kmip.TagBatchItem, kmip.TagRequestPayload, kmip.TagData).AsBytes()
	k, ok := s.rsaKeys[uid]
	if !ok {
		t.Fatalf("the Encrypt's key %q is not a registered RSA public key", uid)
	}
	resp := pairs[1].resp
	return s.Judge(resp, recordedAnswer(t, resp, encrypt(k.pub, msg)))
}

// recordedAnswer types a recorded response as the server's answer: $NOW is
// fixedNow, $UNIQUE_IDENTIFIER_0 is "uid-0", and a non-nil data replaces the
// payload's Data.
func recordedAnswer(t *testing.T, n *kmipxml.Node, data []byte) *kmip.Item {
	t.Helper()
	it, err := n.ItemWith(func(n *kmipxml.Node, _ kmip.Tag) (*kmip.Item, error) {
		switch {
		case n.Value == "$NOW":
			return kmip.DateTime(n.Tag, fixedNow), nil
		case n.Value == "$UNIQUE_IDENTIFIER_0":
			return kmip.Text(n.Tag, "uid-0"), nil
		case n.Tag == kmip.TagData && data != nil:
			return kmip.Bytes(n.Tag, data), nil
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return it
}
