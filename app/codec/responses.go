package codec

import (
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// The builders below are the Response Payloads of the operations whose
// answers carry attributes or identifiers, in each version's shape.

// IDResponse is the answer naming one object: Register, Re-key, Derive
// Key, Join Split Key, Set and Adjust Attribute, and every 2.x attribute
// change.
func IDResponse(id string) *kmip.Item {
	return kmip.Struct(kmip.TagResponsePayload, kmip.Text(kmip.TagUniqueIdentifier, id))
}

// CreateResponse is Create's answer: the Object Type made and its Unique
// Identifier.
func CreateResponse(t kmip.ObjectType, id string) *kmip.Item {
	return kmip.Struct(kmip.TagResponsePayload,
		kmip.Enum(kmip.TagObjectType, uint32(t)),
		kmip.Text(kmip.TagUniqueIdentifier, id))
}

// KeyPairResponse is Create Key Pair's and Re-key Key Pair's answer.
func KeyPairResponse(privateID, publicID string) *kmip.Item {
	return kmip.Struct(kmip.TagResponsePayload,
		kmip.Text(kmip.TagPrivateKeyUniqueIdentifier, privateID),
		kmip.Text(kmip.TagPublicKeyUniqueIdentifier, publicID))
}

// GetAttributesResponse is Get Attributes' answer: the object's identifier
// and the attributes picked, as 1.x Attribute structures or inside a 2.x
// Attributes structure.
func GetAttributesResponse(v Version, id string, attrs []domain.Attribute) *kmip.Item {
	if v.v2() {
		return EncodeAll(v, IDResponse(id), attrs)
	}
	out := IDResponse(id)
	for _, a := range attrs {
		if r, _ := domain.AttrRuleFor(a.Name); r.Multi {
			out.Add(encodeIndexed(a))
			continue
		}
		out.Add(Encode(v, a))
	}
	return out
}

// encodeIndexed is the 1.x Attribute structure of a with its Attribute
// Index always present, 0 included. KMIP 1.4 §2.1.1 lets a server omit
// index 0; the reference server names it for every instance of a
// multi-instance attribute, and PyKMIP's clients and tests read it.
func encodeIndexed(a domain.Attribute) *kmip.Item {
	at := kmip.Struct(kmip.TagAttribute,
		kmip.Text(kmip.TagAttributeName, a.Name),
		kmip.Int(kmip.TagAttributeIndex, int32(a.Index)))
	return addValue(at, a.Value)
}

// GetAttributeListResponse is Get Attribute List's answer: each attribute
// name once, as a 1.x Attribute Name or a 2.x Attribute Reference.
func GetAttributeListResponse(v Version, id string, attrs []domain.Attribute) *kmip.Item {
	out := IDResponse(id)
	seen := map[string]bool{}
	for _, a := range attrs {
		if !seen[a.Name] {
			seen[a.Name] = true
			out.Add(Reference(v, a))
		}
	}
	return out
}

// AttributeChangeResponse is the answer of Add, Modify and Delete
// Attribute: the 1.x forms echo the attribute changed (a zero a echoes
// nothing), the 2.x forms only the identifier. The 1.x echo always carries
// the Attribute Index, 0 included: the spec lets a server omit index 0, but
// PyKMIP's client reads the index of the changed instance.
func AttributeChangeResponse(v Version, id string, a domain.Attribute) *kmip.Item {
	out := IDResponse(id)
	if v.v2() || a.Name == "" {
		return out
	}
	return out.Add(encodeIndexed(a))
}

// ExportResponse is Export's answer (KMIP 1.4 §4.40, KMIP 2.1 §6.1.18): the
// Object Type, the identifier, every attribute in version v's shape, and
// the object's value when it has one.
func ExportResponse(v Version, t kmip.ObjectType, id string, attrs []domain.Attribute, value *kmip.Item) *kmip.Item {
	out := EncodeAll(v, CreateResponse(t, id), attrs)
	if value != nil {
		out.Add(value)
	}
	return out
}

// ServerInformation is the Server Information a Query answer carries
// (KMIP 1.4 §4.25, KMIP 2.1 §6.1.40): KMIP 1.x clients (PyKMIP among them)
// expect the structure, empty if need be; KMIP 2.x answers it only with
// content. nil means none.
func ServerInformation(v Version, name, version string) *kmip.Item {
	info := kmip.Struct(kmip.TagServerInformation)
	if name != "" {
		info.Add(kmip.Text(kmip.TagServerName, name))
	}
	if version != "" {
		info.Add(kmip.Text(kmip.TagServerVersion, version))
	}
	if v.v2() && len(info.Children()) == 0 {
		return nil
	}
	return info
}

// LocateResponse is Locate's answer: Located Items, the number of matches
// in all, from KMIP 1.3 on, then the identifiers of the page.
func LocateResponse(v Version, located int, ids []string) *kmip.Item {
	out := kmip.Struct(kmip.TagResponsePayload)
	if v.AtLeast(1, 3) {
		out.Add(kmip.Int(kmip.TagLocatedItems, int32(located)))
	}
	for _, id := range ids {
		out.Add(kmip.Text(kmip.TagUniqueIdentifier, id))
	}
	return out
}

// GetResponse is Get's answer: the Object Type, the identifier and the
// object's value in the format asked.
func GetResponse(t kmip.ObjectType, id string, value *kmip.Item) *kmip.Item {
	return CreateResponse(t, id).Add(value)
}

// EmptyResponse is the answer of operations that return nothing (Interop,
// Log, ...).
func EmptyResponse() *kmip.Item { return kmip.Struct(kmip.TagResponsePayload) }

// IDsResponse is Create Split Key's answer: the identifier of each part,
// in order.
func IDsResponse(ids []string) *kmip.Item {
	out := EmptyResponse()
	for _, id := range ids {
		out.Add(kmip.Text(kmip.TagUniqueIdentifier, id))
	}
	return out
}

// LeaseResponse is Obtain Lease's answer (KMIP 1.4 §4.18): the lease in
// seconds and the Last Change Date the client must compare.
func LeaseResponse(id string, seconds uint32, lastChange time.Time) *kmip.Item {
	return IDResponse(id).Add(kmip.Interval(kmip.TagLeaseTime, seconds), kmip.DateTime(kmip.TagLastChangeDate, lastChange))
}

// CancelResponse is Cancel's answer (KMIP 1.4 §4.23): the Asynchronous
// Correlation Value and the Cancellation Result.
func CancelResponse(correlation []byte, res kmip.CancellationResult) *kmip.Item {
	return kmip.Struct(kmip.TagResponsePayload,
		kmip.Bytes(kmip.TagAsynchronousCorrelationValue, correlation),
		kmip.Enum(kmip.TagCancellationResult, uint32(res)))
}

// EndpointRoleResponse is Set Endpoint Role's answer (KMIP 2.1 §6.1.50).
func EndpointRoleResponse(role kmip.EndpointRole) *kmip.Item {
	return kmip.Struct(kmip.TagResponsePayload, kmip.Enum(kmip.TagEndpointRole, uint32(role)))
}

// ValidateResponse is the answer to Validate (KMIP 1.4 §4.24, 2.1
// §6.1.57): its Validity Indicator.
func ValidateResponse(vi kmip.ValidityIndicator) *kmip.Item {
	return kmip.Struct(kmip.TagResponsePayload, kmip.Enum(kmip.TagValidityIndicator, uint32(vi)))
}
