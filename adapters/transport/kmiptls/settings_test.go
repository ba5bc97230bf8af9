package kmiptls

import (
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/transport/ttlv"
)

// Effective fills every zero field with its default (the decoder's MaxSize
// with the message size) and keeps every field set.
func TestSettingsEffective(t *testing.T) {
	got := Settings{}.Effective()
	want := Settings{MaxMessageSize: DefaultMaxMessageSize, ReadTimeout: DefaultReadTimeout, WriteTimeout: DefaultWriteTimeout,
		IdleTimeout: DefaultIdleTimeout, HandshakeTimeout: DefaultHandshakeTimeout, MaxConnections: DefaultMaxConnections,
		RequestTimeout: DefaultRequestTimeout,
		Limits:         ttlv.Limits{MaxSize: DefaultMaxMessageSize, MaxDepth: ttlv.DefaultLimits.MaxDepth, MaxItems: ttlv.DefaultLimits.MaxItems}}
	if got != want {
		t.Errorf("zero Settings: %+v, want %+v", got, want)
	}
	set := Settings{MaxMessageSize: 4096, ReadTimeout: time.Second, WriteTimeout: 2 * time.Second, IdleTimeout: 3 * time.Second,
		HandshakeTimeout: 4 * time.Second, MaxConnections: 5, RequestTimeout: 6 * time.Second, Limits: ttlv.Limits{MaxDepth: 7, MaxItems: 8}}
	want = set
	want.Limits.MaxSize = 4096
	if got := set.Effective(); got != want {
		t.Errorf("set Settings: %+v, want %+v", got, want)
	}
}
