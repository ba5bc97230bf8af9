// Package sealed keeps key material sealed at rest in any ports.Store: a
// decorator that, before the store sees an object, replaces the payload of
// every secret object (symmetric, private, split and PGP keys, secret data,
// opaque objects, templates: everything but public keys, certificates and
// certificate requests) with an envelope, the payload encrypted with
// AES-256-GCM under a data key of its own that a ports.KEK wraps; and that
// opens the envelope after reading. Scratch values (the state of streamed
// operations) are sealed the same way. The stores never see a KEK nor a
// clear secret; attributes stay in clear and searchable.
//
// What the envelope's associated data binds: the object's identifier, its
// object type and the revision of the record holding it, so that an
// envelope copied into another object, or an older envelope put back into a
// newer record, does not open. Restoring a whole older record (revision
// field included) is not detected: that would need a counter kept outside
// the store.
//
// Crypto-shredding: an object's data key exists only wrapped inside its
// envelope, and Destroy drops the payload (envelope and wrapped data key) in
// the same write. Whatever copy of the ciphertext a file or WAL keeps is
// then noise once the store has scrubbed the wrapped key, and is noise to
// anyone without the KEK in any case.
package sealed

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/kmipd/kmipd/adapters/storage/record"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Tag is the tag of a sealed object's stored payload (record.SealedPayload,
// in the extension range; it never leaves the server): a Structure of two
// Byte Strings tagged tagKeyPart and tagBoxPart, the envelope cut after the
// wrapped data key, so that the store sees when a write keeps the wrapped
// key (record.Change.Scrub).
const Tag = record.SealedPayload

const (
	tagKeyPart = kmip.Tag(0x54FFE6)
	tagBoxPart = kmip.Tag(0x54FFE7)
)

// payloadItem is the stored payload of an envelope.
func payloadItem(env []byte, keyPart int) *kmip.Item {
	return kmip.Struct(Tag, kmip.Bytes(tagKeyPart, env[:keyPart]), kmip.Bytes(tagBoxPart, env[keyPart:]))
}

// envelopeOf returns the envelope a stored sealed payload holds.
func envelopeOf(p *kmip.Item) ([]byte, bool) {
	kids := p.Children()
	if p.Type != kmip.TypeStructure || len(kids) != 2 || kids[0].Tag != tagKeyPart || kids[1].Tag != tagBoxPart {
		return nil, false
	}
	k, ok1 := kids[0].AsBytes()
	b, ok2 := kids[1].AsBytes()
	return append(append([]byte(nil), k...), b...), ok1 && ok2
}

// Store is the sealing decorator of a ports.Store.
type Store struct {
	inner ports.Store
	cur   ports.KEK
	keks  map[string]ports.KEK
}

// New returns inner sealed under current; previous KEKs, kept during a
// rotation, still open what they sealed, and every write seals under
// current.
func New(inner ports.Store, current ports.KEK, previous ...ports.KEK) *Store {
	keks := map[string]ports.KEK{current.ID(): current}
	for _, k := range previous {
		if _, dup := keks[k.ID()]; !dup {
			keks[k.ID()] = k
		}
	}
	return &Store{inner: inner, cur: current, keks: keks}
}

// Port returns the store as the app sees it: s, and a ports.ScratchStore
// too when the inner store is one.
func (s *Store) Port() ports.Store {
	if ss, ok := s.inner.(ports.ScratchStore); ok {
		return &scratchStore{Store: s, scratch: ss}
	}
	return s
}

var _ ports.Store = (*Store)(nil)

// Secret reports whether objects of type t have their payload sealed:
// every type but those whose payload is public (public keys, certificates,
// certificate requests).
func Secret(t uint32) bool {
	switch kmip.ObjectType(t) {
	case kmip.ObjectTypePublicKey, kmip.ObjectTypeCertificate, kmip.ObjectTypeCertificateRequest:
		return false
	}
	return true
}

// IsSealed reports whether a stored object's payload is an envelope.
func IsSealed(obj *domain.Object) bool {
	return obj.Payload != nil && obj.Payload.Tag == Tag
}

// KEKOf returns the ID of the KEK that wraps a stored object's data key, or
// "" when its payload is not sealed.
func KEKOf(obj *domain.Object) string {
	if !IsSealed(obj) {
		return ""
	}
	b, _ := envelopeOf(obj.Payload)
	e, err := parseEnvelope(b)
	if err != nil {
		return ""
	}
	return e.kekID
}

