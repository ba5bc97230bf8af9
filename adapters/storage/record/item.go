package record

import (
	"fmt"

	"github.com/kmipd/kmipd/domain/kmip"
)

// EncodeItem returns the record encoding of one item, as a record holds
// its payload; an item DecodeItem gives back exactly.
func EncodeItem(it *kmip.Item) ([]byte, error) {
	b, err := appendItem(nil, it)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return b, nil
}

// DecodeItem decodes what EncodeItem wrote; errors wrap ErrCorrupt.
func DecodeItem(b []byte) (*kmip.Item, error) {
	d := &decoder{b: b, s: string(b)}
	it := d.item(0)
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Errorf("%d bytes after the item", len(d.b)))
	}
	if d.err != nil {
		return nil, fmt.Errorf("record: %w: %v", ErrCorrupt, d.err)
	}
	return it, nil
}
