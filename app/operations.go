package app

import (
	"context"
	"sort"

	"github.com/kmipd/kmipd/domain/kmip"
)

// handler runs one operation: it decodes c.payload through app/codec and returns the Response
// Payload, or an error that resultFor maps to a Result Reason.
type handler func(s *Service, ctx context.Context, c *call) (*kmip.Item, error)

// placeholderRule says how an operation's answer changes the batch's ID
// Placeholder (KMIP 1.4 §4, KMIP 2.1 §6.1).
type placeholderRule uint8

const (
	keepsPlaceholder      placeholderRule = iota // the operation never changes it
	setsPlaceholder                              // its one Unique Identifier becomes it
	setsPrivateKeyID                             // its Private Key Unique Identifier becomes it
	setsFirstPart                                // its first Unique Identifier, Key Part Identifier 1 (KMIP 1.4 §4.38)
	setsOrEmptiesIfNotOne                        // one identifier sets it, any other number empties it (KMIP 1.4 §4.9)
)

// The versions operations appeared in, for opSpec.since.
var since11, since12, since14, since20, since21 = version{1, 1}, version{1, 2}, version{1, 4}, version{2, 0}, version{2, 1}

// opSpec is everything kmipd knows about one operation it implements.
type opSpec struct {
	run handler
	// since is the first protocol version defining the operation (zero:
	// 1.0); a request of an older version is answered Operation Not
	// Supported, as the reference server does, and Query does not list it.
	since version
	// probe: answered in every version although defined later (Discover
	// Versions, new in 1.1: a client may probe with it).
	probe       bool
	placeholder placeholderRule
	// uidEnum is the KMIP 2.x Unique Identifier enumeration value that names
	// the identifier this operation last returned in the batch (KMIP 2.1
	// §11.58); zero: none.
	uidEnum kmip.UniqueIdentifier
	// ruleOf is the operation whose policy rule governs this one on an
	// object when the policy has no rule for it (accessOp); zero: its own.
	// publicKeyRuleOf does the same on a public key, before ruleOf.
	ruleOf, publicKeyRuleOf kmip.Operation
	usesKey                 bool // it uses an object's key: its audit record names it as the key used
	noTarget                bool // it acts on no existing object, so an ID Placeholder is not its to name
	generates               bool // the server generates its new objects (KMIP 2.1 §4.46, §4.38)
	needsCA                 bool // offered only when a CA is configured (app/certify.go)
	async                   bool // may be answered Operation Pending and finish later (app/async.go)
}

// operations is the one description of the operations kmipd implements:
// routing (runItem), version gating (opIn), Query, ID Placeholders
// (batchIDs.record, call.uid), access checks (accessOp) and the audit
// trail all read it. It is filled in init because its handlers refer to it.
var operations map[kmip.Operation]opSpec

func init() {
	operations = map[kmip.Operation]opSpec{}
	for _, group := range []map[kmip.Operation]opSpec{objectOps(), lifecycleOps(), cryptoOps(), exchangeOps()} {
		for op, spec := range group {
			operations[op] = spec
		}
	}
}

