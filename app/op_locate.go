package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// locatePage is how many candidate identifiers Locate reads from the store at
// a time when it must load candidates to check them.
const locatePage = 512

// policyLister is the optional capability of a ports.PolicySource (the
// policy directory has it) to list the names of its policies: every name
// besides the reserved ones that Policy resolves at that moment. With it,
// Locate filters by access in the store's index (domain.AccessTerms) instead
// of loading every candidate to check it; without it Locate stays correct
// but loads candidates.
type policyLister interface {
	Names() []string
}

// Names lists no policy besides the reserved ones.
func (reservedPolicies) Names() []string { return nil }

// locateFilter is a Locate request's criteria: what the store answers from its
// index (query) and what kmipd checks on loaded candidates (the rest).
type locateFilter struct {
	query  ports.LocateQuery
	terms  []domain.IndexTerm   // search terms stores do not index (domain.Indexed)
	uid    string               // Unique Identifier filter, "" if none
	ranges map[string]dateRange // date ranges and Initial Date
	state  *domain.State        // State filter, compared with the effective state
	limits *kmip.Item           // Usage Limits filter (KMIP 1.4 §4.9: at least these)
	access bool                 // the store filtered by access already
}

// needsLoad reports whether candidates must be loaded to be checked.
func (f *locateFilter) needsLoad() bool {
	return f.uid != "" || len(f.terms) > 0 || len(f.ranges) > 0 || f.state != nil || f.limits != nil || !f.access
}

// term adds a search term the object must have: to the store's query when
// stores index it, else to the terms checked on loaded candidates.
func (f *locateFilter) term(t domain.IndexTerm) {
	if domain.Indexed(t.Name) {
		f.query.Terms = append(f.query.Terms, t)
	} else {
		f.terms = append(f.terms, t)
	}
}

// locate implements Locate (KMIP 1.4 §4.9, KMIP 2.1 §6.1.29): filters on
// indexed attributes (domain.Indexed), the caller's access, the Storage
// Status Mask and the Object Group Member run as index lookups in the store;
// filters on the other attributes, date ranges, Usage Limits and the
// effective State are checked on the candidates those lookups select. The result
// holds only objects the caller may Locate, newest first, after Offset
// Items and up to Maximum Items; Located Items (KMIP 1.3+) counts every match.
func (s *Service) locate(ctx context.Context, c *call) (*kmip.Item, error) {
	req, err := codec.DecodeLocate(c.v.wire(), c.payload)
	if err != nil {
		return nil, err
	}
	maxItems, offset := req.MaxItems, req.OffsetItems
	if maxItems < 0 || maxItems > s.cfg.Limits.MaxLocateItems {
		maxItems = s.cfg.Limits.MaxLocateItems // KMIP 1.4 §4.9: an internal maximum
	}
	f, err := s.locateFilter(ctx, c, req)
	if err != nil {
		return nil, err
	}
	defaultMember := false
	if req.GroupMember != nil {
		m := *req.GroupMember
		if containsTerm(f.query.Terms, kmip.TagObjectGroup.SpecName()) {
			switch m {
			case kmip.ObjectGroupMemberGroupMemberFresh:
				f.term(domain.IndexTerm{Name: kmip.TagFresh.SpecName(), Key: domain.IndexKey(kmip.Bool(kmip.TagFresh, true))})
			case kmip.ObjectGroupMemberGroupMemberDefault:
				defaultMember = true
				if maxItems < 0 || maxItems > 1 {
					maxItems = 1
				}
			default:
				return nil, invalidField("unknown Object Group Member %d", m)
			}
		}
	}
	var ids []string
	var located int
	if defaultMember {
		ids, located, err = s.groupDefault(ctx, c, f, offset, maxItems)
	} else {
		ids, located, err = s.locateIDs(ctx, c, f, offset, maxItems)
	}
	if err != nil {
		return nil, err
	}
	return codec.LocateResponse(c.v.wire(), located, ids), nil
}

// locateIDs runs the filter and returns the page of identifiers asked for and
// the number of matches in all.
func (s *Service) locateIDs(ctx context.Context, c *call, f *locateFilter, offset, maxItems int) ([]string, int, error) {
	page := func(all []string) []string {
		newestFirst(all)
		if offset >= len(all) {
			return nil
		}
		all = all[offset:]
		if maxItems >= 0 && len(all) > maxItems {
			all = all[:maxItems]
		}
		return all
	}
	if !f.needsLoad() {
		// Every match is read: newest first is the store's order reversed,
		// and Located Items (1.3+) counts them all.
		all, err := s.cfg.Store.Locate(ctx, f.query)
		if err != nil {
			return nil, 0, err
		}
		return page(all), len(all), nil
	}
	var matches []string
	now := s.cfg.Clock.Now()
	q := f.query
	q.Limit = locatePage
	for {
		var ids []string
		var err error
		if f.uid != "" {
			ids = []string{f.uid}
		} else if ids, err = s.cfg.Store.Locate(ctx, q); err != nil {
			return nil, 0, err
		}
		for _, id := range ids {
			obj, err := s.cfg.Store.Get(ctx, id)
			if errors.Is(err, ports.ErrNotFound) {
				continue // destroyed by another request meanwhile
			}
			if err != nil {
				return nil, 0, err
			}
			if s.locateMatch(ctx, c, f, obj, now) {
				matches = append(matches, id)
			}
		}
		if f.uid != "" || len(ids) < locatePage {
			break
		}
		q.After = ids[len(ids)-1]
	}
	return page(matches), len(matches), nil
}

