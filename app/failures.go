package app

import (
	"errors"

	"github.com/rs/zerolog"

	"github.com/kmipd/kmipd/ports"
)

// KeyMaterialUnavailable is the number of requests this Service refused
// because an object's key was missing from the HSM (Key Value Not Present),
// since it started; a metrics endpoint reads it.
func (s *Service) KeyMaterialUnavailable() uint64 { return s.keyMaterialMissing.Load() }

// failureEvent opens the log event for a failed request: ERROR for internal
// errors, WARN (counted) for a key missing from the HSM, INFO for a refusal
// chosen from an engine or store error (its Cause is in the message), DEBUG
// for other client errors.
func (s *Service) failureEvent(c *call, err error, internal bool) *zerolog.Event {
	var ae *Error
	switch {
	case internal:
		return s.cfg.Log.Error()
	case errors.Is(err, ports.ErrKeyMaterialUnavailable):
		s.keyMaterialMissing.Add(1)
		return s.cfg.Log.Warn().Str("id", missingKeyID(c, err)).
			Str("hint", "the object exists but its key is not in the HSM: restore the token's objects or destroy the object")
	case errors.As(err, &ae) && ae.Cause != nil:
		return s.cfg.Log.Info()
	}
	return s.cfg.Log.Debug()
}

// missingKeyID is the Unique Identifier of the object whose key the engine
// could not find: the one the engine names, else the request's.
func missingKeyID(c *call, err error) string {
	var kme *ports.KeyMaterialError
	if errors.As(err, &kme) && kme.ID != "" {
		return kme.ID
	}
	id, _ := c.uid()
	return id
}
