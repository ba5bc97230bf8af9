package app

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// notCopied are the attributes a replacement key does not take from the key
// it replaces (KMIP 1.4 §4.5 Table 177, §4.4 Table 170); the server sets them anew.
var notCopied = map[string]bool{
	kmip.TagUniqueIdentifier.SpecName(): true, kmip.TagName.SpecName(): true, kmip.TagDigest.SpecName(): true, kmip.TagState.SpecName(): true, kmip.TagInitialDate.SpecName(): true,
	kmip.TagActivationDate.SpecName(): true, kmip.TagDeactivationDate.SpecName(): true, kmip.TagDestroyDate.SpecName(): true, kmip.TagCompromiseOccurrenceDate.SpecName(): true,
	kmip.TagCompromiseDate.SpecName(): true, kmip.TagRevocationReason.SpecName(): true, kmip.TagLink.SpecName(): true, kmip.TagLastChangeDate.SpecName(): true,
	kmip.TagRandomNumberGenerator.SpecName(): true, kmip.TagArchiveDate.SpecName(): true, kmip.TagKeyFormatType.SpecName(): true, kmip.TagFresh.SpecName(): true,
	kmip.TagOriginalCreationDate.SpecName(): true,
}

// replacement starts the replacement of old: its attributes but those of
// notCopied, its names, then the request's attributes for that half, with
// dates from offset (KMIP 1.4 §4.5 Table 176).
func (s *Service) replacement(ctx context.Context, c *call, old *domain.Object, attrs []domain.Attribute, offset *time.Duration) (*domain.Object, error) {
	fresh, err := s.newObject(ctx, c, kmip.ObjectType(old.Type), attrs)
	if err != nil {
		return nil, err
	}
	now := fresh.InitialDate
	o := old.Clone()
	// The replacement stays its existing owner's (as Re-key's does), whoever
	// re-keys: a right to re-key is not a right to take the key.
	o.ID, o.State, o.InitialDate, o.Payload = fresh.ID, domain.PreActive, now, nil
	kept := o.Attributes[:0]
	for _, a := range o.Attributes {
		if !notCopied[a.Name] || a.Name == kmip.TagName.SpecName() {
			kept = append(kept, a)
		}
	}
	o.Attributes = kept
	set := map[string]bool{}
	for _, a := range fresh.Attributes {
		if !set[a.Name] {
			o.DeleteAttr(a.Name)
			set[a.Name] = true
		}
		o.AddAttr(a.Name, a.Value)
	}
	at1, hasAT := old.AttrOf(kmip.TagActivationDate).AsTime()
	dt1, hasDT := old.AttrOf(kmip.TagDeactivationDate).AsTime()
	if fresh.AttrOf(kmip.TagActivationDate) == nil {
		switch {
		case offset != nil:
			at2 := now.Add(*offset)
			o.SetAttrOf(kmip.TagActivationDate, kmip.DateTime(kmip.TagActivationDate, at2))
			if hasAT && hasDT {
				o.SetAttrOf(kmip.TagDeactivationDate, kmip.DateTime(kmip.TagDeactivationDate, dt1.Add(at2.Sub(at1))))
			}
		case hasAT:
			o.SetAttrOf(kmip.TagActivationDate, kmip.DateTime(kmip.TagActivationDate, at1))
			if hasDT {
				o.SetAttrOf(kmip.TagDeactivationDate, kmip.DateTime(kmip.TagDeactivationDate, dt1))
			}
		}
	}
	if ad, ok := o.AttrOf(kmip.TagActivationDate).AsTime(); ok && !ad.After(now) {
		o.State = domain.Active
	}
	return o, nil
}