// groupDefault answers a Locate for a group's default member (Object Group
// Member Group Member Default), which KMIP 1.4 §4.9 leaves to "server
// policy". kmipd's policy hands out the group's members in turn: the default
// is the oldest member no client has received yet (Fresh, KMIP 1.1+), else
// the oldest member, so clients that Get the default in turn are given the
// members in creation order and then the first again, as the KMIP 1.1 test
// case TC-153-11 records. Fresh lives in the store, so every node agrees.
// Located Items counts the group's matching members.
func (s *Service) groupDefault(ctx context.Context, c *call, f *locateFilter, offset, maxItems int) ([]string, int, error) {
	all, located, err := s.locateIDs(ctx, c, f, 0, -1)
	if err != nil {
		return nil, 0, err
	}
	fresh := *f
	fresh.query.Terms = slices.Clone(f.query.Terms)
	fresh.terms = slices.Clone(f.terms)
	fresh.term(domain.IndexTerm{Name: kmip.TagFresh.SpecName(), Key: domain.IndexKey(kmip.Bool(kmip.TagFresh, true))})
	unserved, _, err := s.locateIDs(ctx, c, &fresh, 0, -1)
	if err != nil {
		return nil, 0, err
	}
	// Both lists are newest first: the oldest fresh members lead, then the
	// others oldest first.
	order := make([]string, 0, len(all))
	isFresh := make(map[string]bool, len(unserved))
	for i := len(unserved) - 1; i >= 0; i-- {
		order = append(order, unserved[i])
		isFresh[unserved[i]] = true
	}
	for i := len(all) - 1; i >= 0; i-- {
		if !isFresh[all[i]] {
			order = append(order, all[i])
		}
	}
	if offset >= len(order) {
		return nil, located, nil
	}
	order = order[offset:]
	if maxItems >= 0 && len(order) > maxItems {
		order = order[:maxItems]
	}
	return order, located, nil
}

// newestFirst orders identifiers the store returned in ascending order
// newest first (KMIP 2.1 §6.1.29: "descending order of object creation";
// the reference server sorts by Initial Date at every version): kmipd's
// identifiers are UUIDv7s, whose text order is their creation order.
func newestFirst(ids []string) {
	slices.Reverse(ids)
}

// locateMatch checks a loaded candidate against what the index did not answer.
func (s *Service) locateMatch(ctx context.Context, c *call, f *locateFilter, obj *domain.Object, now time.Time) bool {
	if (f.uid != "" || len(f.terms) > 0) && !hasQuery(obj, f.query, f.terms) {
		return false
	}
	if !inRanges(obj, f.ranges) || (f.limits != nil && !usageLimitsAtLeast(obj, f.limits)) {
		return false
	}
	if f.state != nil && s.locateState(obj, now) != *f.state {
		return false
	}
	return f.access || s.authorize(ctx, c, obj, kmip.OperationLocate) == nil
}

// locateState is the state a Locate State filter compares: the object's
// effective state at now, its dates applied (domain.EffectiveState);
// storedStates admits every stored state that may lead to it.
func (s *Service) locateState(obj *domain.Object, now time.Time) domain.State {
	obj.ApplyDates(now)
	return obj.State
}

// storedStates lists the stored states from which an object's effective
// state may be want once its Activation or Deactivation Date has passed
// (KMIP 1.4 §3.22–3.23); a Pre-Active object may be effectively Active.
func storedStates(want domain.State) []domain.State {
	switch want {
	case domain.Active:
		return []domain.State{domain.PreActive, domain.Active}
	case domain.Deactivated:
		return []domain.State{domain.PreActive, domain.Active, domain.Deactivated}
	}
	return []domain.State{want}
}

