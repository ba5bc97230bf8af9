package app

import (
	"fmt"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// Limits bound what one client can make the server keep or send (issue
// 12): the attributes of one object, the state of streamed operations and
// the answer of Locate. A zero field takes the default given beside it. The
// attribute and stream bounds are checked against the store, inside the
// write that would exceed them, so they hold for every node sharing it.
type Limits struct {
	// MaxAttributeValueSize caps one attribute value, name included, in
	// TTLV-encoded bytes (default 64 KiB).
	MaxAttributeValueSize int
	// MaxAttributeInstances caps the instances of one attribute on one
	// object (default 64).
	MaxAttributeInstances int
	// MaxObjectAttributesSize caps all attributes of one object together,
	// in TTLV-encoded bytes (default 1 MiB).
	MaxObjectAttributesSize int
	// MaxStreamsPerClient caps the streamed operations one client identity
	// has open (default 16); MaxStreams caps them for all clients (default
	// 1024).
	MaxStreamsPerClient, MaxStreams int
	// MaxStreamBytesPerClient caps the stream state one client identity
	// keeps (default 32 MiB); MaxStreamBytes caps it for all clients
	// (default 512 MiB).
	MaxStreamBytesPerClient, MaxStreamBytes int64
	// MaxLocateItems caps the identifiers one Locate returns, the internal
	// maximum KMIP 1.4 §4.9 allows when Maximum Items is omitted or larger
	// (default 10000); Located Items still counts every match, and Offset
	// Items pages through them.
	MaxLocateItems int
	// MaxResponseSize caps the encoded batch items of one response (default
	// 16 MiB): a batch of 1000 RNG Retrieve or Get Attributes items of 1 MiB
	// each would otherwise build a gigabyte in memory.
	MaxResponseSize int
}

// DefaultLimits are the Limits a zero field takes.
var DefaultLimits = Limits{
	MaxAttributeValueSize:   64 << 10,
	MaxAttributeInstances:   64,
	MaxObjectAttributesSize: 1 << 20,
	MaxStreamsPerClient:     16,
	MaxStreams:              1024,
	MaxStreamBytesPerClient: 32 << 20,
	MaxStreamBytes:          512 << 20,
	MaxLocateItems:          10000,
	MaxResponseSize:         16 << 20,
}

// withDefaults returns l with each zero field set to its default.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	pick(&l.MaxAttributeValueSize, d.MaxAttributeValueSize)
	pick(&l.MaxAttributeInstances, d.MaxAttributeInstances)
	pick(&l.MaxObjectAttributesSize, d.MaxObjectAttributesSize)
	pick(&l.MaxStreamsPerClient, d.MaxStreamsPerClient)
	pick(&l.MaxStreams, d.MaxStreams)
	pick(&l.MaxLocateItems, d.MaxLocateItems)
	pick(&l.MaxResponseSize, d.MaxResponseSize)
	if l.MaxStreamBytesPerClient == 0 {
		l.MaxStreamBytesPerClient = d.MaxStreamBytesPerClient
	}
	if l.MaxStreamBytes == 0 {
		l.MaxStreamBytes = d.MaxStreamBytes
	}
	return l
}

// serverLimit is the refusal of a request that would exceed a quota: Server
// Limit Exceeded in KMIP 2.x (2.1 §11), and in KMIP 1.x, which has no such
// reason, Permission Denied ("Client is not allowed to perform the
// specified operation", 1.4 §11.1).
func serverLimit(format string, args ...any) error {
	return kindErr(errKindQuota, format, args...)
}

// valueTooLarge is the refusal of a value longer than kmipd accepts: Invalid
// Field in KMIP 1.x (1.4 §11.1 has no server-limit reason), Server Limit
// Exceeded in KMIP 2.x.
func valueTooLarge(format string, args ...any) error {
	return kindErr(errKindTooLarge, format, args...)
}

// capResponse adds the response batch item bi to *size, the encoded size
// of the batch items so far, and when that passes MaxResponseSize replaces
// bi's result with Response Too Large (KMIP 1.4 §11.1), so that its payload
// is dropped at once; failed reports the replacement, which the batch's
// continuation option then treats as any failed item.
func (s *Service) capResponse(bi *kmip.Item, size *int) (failed bool) {
	n := kmip.EncodedLen(bi)
	if *size+n <= s.cfg.Limits.MaxResponseSize {
		*size += n
		return false
	}
	var kept []*kmip.Item
	for _, c := range bi.Children() {
		if c.Tag == kmip.TagOperation || c.Tag == kmip.TagUniqueBatchItemID {
			kept = append(kept, c)
		}
	}
	bi.Value = append(kept,
		kmip.Enum(kmip.TagResultStatus, uint32(kmip.ResultStatusOperationFailed)),
		kmip.Enum(kmip.TagResultReason, uint32(kmip.ResultReasonResponseTooLarge)),
		kmip.Text(kmip.TagResultMessage, fmt.Sprintf("the response would exceed the server's %d bytes", s.cfg.Limits.MaxResponseSize)))
	*size += kmip.EncodedLen(bi)
	return true
}

// attrSize is what one attribute counts against the limits: its name and
// its value as TTLV encodes it.
func attrSize(a domain.Attribute) int { return len(a.Name) + kmip.EncodedLen(a.Value) }

// checkAttrLimits refuses a change that takes obj from before (nil for a
// new object) past the attribute limits. Only growth is refused, so an
// object stored under larger limits can still be trimmed. The reasons:
// an oversized value is Invalid Field in KMIP 1.x, an instance too many
// Index Out of Bounds (1.4 §11.15 "the server limit on instances has been
// reached"), the object's total Permission Denied; all three are Server
// Limit Exceeded in KMIP 2.x.
func (s *Service) checkAttrLimits(c *call, before, obj *domain.Object) error {
	l := s.cfg.Limits
	var oldTotal, total int
	oldCount, count := map[string]int{}, map[string]int{}
	var oldBig []domain.Attribute // oversized values already stored
	if before != nil {
		for _, a := range before.Attributes {
			oldTotal += attrSize(a)
			oldCount[a.Name]++
			if attrSize(a) > l.MaxAttributeValueSize {
				oldBig = append(oldBig, a)
			}
		}
	}
	for _, a := range obj.Attributes {
		n := attrSize(a)
		total += n
		count[a.Name]++
		if n > l.MaxAttributeValueSize && !holds(oldBig, a) {
			return valueTooLarge("attribute %q is %d bytes, more than the %d allowed", a.Name, n, l.MaxAttributeValueSize)
		}
	}
	for name, n := range count {
		if n > l.MaxAttributeInstances && n > oldCount[name] {
			return kindErr(errKindTooManyInstances, "attribute %q would have more than %d instances", name, l.MaxAttributeInstances)
		}
	}
	if total > l.MaxObjectAttributesSize && total > oldTotal {
		return serverLimit("the object's attributes would take %d bytes, more than the %d allowed", total, l.MaxObjectAttributesSize)
	}
	return nil
}

// holds reports whether attrs has an instance of a's attribute with a's value.
func holds(attrs []domain.Attribute, a domain.Attribute) bool {
	for _, o := range attrs {
		if o.Name == a.Name && o.Value.Equal(a.Value) {
			return true
		}
	}
	return false
}
