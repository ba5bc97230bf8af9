package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Streamed operations (KMIP 1.4 §4.29-4.34 and §4.37, Init Indicator /
// Final Indicator / Correlation Value) keep their state on the server, in
// the store's scratch space (ports.ScratchStore), so that any node sharing
// the store takes the next part and the state never reaches the client. The
// Correlation Value is 16 random bytes that name the stream for all its
// parts; the stream is bound to the client, the operation and the key, and
// expires streamTTL after its last part. Its scratch key starts with its
// owner's prefix, so the store bounds each client's open streams and their
// state (Limits) for every node sharing it. Each part claims the state
// (TakeScratch) and a part that is not the last stores the next one, so
// parts of one stream are serialized across nodes; a failed part, like the
// final one, leaves no state behind. For Encrypt and Decrypt the state
// is the engine's (ports.CipherOutput.State, which may hold GCM's GHASH
// accumulator); for Sign, Signature Verify, MAC, MAC Verify and Hash it is
// the data so far, at most maxStreamData bytes.

const (
	// streamTTL is how long a stream waits for its next part.
	streamTTL = 10 * time.Minute
	// maxStreamData bounds the data a streamed Sign, MAC or Hash buffers:
	// four messages of the transport's default 1 MiB maximum.
	maxStreamData = 4 << 20
	// cvLen is the length of a Correlation Value.
	cvLen = 16

	streamRecordVersion = 1
)

// stream is the server-side record of a streamed operation.
type stream struct {
	owner   string
	op      kmip.Operation
	keyID   string
	expires time.Time // by the Service's clock
	state   []byte
}

// encode returns the record as stored: version, owner, operation, key ID,
// expiry and state.
func (st stream) encode() []byte {
	b := []byte{streamRecordVersion}
	b = binary.AppendUvarint(b, uint64(len(st.owner)))
	b = append(b, st.owner...)
	b = binary.AppendUvarint(b, uint64(st.op))
	b = binary.AppendUvarint(b, uint64(len(st.keyID)))
	b = append(b, st.keyID...)
	b = binary.BigEndian.AppendUint64(b, uint64(st.expires.UnixNano()))
	return append(b, st.state...)
}

// decodeStream parses a record made by encode; ok is false for anything else.
func decodeStream(b []byte) (st stream, ok bool) {
	if len(b) < 1 || b[0] != streamRecordVersion {
		return stream{}, false
	}
	rest := b[1:]
	text := func() (string, bool) {
		l, n := binary.Uvarint(rest)
		if n <= 0 || l > uint64(len(rest)-n) {
			return "", false
		}
		s := string(rest[n : n+int(l)])
		rest = rest[n+int(l):]
		return s, true
	}
	if st.owner, ok = text(); !ok {
		return stream{}, false
	}
	o, n := binary.Uvarint(rest)
	if n <= 0 || o > 0xFFFFFFFF {
		return stream{}, false
	}
	st.op, rest = kmip.Operation(o), rest[n:]
	if st.keyID, ok = text(); !ok || len(rest) < 8 {
		return stream{}, false
	}
	st.expires = time.Unix(0, int64(binary.BigEndian.Uint64(rest)))
	st.state = bytes.Clone(rest[8:])
	return st, true
}

// streamPrefix starts the scratch store key of every stream.
const streamPrefix = "stream/"

// ownerStreams is the scratch key prefix of owner's streams: counting the
// values under it counts the streams the client has open, on every node.
func ownerStreams(owner string) string { return streamPrefix + hex.EncodeToString([]byte(owner)) + "/" }

// scratchKey is the scratch store key of owner's stream with Correlation
// Value cv.
func scratchKey(owner string, cv []byte) string { return ownerStreams(owner) + hex.EncodeToString(cv) }

// streamStep says where a request stands in a streamed operation.
type streamStep struct {
	// streaming is true for every part of a streamed operation.
	streaming bool
	// first is the Init Indicator part; last the Final Indicator part.
	first, last bool
	// cv is the Correlation Value of a continued stream (nil on the first part).
	cv []byte
	// prev is the record of the earlier parts (zero on the first part).
	prev stream
}

// scratch returns the store's scratch space: without it kmipd cannot keep
// stream state, and streaming is Feature Not Supported rather than stateless.
func (s *Service) scratch() (ports.ScratchStore, error) {
	ss, ok := s.cfg.Store.(ports.ScratchStore)
	if !ok {
		return nil, errorf(kmip.ResultReasonFeatureNotSupported, "streaming needs a store that keeps stream state")
	}
	return ss, nil
}

// canStream reports whether streamed operations work: the Streaming
// Capability of Query (KMIP 1.4 §2.1.21).
func (s *Service) canStream() bool {
	_, ok := s.cfg.Store.(ports.ScratchStore)
	return ok
}

// readStream reads Init Indicator, Final Indicator and Correlation Value,
// and for a continued stream claims its record. A Correlation Value that is
// unknown, expired, or another client's, operation's or key's is Item Not
// Found in KMIP 1.x ("No outstanding operation with the specified
// Correlation Value exists", KMIP 1.4 §11.30) and Invalid Correlation Value
// in KMIP 2.x.
func (s *Service) readStream(ctx context.Context, c *call, req codec.CryptoRequest) (streamStep, error) {
	var st streamStep
	initInd, finalInd := req.Init, req.Final
	if !req.CorrelationGiven {
		if !initInd {
			return st, nil // a single, unstreamed request
		}
		if !finalInd {
			if _, err := s.scratch(); err != nil {
				return st, err
			}
		}
		return streamStep{streaming: true, first: true, last: finalInd}, nil
	}
	if initInd {
		return st, invalidField("Init Indicator and Correlation Value are exclusive")
	}
	ss, err := s.scratch()
	if err != nil {
		return st, err
	}
	cv := req.Correlation
	if len(cv) != cvLen {
		return st, badCorrelation()
	}
	key := scratchKey(c.who.Name, cv)
	rec, err := ss.GetScratch(ctx, key)
	if errors.Is(err, ports.ErrNotFound) {
		return st, badCorrelation()
	} else if err != nil {
		return st, err
	}
	prev, ok := decodeStream(rec)
	if !ok || prev.owner != c.who.Name || prev.op != c.op || !s.cfg.Clock.Now().Before(prev.expires) {
		return st, badCorrelation()
	}
	if uid, err := codec.DecodeUniqueIdentifier(c.v.wire(), c.payload); err == nil && uid.Given && !uid.IsEnum && uid.Text != prev.keyID {
		return st, badCorrelation()
	}
	// Claim the state: a concurrent part of the same stream, on any node,
	// finds nothing rather than the same state, which would reuse keystream.
	// A part that then fails ends the stream.
	taken, err := ss.TakeScratch(ctx, key)
	if errors.Is(err, ports.ErrNotFound) {
		return st, badCorrelation()
	} else if err != nil {
		return st, err
	}
	if !bytes.Equal(taken, rec) {
		return st, badCorrelation()
	}
	return streamStep{streaming: true, last: finalInd, cv: bytes.Clone(cv), prev: prev}, nil
}

func badCorrelation() error {
	return kindErr(errKindUnknownCorrelation, "no outstanding operation with this Correlation Value")
}

// saveStream stores the state after a part that is not the last and returns
// the stream's Correlation Value, new on the first part.
func (s *Service) saveStream(ctx context.Context, c *call, st streamStep, keyID string, state []byte) ([]byte, error) {
	ss, err := s.scratch()
	if err != nil {
		return nil, err
	}
	cv := st.cv
	if cv == nil {
		cv = make([]byte, cvLen)
		if _, err := rand.Read(cv); err != nil {
			return nil, err
		}
	}
	rec := stream{owner: c.who.Name, op: c.op, keyID: keyID, expires: s.cfg.Clock.Now().Add(streamTTL), state: state}
	// The store purges by its own clock; give it the same span.
	err = ss.PutScratch(ctx, scratchKey(c.who.Name, cv), rec.encode(), time.Now().Add(streamTTL), s.streamQuotas(c.who.Name)...)
	if errors.Is(err, ports.ErrQuotaExceeded) {
		l := s.cfg.Limits
		return nil, serverLimit("too many open streams or too much stream state: at most %d streams and %d bytes for one client, %d and %d in all",
			l.MaxStreamsPerClient, l.MaxStreamBytesPerClient, l.MaxStreams, l.MaxStreamBytes)
	}
	if err != nil {
		return nil, err
	}
	return cv, nil
}

// streamQuotas are the bounds on the stream state of owner and of all
// clients, which the store checks in the write that would break them.
func (s *Service) streamQuotas(owner string) []ports.ScratchQuota {
	l := s.cfg.Limits
	return []ports.ScratchQuota{
		{Prefix: ownerStreams(owner), MaxValues: l.MaxStreamsPerClient, MaxBytes: l.MaxStreamBytesPerClient},
		{Prefix: streamPrefix, MaxValues: l.MaxStreams, MaxBytes: l.MaxStreamBytes},
	}
}
