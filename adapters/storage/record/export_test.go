package record

// MarshalJSON exposes the version 1 JSON encoder to tests: records written
// by earlier kmipd releases must still be read.
var MarshalJSON = marshalJSON
