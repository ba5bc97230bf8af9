package codec

import "github.com/kmipd/kmipd/domain/kmip"

// DecodeDiscoverVersions reads the Protocol Versions a Discover Versions
// request (KMIP 1.4 §4.26) lists, in order; none means every version.
func DecodeDiscoverVersions(payload *kmip.Item) ([]Version, error) {
	var out []Version
	for i, pv := range payload.ChildrenOf(kmip.TagProtocolVersion) {
		maj, ok1 := pv.Child(kmip.TagProtocolVersionMajor).AsInt()
		min, ok2 := pv.Child(kmip.TagProtocolVersionMinor).AsInt()
		if !ok1 || !ok2 {
			return nil, fail(Malformed, nth(kmip.TagProtocolVersion, i+1), "needs an Integer major and minor version")
		}
		out = append(out, Version{maj, min})
	}
	return out, nil
}

// DiscoverVersionsResponse is Discover Versions' answer: the versions, in
// the server's order of preference.
func DiscoverVersionsResponse(versions []Version) *kmip.Item {
	out := EmptyResponse()
	for _, v := range versions {
		out.Add(kmip.Struct(kmip.TagProtocolVersion,
			kmip.Int(kmip.TagProtocolVersionMajor, v.Major),
			kmip.Int(kmip.TagProtocolVersionMinor, v.Minor)))
	}
	return out
}

// DecodeQuery reads the Query Functions a Query request (KMIP 1.4 §4.25,
// KMIP 2.1 §6.1.40) asks for, in order.
func DecodeQuery(payload *kmip.Item) ([]kmip.QueryFunction, error) {
	var out []kmip.QueryFunction
	for i, f := range payload.ChildrenOf(kmip.TagQueryFunction) {
		v, ok := f.AsEnum()
		if !ok {
			return nil, fail(Malformed, nth(kmip.TagQueryFunction, i+1), "must be an Enumeration")
		}
		out = append(out, kmip.QueryFunction(v))
	}
	return out, nil
}

// QueryResponse is Query's answer, each part present when asked: the
// operations routed, the object types stored, the vendor and Server
// Information (ServerInformation gives its shape by version), then the
// RNG, profile, capability and protection mask structures as built.
type QueryResponse struct {
	Operations  []kmip.Operation
	ObjectTypes []kmip.ObjectType
	Vendor      *string
	ServerInfo  *kmip.Item
	More        []*kmip.Item
}

// Item builds the Response Payload.
func (r QueryResponse) Item() *kmip.Item {
	out := EmptyResponse()
	for _, op := range r.Operations {
		out.Add(kmip.Enum(kmip.TagOperation, uint32(op)))
	}
	for _, t := range r.ObjectTypes {
		out.Add(kmip.Enum(kmip.TagObjectType, uint32(t)))
	}
	if r.Vendor != nil {
		out.Add(kmip.Text(kmip.TagVendorIdentification, *r.Vendor))
	}
	if r.ServerInfo != nil {
		out.Add(r.ServerInfo)
	}
	return out.Add(r.More...)
}
