// Package app holds kmipd's use cases: the message engine (headers, batches,
// ID placeholders, result reasons) and one handler per KMIP operation. It
// imports only domain and ports.
package app

import (
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/ports"
)

// Config gives the Service its collaborators; every field but Store and
// Crypto has a usable zero value.
type Config struct {
	Store  ports.Store
	Crypto ports.CryptoEngine
	// Clock defaults to the system clock.
	Clock ports.Clock
	// Log receives request-level diagnostics; the zero logger discards them.
	Log zerolog.Logger
	// Policies resolves operation policy names; by default only the reserved
	// "default" and "public" policies exist.
	Policies ports.PolicySource
	// MaxBatchItems caps the Batch Count of a request (default 1000).
	MaxBatchItems int
	// ServerName, VendorName and ServerVersion are reported by Query.
	VendorName    string
	ServerName    string
	ServerVersion string
	// LeaseTime is the Lease Time the server sets on new cryptographic
	// objects and grants with Obtain Lease (KMIP 1.4 §3.20); 0 sets none,
	// so clients may use objects without a lease time limit.
	LeaseTime time.Duration
	// Limits bound object attributes and stream state;
	// zero fields take DefaultLimits.
	Limits Limits
	// StrictNames makes every new object's Name Value unique on the server
	// (KMIP 1.4 §3.2). When false, objects made by Create, Register, Create
	// Key Pair, Derive Key, Create/Join Split Key and Re-key may take a Name
	// Value another object carries, as the reference server allows (PyKMIP
	// gives every registered object a default name, "Symmetric Key" …);
	// Templates, which requests name, and Add/Modify Attribute and Import
	// refuse a taken Name Value either way.
	StrictNames bool
	// NameLocks serializes each Name uniqueness check with the write it
	// guards across every node sharing Store; nil means an in-process lock,
	// right only for a store one process owns.
	NameLocks ports.NameLocks
	// SealedAtRest says the Store seals every secret payload under a data
	// key of its own that Destroy drops (adapters/storage/sealed): Query
	// then reports cryptographic shredding.
	SealedAtRest bool
	// Auditor, when set, receives an intent and a result record for every
	// batch item; a record it cannot write fails the item
	// unless AuditFailOpen.
	Auditor       ports.Auditor
	AuditFailOpen bool
	// CA issues certificates for Certify and Re-certify;
	// nil: neither operation is offered.
	CA *CA
	// ServesHTTPS says kmipd also serves this Service over HTTPS in the
	// TTLV, JSON and XML encodings: Query then claims the HTTPS, JSON and
	// XML Server profiles.
	ServesHTTPS bool
	// Async configures asynchronous operations (app/async.go).
	Async AsyncOptions
}

// Service answers KMIP request messages; it implements ports.MessageHandler
// and is safe for concurrent use.
type Service struct {
	cfg Config
	// keyMaterialMissing counts requests refused because an object's key
	// was missing from the HSM (KeyMaterialUnavailable reads it).
	keyMaterialMissing atomic.Uint64
	// async follows the operations running detached (app/async.go).
	async asyncWorkers
	// buffered is the Auditor when it appends without syncing
	// (app/audit_sync.go).
	buffered ports.BufferedAuditor
}

var _ ports.MessageHandler = (*Service)(nil)

// New returns a Service using cfg's collaborators.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = ports.SystemClock{}
	}
	if cfg.MaxBatchItems == 0 {
		cfg.MaxBatchItems = 1000
	}
	if cfg.VendorName == "" {
		cfg.VendorName = "kmipd"
	}
	if cfg.Policies == nil {
		cfg.Policies = reservedPolicies{}
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.NameLocks == nil {
		cfg.NameLocks = newLocalNameLocks()
	}
	cfg.Async = cfg.Async.withDefaults()
	s := &Service{cfg: cfg, async: newAsyncWorkers()}
	s.useBufferedAudit()
	return s
}
