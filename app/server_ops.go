package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// discoverVersions implements Discover Versions (KMIP 1.4 §4.26): the
// supported versions among those the client lists (all when it lists none),
// in the server's order of preference.
func (s *Service) discoverVersions(ctx context.Context, c *call) (*kmip.Item, error) {
	listed, err := codec.DecodeDiscoverVersions(c.payload)
	if err != nil {
		return nil, err
	}
	asked := map[codec.Version]bool{}
	for _, v := range listed {
		asked[v] = true
	}
	var answer []codec.Version
	for _, v := range supportedVersions {
		if len(asked) == 0 || asked[v.wire()] {
			answer = append(answer, v.wire())
		}
	}
	return codec.DiscoverVersionsResponse(answer), nil
}

// queryObjectTypes are the object types kmipd stores (Register) or makes
// (Create); Query lists each at the versions that define it.
var queryObjectTypes = []kmip.ObjectType{
	kmip.ObjectTypeCertificate, kmip.ObjectTypeSymmetricKey, kmip.ObjectTypePublicKey,
	kmip.ObjectTypePrivateKey, kmip.ObjectTypeSplitKey, kmip.ObjectTypeSecretData,
	kmip.ObjectTypeOpaqueObject, kmip.ObjectTypePGPKey, kmip.ObjectTypeTemplate,
	kmip.ObjectTypeCertificateRequest,
}

// query implements Query (KMIP 1.4 §4.25, KMIP 2.1 §6.1.40): for each
// Query Function asked, the items that describe kmipd — the operations it
// routes, the object types it stores, server information, capabilities,
// RNGs, profiles and storage protection masks. Functions
// for which kmipd has nothing to list (application namespaces, extensions,
// attestation types, validations, client registration methods, defaults)
// are answered with nothing, as the specification prescribes. Functions
// newer than the request's protocol version, and unknown ones, are ignored.
func (s *Service) query(ctx context.Context, c *call) (*kmip.Item, error) {
	asked, err := codec.DecodeQuery(c.payload)
	if err != nil {
		return nil, err
	}
	want := map[kmip.QueryFunction]bool{}
	for _, qf := range asked {
		if since, gated := querySince[qf]; !gated || c.v.atLeast(since.major, since.minor) {
			want[qf] = true
		}
	}
	var out codec.QueryResponse
	if want[kmip.QueryFunctionQueryOperations] {
		out.Operations = s.operations(c.v)
	}
	if want[kmip.QueryFunctionQueryObjects] {
		for _, t := range queryObjectTypes {
			// Templates exist only in KMIP 1.x.
			if codec.ObjectTypeIn(c.v.wire(), t) && enumIn(kmip.TagObjectType, uint32(t), c.v) {
				out.ObjectTypes = append(out.ObjectTypes, t)
			}
		}
	}
	if want[kmip.QueryFunctionQueryServerInformation] {
		out.Vendor = &s.cfg.VendorName
		out.ServerInfo = codec.ServerInformation(c.v.wire(), s.cfg.ServerName, s.cfg.ServerVersion)
	}
	if want[kmip.QueryFunctionQueryRNGs] {
		out.More = append(out.More, s.rngParameters()...)
	}
	if want[kmip.QueryFunctionQueryProfiles] {
		out.More = append(out.More, profileInformation(c.v, s.cfg.ServesHTTPS)...)
	}
	if want[kmip.QueryFunctionQueryCapabilities] {
		out.More = append(out.More, capabilityInformation(s.canStream(), s.canAsync(), s.cfg.SealedAtRest))
	}
	if want[kmip.QueryFunctionQueryStorageProtectionMasks] {
		out.More = append(out.More, protectionStorageMasks())
	}
	return out.Item(), nil
}

// interop implements Interop (KMIP 2.1 §6.1.26), which test harnesses use to
// mark the beginning and end of a test case; kmipd logs it and keeps no state.
func (s *Service) interop(ctx context.Context, c *call) (*kmip.Item, error) {
	f, ok := c.payload.Child(kmip.TagInteropFunction).AsEnum()
	if !ok {
		return nil, missingData("Interop Function is required")
	}
	id, _ := c.payload.Child(kmip.TagInteropIdentifier).AsText()
	s.cfg.Log.Info().Str("client", c.who.Name).Str("function", kmip.InteropFunction(f).String()).Str("identifier", id).Msg("interop")
	return codec.EmptyResponse(), nil
}

// logOp implements Log (KMIP 2.1 §6.1.28): the client's message goes to the
// server log, attributed to the client.
func (s *Service) logOp(ctx context.Context, c *call) (*kmip.Item, error) {
	m, ok := c.payload.Child(kmip.TagLogMessage).AsText()
	if !ok {
		return nil, missingData("Log Message is required")
	}
	s.cfg.Log.Info().Str("client", c.who.Name).Str("message", m).Msg("client log")
	return codec.EmptyResponse(), nil
}
