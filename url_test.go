package rtmp

import (
	"errors"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in                   string
		host                 string
		port                 int
		app, stream, tc, adr string
	}{
		{"rtmp://example.com/live/key", "example.com", 0, "live", "key", "rtmp://example.com/live", "example.com:1935"},
		{"rtmp://example.com:1940/live/key?token=a%20b&x=1", "example.com", 1940, "live", "key?token=a%20b&x=1", "rtmp://example.com:1940/live", "example.com:1940"},
		{"rtmps://live.example.com/app/inst/stream", "live.example.com", 0, "app/inst", "stream", "rtmps://live.example.com/app/inst", "live.example.com:443"},
		{"rtmp://[::1]:1935/live/cam", "::1", 1935, "live", "cam", "rtmp://[::1]:1935/live", "[::1]:1935"},
		{"RTMP://10.0.0.1/vod", "10.0.0.1", 0, "vod", "", "rtmp://10.0.0.1/vod", "10.0.0.1:1935"},
		{"rtmp://h/app/inst/a/b", "h", 0, "app/inst", "a/b", "rtmp://h/app/inst", "h:1935"},
	}
	for _, tc := range tests {
		u, err := ParseURL(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if u.Host != tc.host || u.Port != tc.port || u.App != tc.app || u.Stream != tc.stream || u.TcURL() != tc.tc || u.Addr() != tc.adr {
			t.Errorf("%s: got %+v tcUrl %s addr %s", tc.in, u, u.TcURL(), u.Addr())
		}
	}
	for _, bad := range []string{"http://h/live/x", "rtmp:///live/x", "rtmp://h", "rtmp://h:99999/live", "rtmp://h:abc/live", "::", "rtmp://h/"} {
		if _, err := ParseURL(bad); !errors.Is(err, ErrURL) {
			t.Errorf("%q: err = %v, want ErrURL", bad, err)
		}
	}
}

// The four forms of the Enhanced RTMP v2 example, plus absent.
func TestResolveReconnect(t *testing.T) {
	cur, _ := ParseURL("rtmp://a.example.com:1935/live/key?k=1")
	for ref, want := range map[string]string{
		"": "rtmp://a.example.com:1935/live/key?k=1",
		"rtmp://foo.mydomain.com:1935/realtimeapp": "rtmp://foo.mydomain.com:1935/realtimeapp/key?k=1",
		"rtmp://127.0.0.1/realtimeapp":             "rtmp://127.0.0.1/realtimeapp/key?k=1",
		"//192.0.2.0/realtimeapp":                  "rtmp://192.0.2.0/realtimeapp/key?k=1",
		"/realtimeapp":                             "rtmp://a.example.com:1935/realtimeapp/key?k=1",
		"other":                                    "rtmp://a.example.com:1935/other/key?k=1",
	} {
		got, err := cur.ResolveReconnect(ref)
		if err != nil {
			t.Errorf("%q: %v", ref, err)
			continue
		}
		if got.String() != want {
			t.Errorf("%q resolves to %s, want %s", ref, got, want)
		}
	}
	if _, err := cur.ResolveReconnect("http://x/y"); err == nil {
		t.Error("an http tcUrl was accepted")
	}
}
