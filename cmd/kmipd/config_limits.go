package main

import "github.com/kmipd/kmipd/app"

// ResourceLimits are the [server] keys that bound what one client can make
// kmipd keep: object attributes and streamed-operation state (issue 12).
// They are checked against the store, so they hold across nodes sharing it.
type ResourceLimits struct {
	// MaxAttributeValueSize caps one attribute value in encoded bytes
	// (default 64 KiB).
	MaxAttributeValueSize int `toml:"max_attribute_value_size"`
	// MaxAttributeInstances caps the instances of one attribute on one
	// object (default 64).
	MaxAttributeInstances int `toml:"max_attribute_instances"`
	// MaxObjectAttributesSize caps all attributes of one object in encoded
	// bytes (default 1 MiB).
	MaxObjectAttributesSize int `toml:"max_object_attributes_size"`
	// MaxStreamsPerClient and MaxStreams cap open streamed operations per
	// client identity (default 16) and in all (default 1024).
	MaxStreamsPerClient int `toml:"max_streams_per_client"`
	MaxStreams          int `toml:"max_streams"`
	// MaxStreamBytesPerClient and MaxStreamBytes cap the stored state of
	// open streams per client identity (default 32 MiB) and in all
	// (default 512 MiB).
	MaxStreamBytesPerClient int64 `toml:"max_stream_bytes_per_client"`
	MaxStreamBytes          int64 `toml:"max_stream_bytes"`
	// MaxLocateItems caps the identifiers one Locate returns (default 10000).
	MaxLocateItems int `toml:"max_locate_items"`
	// MaxResponseSize caps the batch items of one response in encoded
	// bytes (default 16 MiB, at least 64 KiB).
	MaxResponseSize int `toml:"max_response_size"`
}

// defaultResourceLimits are app.DefaultLimits as configuration.
func defaultResourceLimits() ResourceLimits {
	d := app.DefaultLimits
	return ResourceLimits{
		MaxAttributeValueSize:   d.MaxAttributeValueSize,
		MaxAttributeInstances:   d.MaxAttributeInstances,
		MaxObjectAttributesSize: d.MaxObjectAttributesSize,
		MaxStreamsPerClient:     d.MaxStreamsPerClient,
		MaxStreams:              d.MaxStreams,
		MaxStreamBytesPerClient: d.MaxStreamBytesPerClient,
		MaxStreamBytes:          d.MaxStreamBytes,
		MaxLocateItems:          d.MaxLocateItems,
		MaxResponseSize:         d.MaxResponseSize,
	}
}

// app returns the limits as the app layer takes them.
func (r ResourceLimits) app() app.Limits {
	return app.Limits{
		MaxAttributeValueSize:   r.MaxAttributeValueSize,
		MaxAttributeInstances:   r.MaxAttributeInstances,
		MaxObjectAttributesSize: r.MaxObjectAttributesSize,
		MaxStreamsPerClient:     r.MaxStreamsPerClient,
		MaxStreams:              r.MaxStreams,
		MaxStreamBytesPerClient: r.MaxStreamBytesPerClient,
		MaxStreamBytes:          r.MaxStreamBytes,
		MaxLocateItems:          r.MaxLocateItems,
		MaxResponseSize:         r.MaxResponseSize,
	}
}

// validate refuses a limit that is not positive, a per-object or
// per-client limit above its total, an attribute value limit under 1 KiB
// (certificate subjects and names need that much) and a response limit
// under 64 KiB.
func (r ResourceLimits) validate() error {
	for _, n := range []struct {
		key string
		v   int64
	}{
		{"server.max_attribute_value_size", int64(r.MaxAttributeValueSize)},
		{"server.max_attribute_instances", int64(r.MaxAttributeInstances)},
		{"server.max_object_attributes_size", int64(r.MaxObjectAttributesSize)},
		{"server.max_streams_per_client", int64(r.MaxStreamsPerClient)},
		{"server.max_streams", int64(r.MaxStreams)},
		{"server.max_stream_bytes_per_client", r.MaxStreamBytesPerClient},
		{"server.max_stream_bytes", r.MaxStreamBytes},
		{"server.max_locate_items", int64(r.MaxLocateItems)},
	} {
		if n.v < 1 {
			return keyErr(n.key, "%d is not a positive number", n.v)
		}
	}
	switch {
	case r.MaxResponseSize < 64<<10:
		return keyErr("server.max_response_size", "%d is below the minimum of 65536 bytes", r.MaxResponseSize)
	case r.MaxAttributeValueSize < 1024:
		return keyErr("server.max_attribute_value_size", "%d is below the minimum of 1024 bytes", r.MaxAttributeValueSize)
	case r.MaxObjectAttributesSize < r.MaxAttributeValueSize:
		return keyErr("server.max_object_attributes_size", "%d is below server.max_attribute_value_size (%d)", r.MaxObjectAttributesSize, r.MaxAttributeValueSize)
	case r.MaxStreams < r.MaxStreamsPerClient:
		return keyErr("server.max_streams", "%d is below server.max_streams_per_client (%d)", r.MaxStreams, r.MaxStreamsPerClient)
	case r.MaxStreamBytes < r.MaxStreamBytesPerClient:
		return keyErr("server.max_stream_bytes", "%d is below server.max_stream_bytes_per_client (%d)", r.MaxStreamBytes, r.MaxStreamBytesPerClient)
	}
	return nil
}
