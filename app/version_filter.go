package app

import (
	"github.com/kmipd/kmipd/domain/kmip"
)

// stripNewer removes from a KMIP 1.x response every item whose tag the
// negotiated version v does not define (kmip.TagDefinedIn), at any depth:
// a client of that version cannot know such a field, and the spec of that
// version cannot require it, so no answer loses a field its version needs.
// It returns the tags it removed, for the log; KMIP 2.x answers are kept as
// they are.
func stripNewer(it *kmip.Item, v version) []kmip.Tag {
	if v.major >= 2 || it == nil || it.Type != kmip.TypeStructure {
		return nil
	}
	var dropped []kmip.Tag
	kids := it.Children()
	var kept []*kmip.Item // allocated at the first drop: most answers drop nothing
	for i, c := range kids {
		if !kmip.TagDefinedIn(c.Tag, v.major, v.minor) {
			if kept == nil {
				kept = append(make([]*kmip.Item, 0, len(kids)-1), kids[:i]...)
			}
			dropped = append(dropped, c.Tag)
			continue
		}
		dropped = append(dropped, stripNewer(c, v)...)
		if kept != nil {
			kept = append(kept, c)
		}
	}
	if kept != nil {
		it.Value = kept
	}
	return dropped
}

// enumIn reports whether protocol version v defines value e of tag t's
// enumeration (for the lists Query answers).
func enumIn(t kmip.Tag, e uint32, v version) bool {
	return kmip.EnumDefinedIn(t, e, v.major, v.minor)
}
