package cluster

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/ertmp/rtmp/live"
)

// NATS key-value keys: tokens of [-/_=a-zA-Z0-9] between dots.
var natsKey = regexp.MustCompile(`^[-/_=a-zA-Z0-9]+(\.[-/_=a-zA-Z0-9]+)*$`)

func TestStreamKeyEncoding(t *testing.T) {
	long := strings.Repeat("é", live.MaxNameLength/2)
	for _, k := range []live.Key{
		{App: "live", Name: "key"},
		{App: "", Name: "x"},
		{App: "a.b", Name: "c.d"},
		{App: "a", Name: "b/c d?e=f*>"},
		{App: "live\x00", Name: "\x00\xff\n"},
		{App: "ab", Name: "c"}, {App: "a", Name: "bc"}, // same bytes, other split
		{App: long, Name: long},
	} {
		s := streamKey(k)
		if !natsKey.MatchString(s) {
			t.Errorf("%q: key %q is not a NATS key", k, s)
		}
		got, err := parseStreamKey(s)
		if err != nil || got != k {
			t.Errorf("%q: round trip %q, %v", k, got, err)
		}
	}
	if streamKey(live.Key{App: "ab", Name: "c"}) == streamKey(live.Key{App: "a", Name: "bc"}) {
		t.Error("two streams share a key")
	}
	for _, bad := range []string{"", "s.", "s.!!", "n.bGl2ZQ", "s.Bw", "s.//8"} {
		if _, err := parseStreamKey(bad); !errors.Is(err, ErrBadKey) {
			t.Errorf("parseStreamKey(%q): %v, want ErrBadKey", bad, err)
		}
	}
	for _, id := range []string{"127.0.0.1:1935", "[::1]:1935", "node a"} {
		got, err := parseNodeKey(nodeKey(id))
		if err != nil || got != id || !natsKey.MatchString(nodeKey(id)) {
			t.Errorf("node %q: %q %q, %v", id, nodeKey(id), got, err)
		}
	}
	if _, err := parseNodeKey("n."); !errors.Is(err, ErrBadKey) {
		t.Errorf("empty node key: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{NATS: []string{"nats://127.0.0.1:4222"}, Advertise: "rtmp://10.0.0.1:1935"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if id, _ := good.id(); id != "10.0.0.1:1935" {
		t.Errorf("id %q", id)
	}
	for name, c := range map[string]Config{
		"no nats":        {Advertise: "rtmp://h:1"},
		"bad nats":       {NATS: []string{"http://h"}, Advertise: "rtmp://h:1"},
		"no advertise":   {NATS: []string{"nats://h:1"}},
		"advertise path": {NATS: []string{"nats://h:1"}, Advertise: "rtmp://h:1/live"},
		"short ttl":      {NATS: []string{"nats://h:1"}, Advertise: "rtmp://h:1", TTL: 100 * 1e6},
		"bucket":         {NATS: []string{"nats://h:1"}, Advertise: "rtmp://h:1", Bucket: "a.b"},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
