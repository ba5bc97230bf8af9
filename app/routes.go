package app

import (
	"context"
	"sort"

	"github.com/kmipd/kmipd/domain/kmip"
)

// handler runs one operation: it reads c.payload and returns the Response
// Payload, or an error that resultFor maps to a Result Reason.
type handler func(ctx context.Context, c *call) (*kmip.Item, error)

// routeTable returns the operations the service implements. Query reports
// exactly these, so it never claims what kmipd does not do.
func (s *Service) routeTable() map[kmip.Operation]handler {
	return map[kmip.Operation]handler{
		kmip.OperationCreate:           s.create,
		kmip.OperationRegister:         s.register,
		kmip.OperationGet:              s.get,
		kmip.OperationGetAttributes:    s.getAttributes,
		kmip.OperationGetAttributeList: s.getAttributeList,
		kmip.OperationAddAttribute:     s.addAttribute,
		kmip.OperationModifyAttribute:  s.modifyAttribute,
		kmip.OperationDeleteAttribute:  s.deleteAttribute,
		kmip.OperationSetAttribute:     s.setAttribute,
		kmip.OperationAdjustAttribute:  s.adjustAttribute,
		kmip.OperationLocate:           s.locate,
		kmip.OperationActivate:         s.activate,
		kmip.OperationRevoke:           s.revoke,
		kmip.OperationDestroy:          s.destroy,
		kmip.OperationDiscoverVersions: s.discoverVersions,
		kmip.OperationQuery:            s.query,
		kmip.OperationInterop:          s.interop,
		kmip.OperationLog:              s.logOp,

		// Split and join (app/splitjoin.go).
		kmip.OperationCreateSplitKey: s.createSplitKey,
		kmip.OperationJoinSplitKey:   s.joinSplitKey,

		// Lifecycle (app/rekey.go, check.go, archive.go, poll.go).
		kmip.OperationReKey:              s.reKey,
		kmip.OperationCheck:              s.check,
		kmip.OperationObtainLease:        s.obtainLease,
		kmip.OperationGetUsageAllocation: s.getUsageAllocation,
		kmip.OperationArchive:            s.archive,
		kmip.OperationRecover:            s.recoverOp,
		kmip.OperationPoll:               s.poll,
		kmip.OperationCancel:             s.cancel,

		// Cryptographic operations: app/crypto_*.go, app/keypair.go.
		kmip.OperationCreateKeyPair:   s.createKeyPair,
		kmip.OperationReKeyKeyPair:    s.reKeyKeyPair,
		kmip.OperationDeriveKey:       s.deriveKey,
		kmip.OperationEncrypt:         s.encrypt,
		kmip.OperationDecrypt:         s.decrypt,
		kmip.OperationSign:            s.sign,
		kmip.OperationSignatureVerify: s.signatureVerify,
		kmip.OperationMAC:             s.mac,
		kmip.OperationMACVerify:       s.macVerify,
		kmip.OperationRNGRetrieve:     s.rngRetrieve,
		kmip.OperationRNGSeed:         s.rngSeed,
		kmip.OperationHash:            s.hash,

		// Import, Export (app/import_export.go), Set Endpoint Role (app/endpoint.go).
		kmip.OperationImport:          s.importObject,
		kmip.OperationExport:          s.export,
		kmip.OperationSetEndpointRole: s.setEndpointRole,
	}
}

// operations lists the operations implemented for protocol version v and
// defined by it (Discover Versions is answered at 1.0 but is a 1.1
// operation), in ascending enumeration order.
func (s *Service) operations(v version) []kmip.Operation {
	ops := make([]kmip.Operation, 0, len(s.routes))
	for op := range s.routes {
		if opIn(op, v) && enumIn(kmip.TagOperation, uint32(op), v) {
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i] < ops[j] })
	return ops
}