// locateFilter reads a Locate request's criteria into index terms and checks.
func (s *Service) locateFilter(ctx context.Context, c *call, req codec.LocateRequest) (*locateFilter, error) {
	attrs := req.Attributes
	f := &locateFilter{}
	// Access first: the store drives from the first group when no term is
	// selective, and a caller's own objects are usually few.
	if group, ok := s.locateAccessTerms(ctx, c); ok {
		f.query.Any = append(f.query.Any, group)
		f.access = true
	}
	f.query.Any = append(f.query.Any, storageTerms(req.StorageStatus))
	var err error
	if f.ranges, err = dateRanges(attrs); err != nil {
		return nil, err
	}
	for _, a := range attrs {
		if a.Value == nil {
			return nil, invalidField("Locate attribute %q has no value", a.Name)
		}
		if _, ok := f.ranges[a.Name]; ok {
			continue
		}
		if err := f.add(a); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// locateAccessTerms are the index terms of the objects the caller may
// Locate under any policy, when the policy source can list its policies.
func (s *Service) locateAccessTerms(ctx context.Context, c *call) ([]domain.IndexTerm, bool) {
	lister, ok := s.cfg.Policies.(policyLister)
	if !ok {
		return nil, false
	}
	var group []domain.IndexTerm
	names := append([]string{domain.PolicyDefault, domain.PolicyPublic}, lister.Names()...)
	for _, name := range names {
		if p, ok := s.cfg.Policies.Policy(ctx, name); ok {
			group = append(group, domain.AccessTerms(name, p, c.who, uint32(kmip.OperationLocate))...)
		}
	}
	return group, true
}

// storageTerms select the Storage Status Mask's objects: on-line ones by
// default (KMIP 1.4 §4.9); destroyed objects, whose metadata kmipd keeps,
// only when asked (2.x).
func storageTerms(storage uint32) []domain.IndexTerm {
	var where []domain.IndexTerm
	for _, bit := range domain.MaskBits(storage) {
		where = append(where, domain.IndexTerm{Name: domain.IndexStorage, Key: domain.EnumKey(bit)})
	}
	return where
}

// add puts one Locate attribute (not a date range) into the filter.
func (f *locateFilter) add(a domain.Attribute) error {
	switch a.Name {
	case kmip.TagObjectType.SpecName():
		v, _ := a.Value.AsEnum()
		f.term(domain.IndexTerm{Name: domain.IndexObjectType, Key: domain.EnumKey(v)})
	case kmip.TagState.SpecName():
		return f.addState(a.Value)
	case kmip.TagOperationPolicyName.SpecName():
		v, _ := a.Value.AsText()
		f.term(domain.IndexTerm{Name: domain.IndexPolicy, Key: v})
	case kmip.TagUniqueIdentifier.SpecName():
		v, ok := a.Value.AsText()
		if !ok || (f.uid != "" && f.uid != v) {
			return invalidField("invalid Unique Identifier filter")
		}
		f.uid = v
	case kmip.TagCryptographicUsageMask.SpecName():
		// Matching objects have every requested bit (KMIP 1.4 §4.9).
		m, _ := a.Value.AsInt()
		for _, bit := range domain.MaskBits(uint32(m)) {
			f.term(domain.IndexTerm{Name: domain.IndexUsageBit, Key: domain.EnumKey(bit)})
		}
	case kmip.TagUsageLimits.SpecName():
		f.limits = a.Value
	default:
		f.term(domain.IndexTerm{Name: a.Name, Key: domain.IndexKey(a.Value)})
	}
	return nil
}

// addState selects a State: Compromised and Destroyed as stored; the
// others from every stored state dates can turn into them.
func (f *locateFilter) addState(value *kmip.Item) error {
	v, _ := value.AsEnum()
	st := domain.State(v)
	if f.state != nil && *f.state != st {
		return invalidField("Locate gives two different States")
	}
	if from := storedStates(st); len(from) == 1 && st != domain.PreActive {
		// Compromised and Destroyed do not follow from dates.
		f.term(domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(v)})
		return nil
	}
	f.state = &st
	var group []domain.IndexTerm
	for _, from := range storedStates(st) {
		group = append(group, domain.IndexTerm{Name: domain.IndexState, Key: domain.EnumKey(uint32(from))})
	}
	f.query.Any = append(f.query.Any, group)
	return nil
}

// containsTerm reports whether terms has one of the named attribute.
func containsTerm(terms []domain.IndexTerm, name string) bool {
	for _, t := range terms {
		if t.Name == name {
			return true
		}
	}
	return false
}

// usageLimitsAtLeast reports whether the object's Usage Limits Count and
// Total are at least those of want (KMIP 1.4 §4.9).
func usageLimitsAtLeast(obj *domain.Object, want *kmip.Item) bool {
	have := obj.AttrOf(kmip.TagUsageLimits)
	if have == nil {
		return false
	}
	for _, tag := range []kmip.Tag{kmip.TagUsageLimitsCount, kmip.TagUsageLimitsTotal} {
		w, ok := want.Child(tag).AsLong()
		if !ok {
			continue
		}
		h, ok := have.Child(tag).AsLong()
		if !ok || h < w {
			return false
		}
	}
	if u := want.Child(kmip.TagUsageLimitsUnit); u != nil && domain.IndexKey(u) != domain.IndexKey(have.Child(kmip.TagUsageLimitsUnit)) {
		return false
	}
	return true
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
		case name == kmip.TagInitialDate.SpecName():
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
		if name == kmip.TagInitialDate.SpecName() {
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

// hasQuery reports whether the object matches the index part of a query and
// the search terms stores do not index: it carries every term of q.Terms and
// of terms, and one term of each group.
func hasQuery(obj *domain.Object, q ports.LocateQuery, terms []domain.IndexTerm) bool {
	have := map[domain.IndexTerm]bool{}
	for _, t := range obj.SearchTerms() {
		have[t] = true
	}
	for _, t := range slices.Concat(q.Terms, terms) {
		if !have[t] {
			return false
		}
	}
next:
	for _, g := range q.Any {
		for _, t := range g {
			if have[t] {
				continue next
			}
		}
		return false
	}
	return true
}
