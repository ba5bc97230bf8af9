package kmip

import "testing"

func TestTagDefinedIn(t *testing.T) {
	for _, c := range []struct {
		tag          Tag
		major, minor int32
		want         bool
	}{
		{TagPassword, 1, 0, true},                      // the last 1.0 tag
		{TagDeviceIdentifier, 1, 0, false},             // the first 1.1 tag
		{TagDeviceIdentifier, 1, 1, true},              //
		{TagOffsetItems, 1, 2, false},                  // 1.3
		{TagOffsetItems, 1, 3, true},                   //
		{TagAuthenticatedEncryptionTag, 1, 3, false},   // 1.4
		{TagAuthenticatedEncryptionTag, 1, 4, true},    //
		{TagAuthenticatedEncryptionTag, 2, 1, true},    //
		{TagReplaceExisting, 1, 4, true},               // the last 1.4 tag
		{TagAttributes, 1, 4, false},                   // the first 2.0 tag
		{TagAttributes, 2, 0, true},                    //
		{TagPublicProtectionStorageMasks, 2, 0, true},  // the last 2.0 tag
		{TagObjectGroups, 2, 0, false},                 // the first 2.1 tag
		{TagObjectGroups, 2, 1, true},                  //
		{TagRotateLatest, 2, 0, false},                 //
		{TagAsynchronousCorrelationValues, 2, 1, true}, //
		{Tag(0x540001), 1, 0, true},                    // extension
		{TagTemplateAttribute, 1, 4, true},             // removed by KMIP 2.0
		{TagTemplateAttribute, 2, 0, false},            //
		{TagOperationPolicyName, 2, 1, false},          //
		{TagAttributeIndex, 2, 0, false},               //
		{TagCustomAttribute, 1, 0, true},               //
		{TagCustomAttribute, 2, 1, false},              //
		{TagCertificateIdentifier, 2, 0, false},        //
		{TagTemplate, 2, 1, false},                     //
	} {
		if got := TagDefinedIn(c.tag, c.major, c.minor); got != c.want {
			t.Errorf("TagDefinedIn(%s, %d.%d) = %v, want %v", c.tag, c.major, c.minor, got, c.want)
		}
	}
}

func TestEnumDefinedIn(t *testing.T) {
	for _, c := range []struct {
		tag          Tag
		v            uint32
		major, minor int32
		want         bool
	}{
		{TagOperation, uint32(OperationPut), 1, 0, true},
		{TagOperation, uint32(OperationDiscoverVersions), 1, 0, false},
		{TagOperation, uint32(OperationDiscoverVersions), 1, 1, true},
		{TagOperation, uint32(OperationEncrypt), 1, 1, false},
		{TagOperation, uint32(OperationJoinSplitKey), 1, 2, true},
		{TagOperation, uint32(OperationImport), 1, 3, false},
		{TagOperation, uint32(OperationExport), 1, 4, true},
		{TagOperation, uint32(OperationLog), 1, 4, false},
		{TagOperation, uint32(OperationLog), 2, 0, true},
		{TagOperation, uint32(OperationReProvision), 2, 0, true},
		{TagOperation, uint32(OperationSetDefaults), 2, 0, false},
		{TagOperation, uint32(OperationPing), 2, 1, true},
		{TagObjectType, uint32(ObjectTypeOpaqueObject), 1, 0, true},
		{TagObjectType, uint32(ObjectTypePGPKey), 1, 1, false},
		{TagObjectType, uint32(ObjectTypePGPKey), 1, 2, true},
		{TagObjectType, uint32(ObjectTypeCertificateRequest), 1, 4, false},
		{TagProfileName, uint32(ProfileNameTapeLibraryServerKMIPV1_3), 1, 3, true},
		{TagProfileName, uint32(ProfileNameTapeLibraryServerKMIPV1_4), 1, 3, false},
		{TagProfileName, uint32(ProfileNameTapeLibraryServerKMIPV1_4), 1, 4, true},
		{TagResultReason, uint32(ResultReasonKeyCompressionTypeNotSupported), 1, 0, true},
		{TagResultReason, uint32(ResultReasonEncodingOptionError), 1, 0, false},
		{TagResultReason, uint32(ResultReasonEncodingOptionError), 1, 1, true},
		{TagResultReason, uint32(ResultReasonKeyValueNotPresent), 1, 1, false},
		{TagResultReason, uint32(ResultReasonAttestationFailed), 1, 2, true},
		{TagResultReason, uint32(ResultReasonSensitive), 1, 3, false},
		{TagResultReason, uint32(ResultReasonObjectAlreadyExists), 1, 4, true},
		{TagResultReason, uint32(ResultReasonInvalidTicket), 1, 4, false},
		{TagResultReason, uint32(ResultReasonPKCS_11InvalidInterface), 2, 0, true},
		// KMIP 2.0 Table 440 defines 0x48-0x49 (its Create Key Pair and
		// Re-key Key Pair error tables name them); 2.1 added 0x4A on.
		{TagResultReason, uint32(ResultReasonPrivateProtectionStorageUnavailable), 1, 4, false},
		{TagResultReason, uint32(ResultReasonPrivateProtectionStorageUnavailable), 2, 0, true},
		{TagResultReason, uint32(ResultReasonPublicProtectionStorageUnavailable), 2, 0, true},
		{TagResultReason, uint32(ResultReasonUnknownObjectGroup), 2, 0, false},
		{TagResultReason, uint32(ResultReasonUnknownObjectGroup), 2, 1, true},
		{TagResultReason, uint32(ResultReasonConstraintViolation), 2, 0, false},
		{TagResultReason, uint32(ResultReasonDuplicateProcessRequest), 2, 1, true},
		{TagResultReason, uint32(ResultReasonGeneralFailure), 1, 0, true},
		{TagCryptographicAlgorithm, 0x28, 1, 0, true}, // not split by version
	} {
		if got := EnumDefinedIn(c.tag, c.v, c.major, c.minor); got != c.want {
			t.Errorf("EnumDefinedIn(%s, %#x, %d.%d) = %v, want %v", c.tag, c.v, c.major, c.minor, got, c.want)
		}
	}
}
