package main

import (
	"context"
	"fmt"
	"time"

	"github.com/kmipd/kmipd/domain/kmip"
)

func init() {
	commands["activate"] = command{"make an object Active", runActivate}
	commands["revoke"] = command{"revoke an object (-reason compromise, ceased, superseded, ...)", runRevoke}
	commands["destroy"] = command{"destroy an object's material", runDestroy}
	commands["locate"] = command{"find objects by name, type, state, dates or any attribute", runLocate}
	commands["attrs"] = command{"attributes: attrs get|set|add|delete UID ...", runAttrs}
}

// runOnUID runs an operation whose payload is a Unique Identifier and whose
// answer is one too.
func runOnUID(ctx context.Context, e *env, args []string, name string, op kmip.Operation, help string) error {
	c := newFlags(e, name, "UID", help)
	rest, err := c.parse(args, 1, 1)
	if err != nil {
		return err
	}
	out, err := c.call(ctx, op, uidItem(rest[0]))
	if err != nil {
		return err
	}
	var r result
	r.add("Unique Identifier", text(out, kmip.TagUniqueIdentifier))
	return r.print(c.stdout, c.output)
}

func runActivate(ctx context.Context, e *env, args []string) error {
	return runOnUID(ctx, e, args, "activate", kmip.OperationActivate, "Activates a Pre-Active object.")
}

func runDestroy(ctx context.Context, e *env, args []string) error {
	return runOnUID(ctx, e, args, "destroy", kmip.OperationDestroy,
		"Destroys an object's material. An Active object must be revoked first.")
}

// revocationReasons maps -reason to the Revocation Reason Code.
var revocationReasons = map[string]kmip.RevocationReasonCode{
	"unspecified": kmip.RevocationReasonCodeUnspecified, "compromise": kmip.RevocationReasonCodeKeyCompromise,
	"ca-compromise": kmip.RevocationReasonCodeCACompromise, "affiliation": kmip.RevocationReasonCodeAffiliationChanged,
	"superseded": kmip.RevocationReasonCodeSuperseded, "ceased": kmip.RevocationReasonCodeCessationOfOperation,
	"withdrawn": kmip.RevocationReasonCodePrivilegeWithdrawn,
}

func runRevoke(ctx context.Context, e *env, args []string) error {
	c := newFlags(e, "revoke", "UID", "Revokes an object. -reason compromise makes it Compromised; any other reason Deactivated.")
	var reason, message string
	var when string
	c.fs.StringVar(&reason, "reason", "ceased", "unspecified, compromise, ca-compromise, affiliation, superseded, ceased or withdrawn")
	c.fs.StringVar(&message, "message", "", "Revocation Message")
	c.fs.StringVar(&when, "compromise-date", "", "Compromise Occurrence Date for -reason compromise (RFC 3339, Unix seconds or now; default now)")
	rest, err := c.parse(args, 1, 1)
	if err != nil {
		return err
	}
	code, ok := revocationReasons[reason]
	if !ok {
		return usageError("-reason %q: want one of unspecified, compromise, ca-compromise, affiliation, superseded, ceased, withdrawn", reason)
	}
	rr := kmip.Struct(kmip.TagRevocationReason, kmip.Enum(kmip.TagRevocationReasonCode, uint32(code)))
	if message != "" {
		rr.Add(kmip.Text(kmip.TagRevocationMessage, message))
	}
	payload := []*kmip.Item{uidItem(rest[0]), rr}
	if code == kmip.RevocationReasonCodeKeyCompromise || code == kmip.RevocationReasonCodeCACompromise {
		t := time.Now().Truncate(time.Second)
		if when != "" {
			if t, err = parseTime(when); err != nil {
				return usageError("-compromise-date: %v", err)
			}
		}
		payload = append(payload, kmip.DateTime(kmip.TagCompromiseOccurrenceDate, t))
	}
	out, err := c.call(ctx, kmip.OperationRevoke, payload...)
	if err != nil {
		return err
	}
	var r result
	r.add("Unique Identifier", text(out, kmip.TagUniqueIdentifier))
	return r.print(c.stdout, c.output)
}

func runLocate(ctx context.Context, e *env, args []string) error {
	c := newFlags(e, "locate", "", "Prints the identifiers of the objects that have every attribute given.\n"+
		"Example: kmipctl locate -type SymmetricKey -state Active -attr 'Object Group=finance'")
	var name, objType, state, alg, group string
	var maxItems, offset int
	var attrs attrList
	c.fs.StringVar(&name, "name", "", "Name")
	c.fs.StringVar(&objType, "type", "", "Object Type (SymmetricKey, PrivateKey, PublicKey, Certificate, SecretData, ...)")
	c.fs.StringVar(&state, "state", "", "State (PreActive, Active, Deactivated, Compromised, Destroyed, DestroyedCompromised)")
	c.fs.StringVar(&alg, "alg", "", "Cryptographic Algorithm")
	c.fs.StringVar(&group, "group", "", "Object Group")
	c.fs.IntVar(&maxItems, "max", 0, "at most this many identifiers (Maximum Items)")
	c.fs.IntVar(&offset, "offset", 0, "skip this many matches first (Offset Items, KMIP 1.3+)")
	c.fs.Var(&attrs, "attr", "another attribute NAME=VALUE that must match (repeatable); dates match exactly")
	if _, err := c.parse(args, 0, 0); err != nil {
		return err
	}
	var match []attr
	for _, f := range []struct{ attr, value string }{
		{"Object Type", objType}, {"State", state}, {"Cryptographic Algorithm", alg}, {"Object Group", group},
	} {
		if f.value == "" {
			continue
		}
		a, err := parseAttr(f.attr, f.value)
		if err != nil {
			return usageError("%v", err)
		}
		match = append(match, a)
	}
	if name != "" {
		match = append(match, attr{name: "Name", value: nameItem(name)})
	}
	match = append(match, attrs...)
	var payload []*kmip.Item
	if maxItems > 0 {
		payload = append(payload, kmip.Int(kmip.TagMaximumItems, int32(maxItems)))
	}
	if offset > 0 {
		payload = append(payload, kmip.Int(kmip.TagOffsetItems, int32(offset)))
	}
	if c.v2() {
		payload = append(payload, c.attributes(0, kmip.TagAttributes, match))
	} else {
		for _, a := range match {
			payload = append(payload, v1Attribute(a))
		}
	}
	out, err := c.call(ctx, kmip.OperationLocate, payload...)
	if err != nil {
		return err
	}
	var r result
	for _, it := range out.ChildrenOf(kmip.TagUniqueIdentifier) {
		id, _ := it.AsText()
		r.add("Unique Identifier", id)
	}
	if n := out.Child(kmip.TagLocatedItems); n != nil {
		r.add("Located Items", format(n))
	}
	return r.print(c.stdout, c.output)
}