// objectAAD is the associated data of an object's envelope.
func objectAAD(id string, typ uint32, revision uint64) []byte {
	b := []byte("kmipd seal object v1\x00")
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = binary.AppendUvarint(b, uint64(typ))
	return binary.AppendUvarint(b, revision)
}

// unseal replaces a stored object's envelope with the payload it holds and
// returns its data key (nil when the payload was not sealed).
func (s *Store) unseal(ctx context.Context, obj *domain.Object) (*dataKey, error) {
	if !IsSealed(obj) {
		return nil, nil
	}
	b, ok := envelopeOf(obj.Payload)
	if !ok {
		return nil, fmt.Errorf("object %s: %w: malformed envelope", obj.ID, ErrUnseal)
	}
	plain, dk, err := open(ctx, s.keks, b, objectAAD(obj.ID, obj.Type, obj.Revision))
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", obj.ID, err)
	}
	p, err := record.DecodeItem(plain)
	clear(plain)
	if err != nil {
		dk.wipe()
		return nil, fmt.Errorf("object %s: %w: %v", obj.ID, ErrUnseal, err)
	}
	obj.Payload = p
	return dk, nil
}

// seal replaces the payload of a secret object with its envelope for the
// record at revision, reusing dk (the object's data key, rewrapped under
// the current KEK) when there is one.
func (s *Store) seal(ctx context.Context, obj *domain.Object, revision uint64, dk *dataKey) (*dataKey, error) {
	if obj.Payload == nil || !Secret(obj.Type) || IsSealed(obj) {
		return dk, nil
	}
	var err error
	if dk == nil {
		dk, err = newDataKey(ctx, s.cur)
	} else {
		dk, err = dk.rewrap(ctx, s.cur)
	}
	if err != nil {
		return nil, err
	}
	plain, err := record.EncodeItem(obj.Payload)
	if err != nil {
		return dk, err
	}
	env, err := dk.seal(plain, objectAAD(obj.ID, obj.Type, revision))
	clear(plain)
	if err != nil {
		return dk, err
	}
	obj.Payload = payloadItem(env, dk.headerLen())
	return dk, nil
}

// Create seals a copy of obj and stores it.
func (s *Store) Create(ctx context.Context, obj *domain.Object) error {
	c := *obj
	dk, err := s.seal(ctx, &c, c.Revision, nil)
	dk.wipe()
	if err != nil {
		return err
	}
	return s.inner.Create(ctx, &c)
}

// Get reads the object and opens its envelope.
func (s *Store) Get(ctx context.Context, id string) (*domain.Object, error) {
	obj, err := s.inner.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	dk, err := s.unseal(ctx, obj)
	dk.wipe()
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// Update runs fn on the opened object and seals what it leaves for the
// next revision, under the current KEK (an object still sealed under a
// previous KEK, or not at all, is sealed anew by any update). The object
// keeps its data key across updates.
func (s *Store) Update(ctx context.Context, id string, fn func(obj *domain.Object) error) error {
	return s.inner.Update(ctx, id, func(obj *domain.Object) error {
		rev := obj.Revision
		dk, err := s.unseal(ctx, obj)
		defer func() { dk.wipe() }()
		if err != nil {
			return err
		}
		if err := fn(obj); err != nil {
			return err
		}
		if obj.ID != id {
			return nil // the store refuses the change of identifier
		}
		sealedDK, err := s.seal(ctx, obj, rev+1, dk)
		if sealedDK != dk {
			defer sealedDK.wipe()
		}
		return err
	})
}

// Delete deletes the object.
func (s *Store) Delete(ctx context.Context, id string) error { return s.inner.Delete(ctx, id) }

// DeleteIf deletes the object while it is at revision.
func (s *Store) DeleteIf(ctx context.Context, id string, revision uint64) error {
	return s.inner.DeleteIf(ctx, id, revision)
}

// Locate searches the index, which holds no sealed value.
func (s *Store) Locate(ctx context.Context, q ports.LocateQuery) ([]string, error) {
	return s.inner.Locate(ctx, q)
}

// Close closes the inner store.
func (s *Store) Close() error { return s.inner.Close() }
