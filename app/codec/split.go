package codec

import (
	"math/big"

	"github.com/kmipd/kmipd/domain/kmip"
)

// CreateSplitKeyRequest is a Create Split Key (KMIP 1.4 §4.38, KMIP 2.1
// §6.1.10) request's split: Split Key Parts, Threshold and Method (all
// required) and the Prime Field Size (nil when absent or not a Big
// Integer). KeyGiven says the request names the key to split by Unique
// Identifier; Wrapping that it carries a Key Wrapping Specification, which
// app refuses. Object Type and attributes are read as Create's.
type CreateSplitKeyRequest struct {
	Parts, Threshold int32
	Method           kmip.SplitKeyMethod
	Prime            *big.Int
	KeyGiven         bool
	Wrapping         bool
}

// DecodeCreateSplitKey reads a Create Split Key request's split fields.
// Every field missing or of the wrong type is Invalid Field, as kmipd
// always answered.
func DecodeCreateSplitKey(payload *kmip.Item) (CreateSplitKeyRequest, error) {
	var r CreateSplitKeyRequest
	var okP, okT, okM bool
	r.Parts, okP = payload.Child(kmip.TagSplitKeyParts).AsInt()
	r.Threshold, okT = payload.Child(kmip.TagSplitKeyThreshold).AsInt()
	m, okM := payload.Child(kmip.TagSplitKeyMethod).AsEnum()
	for _, f := range []struct {
		tag kmip.Tag
		ok  bool
		typ string
	}{{kmip.TagSplitKeyParts, okP, "an Integer"}, {kmip.TagSplitKeyThreshold, okT, "an Integer"}, {kmip.TagSplitKeyMethod, okM, "an Enumeration"}} {
		if !f.ok {
			return CreateSplitKeyRequest{}, fail(Malformed, specName(f.tag), "is required, %s", f.typ)
		}
	}
	r.Method = kmip.SplitKeyMethod(m)
	r.Prime, _ = payload.Child(kmip.TagPrimeFieldSize).AsBig()
	r.KeyGiven = len(payload.ChildrenOf(kmip.TagUniqueIdentifier)) > 0
	r.Wrapping = payload.Child(kmip.TagKeyWrappingSpecification) != nil
	return r, nil
}

// JoinSplitKeyRequest is a Join Split Key (KMIP 1.4 §4.39, KMIP 2.1
// §6.1.28) request's parts, by Unique Identifier, and the Secret Data Type
// of the Secret Data it makes (nil when absent or not an Enumeration).
type JoinSplitKeyRequest struct {
	IDs            []string
	SecretDataType *kmip.SecretDataType
}

// DecodeJoinSplitKey reads a Join Split Key request's Unique Identifiers,
// at least one, each a Text String, and its Secret Data Type.
func DecodeJoinSplitKey(payload *kmip.Item) (JoinSplitKeyRequest, error) {
	var r JoinSplitKeyRequest
	ids := payload.ChildrenOf(kmip.TagUniqueIdentifier)
	if len(ids) == 0 {
		return r, fail(Missing, specName(kmip.TagUniqueIdentifier), "Join Split Key needs the Unique Identifiers of the parts")
	}
	for i, it := range ids {
		id, ok := it.AsText()
		if !ok {
			return JoinSplitKeyRequest{}, fail(Malformed, nth(kmip.TagUniqueIdentifier, i+1), "must be a Text String")
		}
		r.IDs = append(r.IDs, id)
	}
	if v, ok := payload.Child(kmip.TagSecretDataType).AsEnum(); ok {
		t := kmip.SecretDataType(v)
		r.SecretDataType = &t
	}
	return r, nil
}
