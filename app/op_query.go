package app

import (
	"context"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// Answers to the Query functions that describe the server rather than its
// operations and object types (KMIP 1.4 §4.25, KMIP 2.1 §6.1.40 Table 281).
// Each lists only what kmipd does; an empty answer is what the
// specification prescribes when there is nothing to list.

// querySince gives the protocol version that introduced each Query Function
// beyond the KMIP 1.0 ones; a client of an older version is not answered it.
var querySince = map[kmip.QueryFunction]version{
	kmip.QueryFunctionQueryApplicationNamespaces:     {1, 1},
	kmip.QueryFunctionQueryExtensionList:             {1, 2},
	kmip.QueryFunctionQueryExtensionMap:              {1, 2},
	kmip.QueryFunctionQueryAttestationTypes:          {1, 2},
	kmip.QueryFunctionQueryRNGs:                      {1, 3},
	kmip.QueryFunctionQueryValidations:               {1, 3},
	kmip.QueryFunctionQueryProfiles:                  {1, 3},
	kmip.QueryFunctionQueryCapabilities:              {1, 3},
	kmip.QueryFunctionQueryClientRegistrationMethods: {1, 3},
	kmip.QueryFunctionQueryDefaultsInformation:       {2, 0},
	kmip.QueryFunctionQueryStorageProtectionMasks:    {2, 0},
}

// capabilityInformation describes how kmipd processes requests (KMIP 1.4
// §2.1.21, KMIP 2.1 §7.5): streaming when the store keeps stream state
// (ports.ScratchStore, app/crypto_stream.go), asynchronous answers when it
// keeps them and they are not turned off (app/async.go), no
// attestation, batches honour Undo and Continue (app/engine.go). Unwrap Mode,
// Destroy Action and RNG Mode are Unspecified: kmipd does not unwrap keys
// on registration, Destroy removes key material from the record but the
// storage engine may keep freed pages until they are reused, and the RNG
// is the crypto engine's. Shredding Algorithm is Cryptographic when the
// store seals key material at rest (Config.SealedAtRest: Destroy drops the
// object's data key, so what a file keeps of the sealed bytes is noise),
// Unspecified otherwise.
func capabilityInformation(streaming, async, shredding bool) *kmip.Item {
	shred := kmip.ShreddingAlgorithmUnspecified
	if shredding {
		shred = kmip.ShreddingAlgorithmCryptographic
	}
	return kmip.Struct(kmip.TagCapabilityInformation,
		kmip.Bool(kmip.TagStreamingCapability, streaming),
		kmip.Bool(kmip.TagAsynchronousCapability, async),
		kmip.Bool(kmip.TagAttestationCapability, false),
		kmip.Bool(kmip.TagBatchUndoCapability, true),
		kmip.Bool(kmip.TagBatchContinueCapability, true),
		kmip.Enum(kmip.TagUnwrapMode, uint32(kmip.UnwrapModeUnspecified)),
		kmip.Enum(kmip.TagDestroyAction, uint32(kmip.DestroyActionUnspecified)),
		kmip.Enum(kmip.TagShreddingAlgorithm, uint32(shred)),
		kmip.Enum(kmip.TagRNGMode, uint32(kmip.RNGModeUnspecified)),
	)
}

// rngParameters lists the RNGs kmipd uses, the crypto engine's, as the
// engine describes them (the key generator first): "If the server is unable
// to specify details of the RNG then it SHALL return an RNG Parameters with
// the RNG Algorithm enumeration of Unspecified" (KMIP 2.1 §6.1.40).
func (s *Service) rngParameters() []*kmip.Item {
	var out []*kmip.Item
	for _, info := range s.engineRNGs() {
		out = append(out, kmip.Struct(kmip.TagRNGParameters, rngFields(info)...))
	}
	return out
}

// protectionStorageMasks lists where kmipd keeps key material: in its own
// store, in software (KMIP 2.1 §4.47, §6.1.40: the item is required in the
// answer to Query Storage Protection Masks).
func protectionStorageMasks() *kmip.Item {
	return kmip.Struct(kmip.TagProtectionStorageMasks,
		kmip.Int(kmip.TagProtectionStorageMask, int32(kmip.ProtectionStorageMaskSoftware)))
}

// claimedProfile is a KMIP profile kmipd claims, with the OASIS test cases
// that show it: app/op_query_test.go requires every one of them to be
// in test/conformance/expected-pass.txt, so a claim cannot outlive its
// evidence.
type claimedProfile struct {
	name  kmip.ProfileName
	major int32 // protocol major version the name is reported to (1: the KMIPV1_4 names; 2: the generic names with Profile Version 2.1)
	cases []string
	// overHTTPS: claimed only while kmipd also serves KMIP over HTTPS
	// (Config.ServesHTTPS): the HTTPS, JSON and XML Server profiles.
	overHTTPS bool
}

// claimedProfiles are the server profiles whose mandatory OASIS test cases
// all pass. A KMIP 1.x profile is claimed for protocol versions 1.2, 1.3 and
// 1.4 (the profile document defines one name per version with the same
// requirements; kmipd speaks all three) on the evidence of the 1.4 cases.
// Not claimed: Basic and Advanced Cryptographic Server (CS-BC-M-3 and the
// randomized OAEP encryptions cannot match the recorded outputs), Baseline
// Server for 1.x (no 1.4 Baseline cases are in the suite).
var claimedProfiles = func() []claimedProfile {
	v14 := func(names [3]kmip.ProfileName, cases ...string) []claimedProfile {
		out := make([]claimedProfile, 0, len(names))
		for _, n := range names {
			out = append(out, claimedProfile{name: n, major: 1, cases: cases})
		}
		return out
	}
	var ps []claimedProfile
	ps = append(ps, v14([3]kmip.ProfileName{kmip.ProfileNameSymmetricKeyLifecycleServerKMIPV1_2, kmip.ProfileNameSymmetricKeyLifecycleServerKMIPV1_3, kmip.ProfileNameSymmetricKeyLifecycleServerKMIPV1_4},
		"SKLC-M-1-14", "SKLC-M-2-14", "SKLC-M-3-14")...)
	ps = append(ps, v14([3]kmip.ProfileName{kmip.ProfileNameStorageArrayWithSelfEncryptingDriveServerKMIPV1_2, kmip.ProfileNameStorageArrayWithSelfEncryptingDriveServerKMIPV1_3, kmip.ProfileNameStorageArrayWithSelfEncryptingDriveServerKMIPV1_4},
		"SASED-M-1-14", "SASED-M-2-14", "SASED-M-3-14")...)
	ps = append(ps, v14([3]kmip.ProfileName{kmip.ProfileNameOpaqueManagedObjectStoreServerKMIPV1_2, kmip.ProfileNameOpaqueManagedObjectStoreServerKMIPV1_3, kmip.ProfileNameOpaqueManagedObjectStoreServerKMIPV1_4},
		"OMOS-M-1-14")...)
	ps = append(ps, v14([3]kmip.ProfileName{kmip.ProfileNameTapeLibraryServerKMIPV1_2, kmip.ProfileNameTapeLibraryServerKMIPV1_3, kmip.ProfileNameTapeLibraryServerKMIPV1_4},
		"TL-M-1-14", "TL-M-2-14", "TL-M-3-14")...)
	ps = append(ps, v14([3]kmip.ProfileName{kmip.ProfileNameAsymmetricKeyLifecycleServerKMIPV1_2, kmip.ProfileNameAsymmetricKeyLifecycleServerKMIPV1_3, kmip.ProfileNameAsymmetricKeyLifecycleServerKMIPV1_4},
		"AKLC-M-1-14", "AKLC-M-2-14", "AKLC-M-3-14")...)
	ps = append(ps, v14([3]kmip.ProfileName{kmip.ProfileNameSymmetricKeyFoundryServerKMIPV1_2, kmip.ProfileNameSymmetricKeyFoundryServerKMIPV1_3, kmip.ProfileNameSymmetricKeyFoundryServerKMIPV1_4},
		"SKFF-M-1-14", "SKFF-M-2-14", "SKFF-M-3-14", "SKFF-M-4-14", "SKFF-M-5-14", "SKFF-M-6-14",
		"SKFF-M-7-14", "SKFF-M-8-14", "SKFF-M-9-14", "SKFF-M-10-14", "SKFF-M-11-14", "SKFF-M-12-14")...)
	ps = append(ps, v14([3]kmip.ProfileName{kmip.ProfileNameRNGCryptographicServerKMIPV1_2, kmip.ProfileNameRNGCryptographicServerKMIPV1_3, kmip.ProfileNameRNGCryptographicServerKMIPV1_4},
		"CS-RNG-M-1-14")...)
	ps = append(ps, overHTTPS(v14([3]kmip.ProfileName{kmip.ProfileNameHTTPSServerKMIPV1_2, kmip.ProfileNameHTTPSServerKMIPV1_3, kmip.ProfileNameHTTPSServerKMIPV1_4},
		"MSGENC-HTTPS-M-1-14"))...)
	ps = append(ps, overHTTPS(v14([3]kmip.ProfileName{kmip.ProfileNameJSONServerKMIPV1_2, kmip.ProfileNameJSONServerKMIPV1_3, kmip.ProfileNameJSONServerKMIPV1_4},
		"MSGENC-JSON-M-1-14"))...)
	ps = append(ps, overHTTPS(v14([3]kmip.ProfileName{kmip.ProfileNameXMLServerKMIPV1_2, kmip.ProfileNameXMLServerKMIPV1_3, kmip.ProfileNameXMLServerKMIPV1_4},
		"MSGENC-XML-M-1-14"))...)
	ps = append(ps, overHTTPS([]claimedProfile{
		{name: kmip.ProfileNameHTTPSServer, major: 2, cases: []string{"MSGENC-HTTPS-M-1-21"}},
		{name: kmip.ProfileNameJSONServer, major: 2, cases: []string{"MSGENC-JSON-M-1-21"}},
		{name: kmip.ProfileNameXMLServer, major: 2, cases: []string{"MSGENC-XML-M-1-21"}},
	})...)
	return append(ps,
		claimedProfile{name: kmip.ProfileNameSymmetricKeyLifecycleServer, major: 2, cases: []string{"SKLC-M-1-21", "SKLC-M-2-21", "SKLC-M-3-21"}},
		claimedProfile{name: kmip.ProfileNameStorageArrayWithSelfEncryptingDriveServer, major: 2, cases: []string{"SASED-M-1-21", "SASED-M-2-21", "SASED-M-3-21"}},
		claimedProfile{name: kmip.ProfileNameOpaqueManagedObjectStoreServer, major: 2, cases: []string{"OMOS-M-1-21"}},
		claimedProfile{name: kmip.ProfileNameTapeLibraryServer, major: 2, cases: []string{"TL-M-1-21", "TL-M-2-21", "TL-M-3-21"}},
		claimedProfile{name: kmip.ProfileNameAsymmetricKeyLifecycleServer, major: 2, cases: []string{"AKLC-M-1-21", "AKLC-M-2-21", "AKLC-M-3-21"}},
		claimedProfile{name: kmip.ProfileNameSymmetricKeyFoundryServer, major: 2, cases: []string{"SKFF-M-1-21", "SKFF-M-2-21", "SKFF-M-3-21",
			"SKFF-M-4-21", "SKFF-M-5-21", "SKFF-M-6-21", "SKFF-M-7-21", "SKFF-M-8-21", "SKFF-M-9-21", "SKFF-M-10-21",
			"SKFF-M-11-21", "SKFF-M-12-21"}},
		claimedProfile{name: kmip.ProfileNameRNGCryptographicServer, major: 2, cases: []string{"CS-RNG-M-1-21"}},
		claimedProfile{name: kmip.ProfileNameBaselineServer, major: 2, cases: []string{"BL-M-1-21", "BL-M-2-21", "BL-M-3-21", "BL-M-4-21",
			"BL-M-5-21", "BL-M-6-21", "BL-M-7-21", "BL-M-8-21", "BL-M-9-21", "BL-M-10-21", "BL-M-11-21", "BL-M-12-21", "BL-M-13-21"}},
		claimedProfile{name: kmip.ProfileNameQuantumSafeServer, major: 2, cases: []string{"QS-M-1-21", "QS-M-2-21"}},
	)
}()

// overHTTPS marks ps as claimed only while kmipd serves KMIP over HTTPS.
func overHTTPS(ps []claimedProfile) []claimedProfile {
	for i := range ps {
		ps[i].overHTTPS = true
	}
	return ps
}

// profileInformation lists the claimed profiles for a client of version v
// (KMIP 1.4 §2.1.19; KMIP 2.1 §7.29 adds Profile Version); the HTTPS, JSON
// and XML Server profiles only when servesHTTPS.
func profileInformation(v version, servesHTTPS bool) []*kmip.Item {
	var out []*kmip.Item
	for _, p := range claimedProfiles {
		if (p.major >= 2) != (v.major >= 2) || !enumIn(kmip.TagProfileName, uint32(p.name), v) || (p.overHTTPS && !servesHTTPS) {
			continue
		}
		info := kmip.Struct(kmip.TagProfileInformation, kmip.Enum(kmip.TagProfileName, uint32(p.name)))
		if p.major >= 2 {
			info.Add(kmip.Struct(kmip.TagProfileVersion,
				kmip.Int(kmip.TagProfileVersionMajor, 2),
				kmip.Int(kmip.TagProfileVersionMinor, 1)))
		}
		out = append(out, info)
	}
	return out
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