// objectOps: the managed-object and server operations of KMIP 1.0 and 2.0.
func objectOps() map[kmip.Operation]opSpec {
	return map[kmip.Operation]opSpec{
		kmip.OperationCreate:           {run: (*Service).create, placeholder: setsPlaceholder, uidEnum: kmip.UniqueIdentifierCreate, noTarget: true, generates: true, async: true},
		kmip.OperationRegister:         {run: (*Service).register, placeholder: setsPlaceholder, uidEnum: kmip.UniqueIdentifierRegister, noTarget: true},
		kmip.OperationGet:              {run: (*Service).get, usesKey: true},
		kmip.OperationGetAttributes:    {run: (*Service).getAttributes},
		kmip.OperationGetAttributeList: {run: (*Service).getAttributeList},
		kmip.OperationAddAttribute:     {run: (*Service).addAttribute},
		kmip.OperationModifyAttribute:  {run: (*Service).modifyAttribute},
		kmip.OperationDeleteAttribute:  {run: (*Service).deleteAttribute},
		kmip.OperationSetAttribute:     {run: (*Service).setAttribute, since: since20},
		kmip.OperationAdjustAttribute:  {run: (*Service).adjustAttribute, since: since20},
		kmip.OperationLocate:           {run: (*Service).locate, placeholder: setsOrEmptiesIfNotOne, uidEnum: kmip.UniqueIdentifierLocate, noTarget: true, async: true},
		kmip.OperationActivate:         {run: (*Service).activate},
		kmip.OperationRevoke:           {run: (*Service).revoke},
		kmip.OperationDestroy:          {run: (*Service).destroy},
		kmip.OperationDiscoverVersions: {run: (*Service).discoverVersions, since: since11, probe: true, noTarget: true},
		kmip.OperationQuery:            {run: (*Service).query, noTarget: true},
		kmip.OperationInterop:          {run: (*Service).interop, since: since20, noTarget: true},
		kmip.OperationLog:              {run: (*Service).logOp, since: since20, noTarget: true},
		kmip.OperationPing:             {run: (*Service).ping, since: since21, noTarget: true},
	}
}

// lifecycleOps: split and join, re-key, check, leases, archive, Poll and Cancel.
func lifecycleOps() map[kmip.Operation]opSpec {
	return map[kmip.Operation]opSpec{
		// Split and join (app/op_create_split_key.go, op_join_split_key.go, splitjoin.go).
		kmip.OperationCreateSplitKey: {run: (*Service).createSplitKey, since: since12, placeholder: setsFirstPart, noTarget: true},
		kmip.OperationJoinSplitKey:   {run: (*Service).joinSplitKey, since: since12, placeholder: setsPlaceholder, noTarget: true},

		// Lifecycle (app/op_<operation>.go; async_record.go for Poll and Cancel).
		kmip.OperationReKey:              {run: (*Service).reKey, placeholder: setsPlaceholder, uidEnum: kmip.UniqueIdentifierReKey, generates: true, async: true},
		kmip.OperationCheck:              {run: (*Service).check},
		kmip.OperationObtainLease:        {run: (*Service).obtainLease},
		kmip.OperationGetUsageAllocation: {run: (*Service).getUsageAllocation},
		kmip.OperationArchive:            {run: (*Service).archive, async: true},
		kmip.OperationRecover:            {run: (*Service).recoverOp, placeholder: setsPlaceholder, async: true},
		kmip.OperationPoll:               {run: (*Service).poll, noTarget: true},
		kmip.OperationCancel:             {run: (*Service).cancel},
	}
}

// cryptoOps: key-pair generation, derivation and the cryptographic operations.
func cryptoOps() map[kmip.Operation]opSpec {
	get, modify := kmip.OperationGet, kmip.OperationModifyAttribute
	return map[kmip.Operation]opSpec{
		// Cryptographic operations: app/op_<operation>.go, crypto_*.go, keypair.go. Those
		// that use a key without returning it follow the Get rule when the
		// policy has none for them, as the reference server does.
		kmip.OperationCreateKeyPair: {run: (*Service).createKeyPair, placeholder: setsPrivateKeyID, uidEnum: kmip.UniqueIdentifierCreateKeyPair, noTarget: true, generates: true, async: true},
		// Re-key Key Pair changes the public key it replaces (names, links)
		// under that key's Modify Attribute rule.
		kmip.OperationReKeyKeyPair:    {run: (*Service).reKeyKeyPair, since: since11, placeholder: setsPrivateKeyID, uidEnum: kmip.UniqueIdentifierReKeyKeyPair, publicKeyRuleOf: modify, generates: true, async: true},
		kmip.OperationDeriveKey:       {run: (*Service).deriveKey, placeholder: setsPlaceholder, uidEnum: kmip.UniqueIdentifierDeriveKey, usesKey: true, generates: true, async: true},
		kmip.OperationEncrypt:         {run: (*Service).encrypt, since: since12, ruleOf: get, usesKey: true},
		kmip.OperationDecrypt:         {run: (*Service).decrypt, since: since12, ruleOf: get, usesKey: true},
		kmip.OperationSign:            {run: (*Service).sign, since: since12, ruleOf: get, usesKey: true},
		kmip.OperationSignatureVerify: {run: (*Service).signatureVerify, since: since12, ruleOf: get, usesKey: true},
		kmip.OperationMAC:             {run: (*Service).mac, since: since12, ruleOf: get, usesKey: true},
		kmip.OperationMACVerify:       {run: (*Service).macVerify, since: since12, ruleOf: get, usesKey: true},
		kmip.OperationRNGRetrieve:     {run: (*Service).rngRetrieve, since: since12, noTarget: true},
		kmip.OperationRNGSeed:         {run: (*Service).rngSeed, since: since12, noTarget: true},
		kmip.OperationHash:            {run: (*Service).hash, since: since12, noTarget: true},
	}
}

