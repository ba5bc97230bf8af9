package main

import (
	"errors"
	"testing"

	"github.com/kmipd/kmipd/app"
)

func TestResourceLimitDefaults(t *testing.T) {
	c, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Server.ResourceLimits.app(); got != app.DefaultLimits {
		t.Errorf("resource limits = %+v, want app.DefaultLimits %+v", got, app.DefaultLimits)
	}
}

func TestResourceLimitKeys(t *testing.T) {
	c, err := load(t, `[server]
max_attribute_value_size = 2048
max_attribute_instances = 5
max_object_attributes_size = 8192
max_streams_per_client = 2
max_streams = 3
max_stream_bytes_per_client = 1000
max_stream_bytes = 5000
max_locate_items = 7
max_response_size = 100000
`)
	if err != nil {
		t.Fatal(err)
	}
	want := app.Limits{MaxAttributeValueSize: 2048, MaxAttributeInstances: 5, MaxObjectAttributesSize: 8192,
		MaxStreamsPerClient: 2, MaxStreams: 3, MaxStreamBytesPerClient: 1000, MaxStreamBytes: 5000, MaxLocateItems: 7, MaxResponseSize: 100000}
	if got := c.Server.ResourceLimits.app(); got != want {
		t.Errorf("resource limits = %+v, want %+v", got, want)
	}
}

func TestBadResourceLimitKeys(t *testing.T) {
	for toml, key := range map[string]string{
		"max_attribute_value_size = 0":                            "server.max_attribute_value_size",
		"max_attribute_value_size = 100":                          "server.max_attribute_value_size",
		"max_attribute_instances = -1":                            "server.max_attribute_instances",
		"max_object_attributes_size = 0":                          "server.max_object_attributes_size",
		"max_object_attributes_size = 2000":                       "server.max_object_attributes_size",
		"max_streams_per_client = 0":                              "server.max_streams_per_client",
		"max_streams = 4":                                         "server.max_streams",
		"max_stream_bytes_per_client = 0":                         "server.max_stream_bytes_per_client",
		"max_response_size = 1000":                                "server.max_response_size",
		"max_locate_items = 0":                                    "server.max_locate_items",
		"max_stream_bytes = 1024":                                 "server.max_stream_bytes",
		"max_stream_bytes_per_client = 10\nmax_stream_bytes = -5": "server.max_stream_bytes",
	} {
		_, err := load(t, "[server]\n"+toml+"\n")
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("%s: err = %v, want a %s error", toml, err, key)
		}
	}
}