func runAttrs(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError("usage: kmipctl attrs get|set|add|delete UID ...")
	}
	switch args[0] {
	case "get":
		return runAttrsGet(ctx, e, args[1:])
	case "set", "add":
		return runAttrsChange(ctx, e, args[0], args[1:])
	case "delete":
		return runAttrsDelete(ctx, e, args[1:])
	case "-h", "-help", "--help":
		fmt.Fprint(e.stderr, "Usage: kmipctl attrs get UID [NAME...]\n       kmipctl attrs set|add UID NAME=VALUE\n"+
			"       kmipctl attrs delete UID NAME [-index N]\n\nNAME is the specification's name (\"Object Group\") or its CamelCase form;\n"+
			"custom attributes start with x-. set replaces (Modify Attribute), add adds an instance.\n")
		return nil
	}
	return usageError("attrs %q: want get, set, add or delete", args[0])
}

func runAttrsGet(ctx context.Context, e *env, args []string) error {
	c := newFlags(e, "attrs get", "UID [NAME...]", "Prints an object's attributes: all of them, or the ones named.")
	rest, err := c.parse(args, 1, -1)
	if err != nil {
		return err
	}
	payload := []*kmip.Item{uidItem(rest[0])}
	for _, n := range rest[1:] {
		ref, err := c.reference(n)
		if err != nil {
			return usageError("%v", err)
		}
		payload = append(payload, ref)
	}
	out, err := c.call(ctx, kmip.OperationGetAttributes, payload...)
	if err != nil {
		return err
	}
	var r result
	r.add("Unique Identifier", text(out, kmip.TagUniqueIdentifier))
	for _, a := range out.ChildrenOf(kmip.TagAttribute) {
		name := text(a, kmip.TagAttributeName)
		r.add(name, format(asAttribute(name, a.Child(kmip.TagAttributeValue))))
	}
	if s := out.Child(kmip.TagAttributes); s != nil {
		for _, a := range s.Children() {
			if a.Tag == kmip.TagAttribute {
				r.add(text(a, kmip.TagVendorIdentification)+"-"+text(a, kmip.TagAttributeName), format(a.Child(kmip.TagAttributeValue)))
				continue
			}
			r.add(a.Tag.SpecName(), format(a))
		}
	}
	return r.print(c.stdout, c.output)
}

func runAttrsChange(ctx context.Context, e *env, verb string, args []string) error {
	c := newFlags(e, "attrs "+verb, "UID NAME=VALUE", "set replaces the attribute's value (Modify Attribute); add adds an instance (Add Attribute).")
	rest, err := c.parse(args, 2, 2)
	if err != nil {
		return err
	}
	var l attrList
	if err := l.Set(rest[1]); err != nil {
		return usageError("%v", err)
	}
	op := kmip.OperationAddAttribute
	if verb == "set" {
		op = kmip.OperationModifyAttribute
	}
	if _, err := c.call(ctx, op, uidItem(rest[0]), c.attribute(l[0])); err != nil {
		return err
	}
	var r result
	r.add("Unique Identifier", rest[0])
	r.add(l[0].name, format(l[0].value))
	return r.print(c.stdout, c.output)
}

func runAttrsDelete(ctx context.Context, e *env, args []string) error {
	c := newFlags(e, "attrs delete", "UID NAME", "Deletes an attribute instance (index 0 unless -index).")
	var index int
	c.fs.IntVar(&index, "index", 0, "Attribute Index of the instance (KMIP 1.x)")
	rest, err := c.parse(args, 2, 2)
	if err != nil {
		return err
	}
	ref, err := c.reference(rest[1])
	if err != nil {
		return usageError("%v", err)
	}
	payload := []*kmip.Item{uidItem(rest[0]), ref}
	if !c.v2() && index > 0 {
		payload = append(payload, kmip.Int(kmip.TagAttributeIndex, int32(index)))
	}
	if _, err := c.call(ctx, kmip.OperationDeleteAttribute, payload...); err != nil {
		return err
	}
	var r result
	r.add("Unique Identifier", rest[0])
	r.add("Deleted", specName(rest[1]))
	return r.print(c.stdout, c.output)
}

// asAttribute gives a KMIP 1.x Attribute Value the tag of the attribute it
// holds, so that format names its enumeration or mask values.
func asAttribute(name string, v *kmip.Item) *kmip.Item {
	t, known, _ := attrTag(name)
	if v == nil || !known {
		return v
	}
	c := *v
	c.Tag = t
	return &c
}
