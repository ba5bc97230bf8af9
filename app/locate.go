package app

import (
	"context"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// locatePage is how many candidate identifiers Locate reads from the store at a time.
const locatePage = 512

// locate implements Locate (KMIP 1.4 §4.9, KMIP 2.1 §6.1.29): equality
// filters on any attribute run as index lookups in the store; the result
// holds only objects the caller may Locate, in ascending identifier order,
// after Offset Items and up to Maximum Items.
func (s *Service) locate(ctx context.Context, c *call) (*kmip.Item, error) {
	attrs, err := requestAttrs(c, kmip.TagAttributes)
	if err != nil {
		return nil, err
	}
	maxItems, offset := -1, 0
	if it := c.payload.Child(kmip.TagMaximumItems); it != nil {
		n, ok := it.AsInt()
		if !ok || n < 0 {
			return nil, invalidField("invalid Maximum Items")
		}
		maxItems = int(n)
	}
	if it := c.payload.Child(kmip.TagOffsetItems); it != nil {
		n, ok := it.AsInt()
		if !ok || n < 0 {
			return nil, invalidField("invalid Offset Items")
		}
		offset = int(n)
	}
	// Storage Status Mask selects on-line objects by default (KMIP 1.4 §4.9);
	// destroyed objects, whose metadata kmipd keeps, only when asked (2.x).
	storage := kmip.StorageStatusMaskOnLineStorage
	if it := c.payload.Child(kmip.TagStorageStatusMask); it != nil {
		m, ok := it.AsInt()
		if !ok {
			return nil, invalidField("Storage Status Mask must be an Integer")
		}
		storage = kmip.StorageStatusMask(m)
	}
	var terms []domain.IndexTerm
	uid := ""
	ranges, err := dateRanges(attrs)
	if err != nil {
		return nil, err
	}
	for _, a := range attrs {
		if a.Value == nil {
			return nil, invalidField("Locate attribute %q has no value", a.Name)
		}
		if _, ok := ranges[a.Name]; ok {
			continue
		}
		switch a.Name {
		case "Object Type":
			v, _ := a.Value.AsEnum()
			terms = append(terms, domain.IndexTerm{Name: domain.IndexObjectType, Key: domain.EnumKey(v)})
		case "State":
			v, _ := a.Value.AsEnum()
			terms = append(terms, domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(v)})
		case "Operation Policy Name":
			v, _ := a.Value.AsText()
			terms = append(terms, domain.IndexTerm{Name: domain.IndexPolicy, Key: v})
		case "Unique Identifier":
			v, ok := a.Value.AsText()
			if !ok || (uid != "" && uid != v) {
				return nil, invalidField("invalid Unique Identifier filter")
			}
			uid = v
		default:
			terms = append(terms, domain.IndexTerm{Name: a.Name, Key: domain.IndexKey(a.Value)})
		}
	}
	var ids []string
	located := 0
	after := ""
	for {
		var page []string
		if uid != "" {
			page = []string{uid}
		} else if page, err = s.cfg.Store.Locate(ctx, ports.LocateQuery{Terms: terms, After: after, Limit: locatePage}); err != nil {
			return nil, err
		}
		for _, id := range page {
			obj, err := s.cfg.Store.Get(ctx, id)
			if isErr(err, ports.ErrNotFound) {
				continue // destroyed by another request meanwhile
			}
			if err != nil {
				return nil, err
			}
			if (uid != "" && !hasTerms(obj, terms)) || !inRanges(obj, ranges) {
				continue
			}
			destroyed := obj.State == domain.Destroyed || obj.State == domain.DestroyedCompromised
			if (destroyed && storage&kmip.StorageStatusMaskDestroyedStorage == 0) ||
				(!destroyed && storage&kmip.StorageStatusMaskOnLineStorage == 0) {
				continue
			}
			if s.authorize(ctx, c, obj, kmip.OperationLocate) != nil {
				continue
			}
			located++
			if located > offset && (maxItems < 0 || len(ids) < maxItems) {
				ids = append(ids, id)
			}
		}
		if len(page) < locatePage {
			break
		}
		after = page[len(page)-1]
	}
	out := kmip.Struct(kmip.TagResponsePayload)
	if c.v.atLeast(1, 3) {
		out.Add(kmip.Int(kmip.TagLocatedItems, int32(located)))
	}
	for _, id := range ids {
		out.Add(kmip.Text(kmip.TagUniqueIdentifier, id))
	}
	return out, nil
}

// dateRange is a Locate filter on a date attribute: two values give a range,
// one value the instant itself (KMIP 1.4 §4.9, KMIP 2.1 §6.1.29).
type dateRange struct{ from, to time.Time }

// dateRanges takes the date filters out of a Locate request: those given
// twice (a range) and every Initial Date filter, which the store does not
// index. The rest are matched by index terms.
func dateRanges(attrs []domain.Attribute) (map[string]dateRange, error) {
	dates := map[string][]time.Time{}
	for _, a := range attrs {
		if t, ok := a.Value.AsTime(); ok {
			dates[a.Name] = append(dates[a.Name], t)
		}
	}
	out := map[string]dateRange{}
	for name, ts := range dates {
		switch {
		case len(ts) > 2:
			return nil, invalidField("Locate gives %q more than twice", name)
		case len(ts) == 2:
			from, to := ts[0], ts[1]
			if to.Before(from) {
				from, to = to, from
			}
			out[name] = dateRange{from, to}
		case name == "Initial Date":
			out[name] = dateRange{ts[0], ts[0]}
		}
	}
	return out, nil
}

// inRanges reports whether the object has, for every date range, a value of
// that attribute within it (bounds included).
func inRanges(obj *domain.Object, ranges map[string]dateRange) bool {
	for name, r := range ranges {
		values := obj.AttrValues(name)
		if name == "Initial Date" {
			values = []*kmip.Item{kmip.DateTime(kmip.TagInitialDate, obj.InitialDate)}
		}
		found := false
		for _, v := range values {
			if t, ok := v.AsTime(); ok && !t.Before(r.from) && !t.After(r.to) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// hasTerms reports whether the object carries every index term.
func hasTerms(obj *domain.Object, terms []domain.IndexTerm) bool {
	have := map[domain.IndexTerm]bool{}
	for _, t := range obj.IndexTerms() {
		have[t] = true
	}
	for _, t := range terms {
		if !have[t] {
			return false
		}
	}
	return true
}