// reKeyKeyPair implements Re-key Key Pair (KMIP 1.4 §4.5, KMIP 2.1 §6.1.45).
func (s *Service) reKeyKeyPair(ctx context.Context, c *call) (*kmip.Item, error) {
	oldPriv, oldPub, err := s.pairToReKey(ctx, c)
	if err != nil {
		return nil, err
	}
	req, err := codec.DecodeReKeyKeyPair(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	privAttrs, pubAttrs, err := s.halves(ctx, c, req.Attributes, false)
	if err != nil {
		return nil, err
	}
	priv, err := s.replacement(ctx, c, oldPriv, privAttrs, req.Offset)
	if err != nil {
		return nil, err
	}
	pub, err := s.replacement(ctx, c, oldPub, pubAttrs, req.Offset)
	if err != nil {
		return nil, err
	}
	priv.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypeReplacedObjectLink, oldPriv.ID))
	pub.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypeReplacedObjectLink, oldPub.ID))
	rotated := s.cfg.Clock.Now().Truncate(time.Second)
	domain.MarkRotation(oldPriv.Clone(), priv, rotated)
	domain.MarkRotation(oldPub.Clone(), pub, rotated)
	out, err := s.generatePair(ctx, c, priv, pub, oldPriv.ID, oldPub.ID)
	if err != nil {
		return nil, err
	}
	if err := s.markReplaced(ctx, c, map[string]string{oldPriv.ID: priv.ID, oldPub.ID: pub.ID}); err != nil {
		return nil, err
	}
	return out, nil
}

// pairToReKey loads the private key a Re-key Key Pair names and the public
// key its Public Key Link names, both checked for access and usability.
func (s *Service) pairToReKey(ctx context.Context, c *call) (oldPriv, oldPub *domain.Object, err error) {
	uid, err := codec.DecodePrivateKeyID(c.v.wire(), c.payload)
	if err != nil {
		return nil, nil, err
	}
	id, err := c.resolveUID(uid)
	if err != nil {
		return nil, nil, err
	}
	oldPriv, err = s.loadAs(ctx, c, id, c.op)
	if err != nil {
		return nil, nil, err
	}
	if oldPriv.Type != uint32(kmip.ObjectTypePrivateKey) {
		return nil, nil, badObjectType("Re-key Key Pair needs a Private Key")
	}
	pubID := ""
	for _, l := range oldPriv.AttrValuesOf(kmip.TagLink) {
		if t, _ := l.Child(kmip.TagLinkType).AsEnum(); t == uint32(kmip.LinkTypePublicKeyLink) {
			pubID, _ = l.Child(kmip.TagLinkedObjectIdentifier).AsText()
		}
	}
	if pubID == "" {
		return nil, nil, invalidField("the private key has no Public Key Link")
	}
	oldPub, err = s.cfg.Store.Get(ctx, pubID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.authorize(ctx, c, oldPub, c.op); err != nil {
		return nil, nil, err
	}
	if err := s.effective(c, oldPub); err != nil {
		return nil, nil, err
	}
	return oldPriv, oldPub, nil
}

// markReplaced updates each replaced object (old identifier → replacement
// identifier): its Names move to the replacement, it gains a Replacement
// Object Link, and it is no longer the latest of its rotation.
func (s *Service) markReplaced(ctx context.Context, c *call, replacedBy map[string]string) error {
	now := s.cfg.Clock.Now()
	for old, repl := range replacedBy {
		var before *domain.Object
		err := s.cfg.Store.Update(ctx, old, func(o *domain.Object) error {
			before = o.Clone()
			o.DeleteAttrOf(kmip.TagName)
			o.AddAttrOf(kmip.TagLink, linkAttr(kmip.LinkTypeReplacementObjectLink, repl))
			o.SetAttrOf(kmip.TagRotateLatest, kmip.Bool(kmip.TagRotateLatest, false))
			o.SetAttrOf(kmip.TagLastChangeDate, kmip.DateTime(kmip.TagLastChangeDate, now))
			return nil
		})
		if err != nil {
			return err
		}
		s.undoUpdate(c, before)
	}
	return nil
}
