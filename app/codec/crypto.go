package codec

import "github.com/kmipd/kmipd/domain/kmip"

// Bytes reads an optional Byte String field of a request.
func Bytes(payload *kmip.Item, tag kmip.Tag) ([]byte, bool, error) {
	it := payload.Child(tag)
	if it == nil {
		return nil, false, nil
	}
	b, ok := it.AsBytes()
	if !ok {
		return nil, false, fail(Malformed, specName(tag), "must be a Byte String")
	}
	return b, true, nil
}

// CipherRequest is the data part of an Encrypt (KMIP 1.4 §4.29, KMIP 2.1
// §6.1.19) or Decrypt (1.4 §4.30, 2.1 §6.1.12) request; the key, the
// Cryptographic Parameters and the stream fields are read by app.
type CipherRequest struct {
	Data    []byte
	HasData bool // a streamed part may carry none
	IV      []byte
	AAD     []byte
	Tag     []byte // Decrypt only: the Authenticated Encryption Tag
}

// DecodeCipher reads an Encrypt (enc) or Decrypt request's Data,
// IV/Counter/Nonce, Authenticated Encryption Additional Data and, for
// Decrypt, Authenticated Encryption Tag.
func DecodeCipher(payload *kmip.Item, enc bool) (CipherRequest, error) {
	var r CipherRequest
	var err error
	if r.Data, r.HasData, err = Bytes(payload, kmip.TagData); err != nil {
		return r, err
	}
	if r.IV, _, err = Bytes(payload, kmip.TagIVCounterNonce); err != nil {
		return r, err
	}
	if r.AAD, _, err = Bytes(payload, kmip.TagAuthenticatedEncryptionAdditionalData); err != nil {
		return r, err
	}
	if !enc {
		r.Tag, _, err = Bytes(payload, kmip.TagAuthenticatedEncryptionTag)
	}
	return r, err
}

// CipherResponse is an Encrypt or Decrypt answer. Data is sent when it
// holds bytes or WithData is set (an answer that is not a streamed part);
// Correlation, the IV and the Tag when set.
type CipherResponse struct {
	ID          string
	Data        []byte
	WithData    bool
	IV          []byte
	Correlation []byte
	Tag         []byte
}

// Item builds the Response Payload.
func (r CipherResponse) Item() *kmip.Item {
	out := IDResponse(r.ID)
	if len(r.Data) > 0 || r.WithData {
		out.Add(kmip.Bytes(kmip.TagData, r.Data))
	}
	if r.IV != nil {
		out.Add(kmip.Bytes(kmip.TagIVCounterNonce, r.IV))
	}
	if r.Correlation != nil {
		out.Add(kmip.Bytes(kmip.TagCorrelationValue, r.Correlation))
	}
	if r.Tag != nil {
		out.Add(kmip.Bytes(kmip.TagAuthenticatedEncryptionTag, r.Tag))
	}
	return out
}

// PartialResponse answers a streamed part that is not the last: the key's
// identifier (none for Hash) and the Correlation Value to continue with.
func PartialResponse(id string, correlation []byte) *kmip.Item {
	out := kmip.Struct(kmip.TagResponsePayload)
	if id != "" {
		out.Add(kmip.Text(kmip.TagUniqueIdentifier, id))
	}
	return out.Add(kmip.Bytes(kmip.TagCorrelationValue, correlation))
}

// SignResponse is Sign's answer (KMIP 1.4 §4.31).
func SignResponse(id string, signature []byte) *kmip.Item {
	return IDResponse(id).Add(kmip.Bytes(kmip.TagSignatureData, signature))
}

// MACResponse is MAC's answer (KMIP 1.4 §4.33).
func MACResponse(id string, mac []byte) *kmip.Item {
	return IDResponse(id).Add(kmip.Bytes(kmip.TagMACData, mac))
}

// VerifyResponse is Signature Verify's and MAC Verify's answer: the key's
// identifier and the Validity Indicator.
func VerifyResponse(id string, valid bool) *kmip.Item {
	v := kmip.ValidityIndicatorInvalid
	if valid {
		v = kmip.ValidityIndicatorValid
	}
	return IDResponse(id).Add(kmip.Enum(kmip.TagValidityIndicator, uint32(v)))
}

// DataResponse is RNG Retrieve's and Hash's answer: the bytes as Data.
func DataResponse(b []byte) *kmip.Item {
	return kmip.Struct(kmip.TagResponsePayload, kmip.Bytes(kmip.TagData, b))
}

// DataLengthResponse is RNG Seed's answer: how many bytes were accepted.
func DataLengthResponse(n int) *kmip.Item {
	return kmip.Struct(kmip.TagResponsePayload, kmip.Int(kmip.TagDataLength, int32(n)))
}

// CryptoRequest is what the cryptographic operations (Encrypt, Decrypt,
// Sign, Signature Verify, MAC, MAC Verify, Hash) share: the Cryptographic
// Parameters and the fields that stream them (KMIP 1.4 §4.29-4.37, KMIP
// 2.1 §6.1.19 and on). An Init or Final Indicator that is not a Boolean
// reads as false, a Correlation Value that is not a Byte String as empty
// (which no stream has), as they always did.
type CryptoRequest struct {
	Params           *kmip.Item // Cryptographic Parameters, nil when absent
	Init, Final      bool
	Correlation      []byte
	CorrelationGiven bool
}

// DecodeCrypto reads a cryptographic request's Cryptographic Parameters
// (a Structure whose fields have their types and known values) and its
// Init Indicator, Final Indicator and Correlation Value.
func DecodeCrypto(payload *kmip.Item) (CryptoRequest, error) {
	var r CryptoRequest
	r.Params = payload.Child(kmip.TagCryptographicParameters)
	if err := checkParams(r.Params); err != nil {
		return CryptoRequest{}, err
	}
	r.Init, _ = payload.Child(kmip.TagInitIndicator).AsBool()
	r.Final, _ = payload.Child(kmip.TagFinalIndicator).AsBool()
	if it := payload.Child(kmip.TagCorrelationValue); it != nil {
		r.Correlation, _ = it.AsBytes()
		r.CorrelationGiven = true
	}
	return r, nil
}

// checkParams checks a Cryptographic Parameters field, nil when absent.
func checkParams(p *kmip.Item) error {
	if p == nil {
		return nil
	}
	if p.Type != kmip.TypeStructure {
		return fail(Malformed, specName(kmip.TagCryptographicParameters), "must be a Structure")
	}
	return in(specName(kmip.TagCryptographicParameters), CheckValue(p))
}

// DataRequest is the data of a Sign, Signature Verify, MAC, MAC Verify or
// Hash request: Data or (Sign and Signature Verify) Digested Data, and
// what a verification checks, Signature Data or MAC Data.
type DataRequest struct {
	Data, Digested []byte
	HasData        bool
	HasDigested    bool
	Check          []byte
	HasCheck       bool
}

// DecodeData reads a data operation's Data, its Digested Data when
// digestOK, and the Byte String field check names (none when 0), each
// optional and a Byte String.
func DecodeData(payload *kmip.Item, digestOK bool, check kmip.Tag) (DataRequest, error) {
	var r DataRequest
	var err error
	if r.Data, r.HasData, err = Bytes(payload, kmip.TagData); err != nil {
		return r, err
	}
	if digestOK {
		if r.Digested, r.HasDigested, err = Bytes(payload, kmip.TagDigestedData); err != nil {
			return r, err
		}
	}
	if check != 0 {
		r.Check, r.HasCheck, err = Bytes(payload, check)
	}
	return r, err
}