// exchangeOps: Import, Export, Set Endpoint Role, Certify, Re-certify and Validate.
func exchangeOps() map[kmip.Operation]opSpec {
	get, modify := kmip.OperationGet, kmip.OperationModifyAttribute
	return map[kmip.Operation]opSpec{
		// Import, Export (app/op_import.go, op_export.go): Export returns what Get
		// does and falls back to the Get rule; an Import that replaces an
		// existing object, which discards it, to its Destroy rule.
		kmip.OperationImport: {run: (*Service).importObject, since: since14, placeholder: setsPlaceholder, ruleOf: kmip.OperationDestroy, noTarget: true},
		kmip.OperationExport: {run: (*Service).export, since: since14, placeholder: setsPlaceholder, ruleOf: get, usesKey: true},
		// Set Endpoint Role (app/op_set_endpoint_role.go).
		kmip.OperationSetEndpointRole: {run: (*Service).setEndpointRole, since: since20},

		// Certify and Re-certify (app/op_certify.go, op_re_certify.go), with a CA only; the
		// reserved policies do not name them, so they follow the Modify
		// Attribute rule of the key, request or certificate whose links they change.
		kmip.OperationCertify:   {run: (*Service).certify, placeholder: setsPlaceholder, uidEnum: kmip.UniqueIdentifierCertify, ruleOf: modify, needsCA: true},
		kmip.OperationReCertify: {run: (*Service).reCertify, placeholder: setsPlaceholder, uidEnum: kmip.UniqueIdentifierReCertify, ruleOf: modify, needsCA: true},
		// Validate (app/op_validate.go) reads the certificates it names under
		// their Get rule when the policy has none for it.
		kmip.OperationValidate: {run: (*Service).validate, ruleOf: get},
	}
}

// opIn reports whether protocol version v defines operation op (an
// operation kmipd does not implement is defined in none).
func opIn(op kmip.Operation, v version) bool {
	spec, ok := operations[op]
	return ok && v.atLeast(spec.since.major, spec.since.minor)
}

// offers reports whether the service implements op with its configuration
// (Certify and Re-certify need a CA).
func (s *Service) offers(op kmip.Operation) bool {
	spec, ok := operations[op]
	return ok && (!spec.needsCA || s.cfg.CA.configured())
}

// route returns the handler of op for a request of version v: op is
// offered and v defines it, or it is answered in every version.
func (s *Service) route(op kmip.Operation, v version) (handler, bool) {
	if !s.offers(op) || !(opIn(op, v) || operations[op].probe) {
		return nil, false
	}
	return operations[op].run, true
}

// operations lists the operations the service offers and protocol
// version v defines, in ascending enumeration order: what Query answers,
// so it never claims what kmipd does not do.
func (s *Service) operations(v version) []kmip.Operation {
	var ops []kmip.Operation
	for op := range operations {
		if s.offers(op) && opIn(op, v) {
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i] < ops[j] })
	return ops
}

// uidEnumOp returns the operation whose last identifier the KMIP 2.x
// Unique Identifier enumeration value e names (KMIP 2.1 §11.58).
func uidEnumOp(e kmip.UniqueIdentifier) (kmip.Operation, bool) {
	for op, spec := range operations {
		if spec.uidEnum != 0 && spec.uidEnum == e {
			return op, true
		}
	}
	return 0, false
}
