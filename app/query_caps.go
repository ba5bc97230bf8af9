package app

import (
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
// (ports.ScratchStore, app/crypto_stream.go), every response synchronous, no
// attestation, batches honour Undo and Continue (app/engine.go). Unwrap Mode,
// Destroy Action, Shredding Algorithm and RNG Mode are Unspecified: kmipd
// does not unwrap keys on registration, Destroy removes key material from
// the record but the storage engine may keep freed pages until they are
// reused, nothing is cryptographically shredded, and the RNG is the crypto
// engine's.
func capabilityInformation(streaming bool) *kmip.Item {
	return kmip.Struct(kmip.TagCapabilityInformation,
		kmip.Bool(kmip.TagStreamingCapability, streaming),
		kmip.Bool(kmip.TagAsynchronousCapability, false),
		kmip.Bool(kmip.TagAttestationCapability, false),
		kmip.Bool(kmip.TagBatchUndoCapability, true),
		kmip.Bool(kmip.TagBatchContinueCapability, true),
		kmip.Enum(kmip.TagUnwrapMode, uint32(kmip.UnwrapModeUnspecified)),
		kmip.Enum(kmip.TagDestroyAction, uint32(kmip.DestroyActionUnspecified)),
		kmip.Enum(kmip.TagShreddingAlgorithm, uint32(kmip.ShreddingAlgorithmUnspecified)),
		kmip.Enum(kmip.TagRNGMode, uint32(kmip.RNGModeUnspecified)),
	)
}

// rngParameters is the one RNG kmipd uses, the crypto engine's, whose
// algorithm it cannot name: "If the server is unable to specify details of
// the RNG then it SHALL return an RNG Parameters with the RNG Algorithm
// enumeration of Unspecified" (KMIP 2.1 §6.1.40).
func rngParameters() *kmip.Item {
	return kmip.Struct(kmip.TagRNGParameters, kmip.Enum(kmip.TagRNGAlgorithm, uint32(kmip.RNGAlgorithmUnspecified)))
}

// protectionStorageMasks lists where kmipd keeps key material: in its own
// store, in software (KMIP 2.1 §4.47, §6.1.40: the item is required in the
// answer to Query Storage Protection Masks).
func protectionStorageMasks() *kmip.Item {
	return kmip.Struct(kmip.TagProtectionStorageMasks,
		kmip.Int(kmip.TagProtectionStorageMask, int32(kmip.ProtectionStorageMaskSoftware)))
}

// claimedProfile is a KMIP profile kmipd claims, with the OASIS test cases
// that show it: app/query_profiles_test.go requires every one of them to be
// in test/conformance/expected-pass.txt, so a claim cannot outlive its
// evidence.
type claimedProfile struct {
	name  kmip.ProfileName
	major int32 // protocol major version the name is reported to (1: the KMIPV1_4 names; 2: the generic names with Profile Version 2.1)
	cases []string
}

// claimedProfiles are the server profiles whose mandatory OASIS test cases
// all pass. Baseline Server is not claimed (BL-M-8, -10, -12 and -13 fail),
// nor Symmetric Key Foundry Server (SKFF-M-9 to -12) or Tape Library Server
// (TL-M-2, -3).
var claimedProfiles = []claimedProfile{
	{kmip.ProfileNameSymmetricKeyLifecycleServerKMIPV1_4, 1, []string{"SKLC-M-1-14", "SKLC-M-2-14", "SKLC-M-3-14"}},
	{kmip.ProfileNameStorageArrayWithSelfEncryptingDriveServerKMIPV1_4, 1, []string{"SASED-M-1-14", "SASED-M-2-14", "SASED-M-3-14"}},
	{kmip.ProfileNameOpaqueManagedObjectStoreServerKMIPV1_4, 1, []string{"OMOS-M-1-14"}},
	{kmip.ProfileNameSymmetricKeyLifecycleServer, 2, []string{"SKLC-M-1-21", "SKLC-M-2-21", "SKLC-M-3-21"}},
	{kmip.ProfileNameStorageArrayWithSelfEncryptingDriveServer, 2, []string{"SASED-M-1-21", "SASED-M-2-21", "SASED-M-3-21"}},
	{kmip.ProfileNameOpaqueManagedObjectStoreServer, 2, []string{"OMOS-M-1-21"}},
}

// profileInformation lists the claimed profiles for a client of version v
// (KMIP 1.4 §2.1.19; KMIP 2.1 §7.29 adds Profile Version).
func profileInformation(v version) []*kmip.Item {
	var out []*kmip.Item
	for _, p := range claimedProfiles {
		if (p.major >= 2) != (v.major >= 2) {
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
