package app

import (
	"errors"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain/kmip"
)

// wire is the version in the codec's terms.
func (v version) wire() codec.Version { return codec.Version{Major: v.major, Minor: v.minor} }

// codecProblems gives each codec.Problem its Result Reason, or the error
// kind that picks one per version: the one place request-decoding errors
// become results.
var codecProblems = map[codec.Problem]Error{
	codec.Malformed:     {Reason: kmip.ResultReasonInvalidField},
	codec.Missing:       {Reason: kmip.ResultReasonMissingData},
	codec.Unsupported:   {Reason: kmip.ResultReasonFeatureNotSupported},
	codec.Repeated:      {Reason: kmip.ResultReasonInvalidMessage},
	codec.BadObjectType: {Kind: errKindBadObjectType},
	codec.BadEncoding:   {Reason: kmip.ResultReasonEncodingOptionError},
	codec.Incomplete:    {Reason: kmip.ResultReasonInvalidMessage},

	codec.RemovedField:       {Reason: kmip.ResultReasonInvalidMessage},
	codec.RemovedAttribute:   {Reason: kmip.ResultReasonInvalidAttribute},
	codec.UnknownTag:         {Kind: errKindUnknownTag},
	codec.UnknownEnumeration: {Kind: errKindUnknownEnum},
}

// fromCodec returns err as an *Error when it is a codec error, and err
// unchanged otherwise.
func fromCodec(err error) error {
	var ce *codec.Error
	if !errors.As(err, &ce) {
		return err
	}
	e, ok := codecProblems[ce.Problem]
	if !ok {
		e = Error{Reason: kmip.ResultReasonInvalidField}
	}
	e.Msg = ce.Error()
	return &e
}
