// Package policy reads operation policies from a directory of PyKMIP policy
// files (pykmip-server "Policy Files") and keeps them current while kmipd
// runs, by polling the directory. It implements ports.PolicySource.
package policy

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/kmipd/kmipd/domain"
)

// Parse reads one policy file in PyKMIP's format, unchanged: a JSON object
// mapping policy names to either {"preset": RULES, "groups": {GROUP: RULES}}
// (either section may be absent) or, in PyKMIP's legacy format, RULES alone,
// which are the preset. RULES maps object type names ("SYMMETRIC_KEY") to
// operation names ("GET") to "ALLOW_ALL", "ALLOW_OWNER" or "DISALLOW_ALL".
// Like PyKMIP, a policy with no sections is ignored and any unknown name
// rejects the whole file. Reserved names are returned like any other; the
// caller decides what to do with them.
func Parse(data []byte) (map[string]*domain.Policy, error) {
	var blob map[string]json.RawMessage
	if err := json.Unmarshal(data, &blob); err != nil {
		return nil, fmt.Errorf("not a JSON object of policies: %w", err)
	}
	out := make(map[string]*domain.Policy, len(blob))
	for _, name := range sortedNames(blob) {
		p, err := parsePolicy(name, blob[name])
		if err != nil {
			return nil, fmt.Errorf("policy %q: %w", name, err)
		}
		if p != nil {
			out[name] = p
		}
	}
	return out, nil
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// parsePolicy reads one named policy; nil means an empty policy, skipped.
func parsePolicy(name string, raw json.RawMessage) (*domain.Policy, error) {
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sections); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if len(sections) == 0 {
		return nil, nil
	}
	var named, typed, other []string
	for _, s := range sortedNames(sections) {
		switch _, isType := objectTypeNames[s]; {
		case s == "preset" || s == "groups":
			named = append(named, s)
		case isType:
			typed = append(typed, s)
		default:
			other = append(other, s)
		}
	}
	p := &domain.Policy{Name: name}
	switch {
	case len(other) > 0 || (len(named) > 0 && len(typed) > 0):
		bad := append(other, typed...)
		return nil, fmt.Errorf("invalid section %q", bad[0])
	case len(typed) > 0: // legacy format: the rules are the preset
		r, err := parseRules(raw)
		if err != nil {
			return nil, err
		}
		p.Preset = r
		return p, nil
	}
	if raw, ok := sections["preset"]; ok {
		r, err := parseRules(raw)
		if err != nil {
			return nil, fmt.Errorf("preset: %w", err)
		}
		p.Preset = r
	}
	if raw, ok := sections["groups"]; ok {
		var groups map[string]json.RawMessage
		if err := json.Unmarshal(raw, &groups); err != nil {
			return nil, fmt.Errorf("groups: not a JSON object: %w", err)
		}
		if len(groups) > 0 {
			p.Groups = make(map[string]domain.Rules, len(groups))
		}
		for _, g := range sortedNames(groups) {
			r, err := parseRules(groups[g])
			if err != nil {
				return nil, fmt.Errorf("group %q: %w", g, err)
			}
			p.Groups[g] = r
		}
	}
	return p, nil
}

// parseRules reads object type → operation → permission.
func parseRules(raw json.RawMessage) (domain.Rules, error) {
	var types map[string]map[string]string
	if err := json.Unmarshal(raw, &types); err != nil {
		return nil, fmt.Errorf("want object type → operation → permission names: %w", err)
	}
	rules := make(domain.Rules, len(types))
	for _, tn := range sortedNames(types) {
		ot, ok := objectTypeNames[tn]
		if !ok {
			return nil, fmt.Errorf("%q is not a valid ObjectType value", tn)
		}
		ops := make(map[uint32]domain.Permission, len(types[tn]))
		for _, on := range sortedNames(types[tn]) {
			op, ok := operationNames[on]
			if !ok {
				return nil, fmt.Errorf("%q is not a valid Operation value", on)
			}
			perm, ok := permissionNames[types[tn][on]]
			if !ok {
				return nil, fmt.Errorf("%s %s: %q is not a valid Policy value", tn, on, types[tn][on])
			}
			ops[uint32(op)] = perm
		}
		rules[uint32(ot)] = ops
	}
	return rules, nil
}
