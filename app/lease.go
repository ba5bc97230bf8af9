package app

import (
	"math"
	"time"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

// leaseSeconds is Config.LeaseTime in whole seconds (0: no lease limit),
// capped at the largest Interval.
func (s *Service) leaseSeconds() uint32 {
	secs := s.cfg.LeaseTime / time.Second
	switch {
	case secs <= 0:
		return 0
	case secs > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(secs)
}

// leaseOf returns the lease kmipd grants on obj: its Lease Time attribute,
// which the server sets on new cryptographic objects from Config.LeaseTime,
// else no limit (KMIP 1.4 §4.17: a lease of zero means the client may use
// the object without a lease time limit).
func leaseOf(obj *domain.Object) (seconds uint32, limited bool) {
	lt, ok := obj.AttrOf(kmip.TagLeaseTime).AsInterval()
	return lt, ok && lt > 0
}
