package app

import (
	"slices"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

// An answer that holds nothing newer than the negotiated version is left as
// it is without allocating (stripNewer runs over every 1.x response); one
// that does loses exactly the newer fields, at any depth.
func TestStripNewerKeepsOldAnswersWithoutAllocating(t *testing.T) {
	v12 := version{1, 2}
	old := func() *kmip.Item {
		return kmip.Struct(kmip.TagResponsePayload, kmip.Enum(kmip.TagObjectType, 2), kmip.Text(kmip.TagUniqueIdentifier, "1"),
			kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock, kmip.Enum(kmip.TagKeyFormatType, 1))))
	}
	it := old()
	if allocs := testing.AllocsPerRun(100, func() { stripNewer(it, v12) }); allocs != 0 {
		t.Errorf("stripNewer of an answer with nothing to drop: %.0f allocations, want 0", allocs)
	}
	if len(it.Children()) != 3 {
		t.Fatalf("children changed: %v", it)
	}
	// Key Wrap Type (0x4200F8) is KMIP 1.4: dropped inside the Key Block for 1.2, kept for 1.4.
	withNew := func() *kmip.Item {
		it := old()
		it.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock).Add(kmip.Enum(kmip.TagKeyWrapType, 1))
		it.Add(kmip.Enum(kmip.TagKeyWrapType, 2))
		return it
	}
	it = withNew()
	dropped := stripNewer(it, v12)
	if !slices.Equal(dropped, []kmip.Tag{kmip.TagKeyWrapType, kmip.TagKeyWrapType}) {
		t.Errorf("dropped %v", dropped)
	}
	if it.Child(kmip.TagKeyWrapType) != nil || it.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyWrapType) != nil ||
		len(it.Children()) != 3 || it.Child(kmip.TagUniqueIdentifier) == nil || it.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyFormatType) == nil {
		t.Errorf("after stripping for 1.2: %v", it)
	}
	it = withNew()
	if d := stripNewer(it, version{1, 4}); d != nil || len(it.Children()) != 4 {
		t.Errorf("1.4 answer lost %v", d)
	}
}
