package app

import (
	"bytes"
	"encoding/binary"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Streamed operations (KMIP 1.4 §4.29-4.34, Init Indicator / Final Indicator
// / Correlation Value) keep no state on the server, so that any node of a
// cluster can take the next part: the Correlation Value handed to the client
// is the whole continuation. It is version-tagged and bound to the operation
// and the key, and holds no key material: for Encrypt and Decrypt the
// engine's State (chaining values and buffered input, ports.CipherOutput);
// for Sign, Signature Verify, MAC, MAC Verify and Hash the client's own data
// so far, over which the final part computes.

const (
	streamMagic   = "kmipd-cv"
	streamVersion = 1
)

// stream is the decoded continuation of a streamed operation.
type stream struct {
	op    kmip.Operation
	keyID string
	state []byte
}

// encode returns the Correlation Value: magic, version, operation, key ID and state.
func (st stream) encode() []byte {
	var b bytes.Buffer
	b.WriteString(streamMagic)
	b.WriteByte(streamVersion)
	b.Write(binary.AppendUvarint(nil, uint64(st.op)))
	b.Write(binary.AppendUvarint(nil, uint64(len(st.keyID))))
	b.WriteString(st.keyID)
	b.Write(st.state)
	return b.Bytes()
}

// decodeStream parses a Correlation Value made by encode for op; ok is false
// for anything else.
func decodeStream(cv []byte, op kmip.Operation) (stream, bool) {
	rest, ok := bytes.CutPrefix(cv, []byte(streamMagic))
	if !ok || len(rest) < 1 || rest[0] != streamVersion {
		return stream{}, false
	}
	rest = rest[1:]
	o, n := binary.Uvarint(rest)
	if n <= 0 || kmip.Operation(o) != op {
		return stream{}, false
	}
	rest = rest[n:]
	l, n := binary.Uvarint(rest)
	if n <= 0 || l > uint64(len(rest)-n) {
		return stream{}, false
	}
	rest = rest[n:]
	return stream{op: op, keyID: string(rest[:l]), state: bytes.Clone(rest[l:])}, true
}

// streamStep says where a request stands in a streamed operation.
type streamStep struct {
	// streaming is true for every part of a streamed operation.
	streaming bool
	// first is the Init Indicator part; last the Final Indicator part.
	first, last bool
	// prev is the continuation of the earlier parts (zero on the first part).
	prev stream
}

// readStream reads Init Indicator, Final Indicator and Correlation Value. A
// Correlation Value this server did not issue for this operation is Item Not
// Found in KMIP 1.x ("No outstanding operation with the specified
// Correlation Value exists", KMIP 1.4 §11.30) and Invalid Correlation Value
// in KMIP 2.x.
func readStream(c *call) (streamStep, error) {
	var st streamStep
	initInd, _ := c.payload.Child(kmip.TagInitIndicator).AsBool()
	finalInd, _ := c.payload.Child(kmip.TagFinalIndicator).AsBool()
	cvItem := c.payload.Child(kmip.TagCorrelationValue)
	if cvItem == nil {
		if !initInd {
			return st, nil // a single, unstreamed request
		}
		return streamStep{streaming: true, first: true, last: finalInd}, nil
	}
	if initInd {
		return st, invalidField("Init Indicator and Correlation Value are exclusive")
	}
	cv, _ := cvItem.AsBytes()
	prev, ok := decodeStream(cv, c.op)
	if !ok {
		return st, badCorrelation(c)
	}
	if ids := c.payload.ChildrenOf(kmip.TagUniqueIdentifier); len(ids) == 1 {
		if id, ok := ids[0].AsText(); ok && id != prev.keyID {
			return st, badCorrelation(c)
		}
	}
	return streamStep{streaming: true, last: finalInd, prev: prev}, nil
}

func badCorrelation(c *call) error {
	if c.v.major >= 2 {
		return errorf(kmip.ResultReasonInvalidCorrelationValue, "the Correlation Value does not belong to an operation on this key")
	}
	return errorf(kmip.ResultReasonItemNotFound, "no outstanding operation with this Correlation Value")
}

// streamKeyID returns the key a request uses: the Unique Identifier (or ID
// Placeholder), else for a continued stream the key it is bound to.
func streamKeyID(c *call, st streamStep) (string, error) {
	if c.payload.Child(kmip.TagUniqueIdentifier) == nil && st.prev.keyID != "" {
		return st.prev.keyID, nil
	}
	return c.uid()
}
