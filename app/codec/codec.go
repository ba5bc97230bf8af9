// Package codec owns the wire shapes of KMIP requests and responses that
// differ between protocol versions: attributes in a KMIP 1.x
// Template-Attribute (Attribute Name, Index and Value structures, Names of
// Templates) or a KMIP 2.x Attributes structure (values under their own
// tags, Vendor Attributes), attribute references (1.x Attribute Name text,
// 2.x Attribute Reference), the key pair containers (Common, Private and
// Public Template-Attribute or Attributes) and the attributes echoed in
// answers. It decodes each operation's request once into a typed request
// and builds its answer from a typed response, so that handlers in app are
// use-case code that never looks at the protocol version for a shape.
//
// It imports only domain and domain/kmip (test/archtest). Its errors are
// *Error values naming the field at fault and the Problem; app maps each
// Problem to a Result Reason in one place.
package codec

import (
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
)

// Version is the negotiated protocol version a request was read in and its
// answer is written in.
type Version struct{ Major, Minor int32 }

// v2 reports whether v is KMIP 2.x, whose attribute shapes replace 1.x's.
func (v Version) v2() bool { return v.Major >= 2 }

// AtLeast reports whether v is maj.min or later.
func (v Version) AtLeast(maj, min int32) bool {
	return v.Major > maj || (v.Major == maj && v.Minor >= min)
}

// Problem is what is wrong with a request field; app gives each its Result
// Reason (app/codec_errors.go).
type Problem uint8

const (
	// Malformed: a field of the wrong type, an unknown tag or enumeration
	// value, a structure with the wrong fields (Invalid Field).
	Malformed Problem = iota + 1
	// Missing: a field the operation needs is absent (Missing Data).
	Missing
	// Unsupported: a well-formed field asking for what kmipd does not do,
	// such as Template references where none are resolved (Feature Not
	// Supported).
	Unsupported
	// Repeated: a field the message may carry once is repeated (Invalid
	// Message, KMIP 1.4 §11.13).
	Repeated
	// BadObjectType: an Object Type the version does not define (Invalid
	// Field in 1.x, Invalid Object Type in 2.x).
	BadObjectType
	// BadEncoding: an Encoding Option kmipd cannot apply (Encoding Option
	// Error, KMIP 1.4 §11.12).
	BadEncoding
	// Incomplete: a field without which the message itself is invalid
	// (Invalid Message: Get Usage Allocation's Usage Limits Count, KMIP 1.4
	// §11.19).
	Incomplete
	// RemovedField: a KMIP 1.x field a 2.x request may not carry any more
	// (Invalid Message, KMIP 2.1 §11.47 "the invalid use of a known tag").
	RemovedField
	// RemovedAttribute: a 1.x attribute in a 2.x attribute structure
	// (Invalid Attribute).
	RemovedAttribute
	// UnknownTag: a tag newer than the request's version (Unknown Tag in
	// 2.x; app's error kind picks it per version).
	UnknownTag
	// UnknownEnumeration: an enumeration value newer than the request's
	// version (Unknown Enumeration in 2.x).
	UnknownEnumeration
)

// Error is a request the codec could not decode: Field names where (for
// example "Template-Attribute: Attribute 3"), Msg what is wrong. Its text is
// safe to send to the client: it never holds a value.
type Error struct {
	Problem Problem
	Field   string
	Msg     string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func fail(p Problem, field, format string, args ...any) *Error {
	return &Error{Problem: p, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// in returns err with where prefixed to its Field, so a nested decoder's
// error names the whole path ("Template-Attribute: Attribute 3").
func in(where string, err error) error {
	if e, ok := err.(*Error); ok && where != "" {
		f := where
		if e.Field != "" {
			f += ": " + e.Field
		}
		return &Error{Problem: e.Problem, Field: f, Msg: e.Msg}
	}
	return err
}

// specName is the specification name of a tag, the field name errors use.
func specName(t kmip.Tag) string { return t.SpecName() }

// nth names the n-th (1-based) child of a tag in a structure.
func nth(t kmip.Tag, n int) string { return fmt.Sprintf("%s %d", specName(t), n) }
