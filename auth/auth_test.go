package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
)

func prefixes(t *testing.T, s ...string) []netip.Prefix {
	t.Helper()
	p, err := ParseAddrList(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPermits(t *testing.T) {
	for _, c := range []struct {
		name        string
		allow, deny []string
		addr        string
		want        bool
	}{
		{"no lists", nil, nil, "192.0.2.1", true},
		{"no lists, no address", nil, nil, "", true},
		{"deny all", nil, []string{"all"}, "192.0.2.1", false},
		{"deny all v6", nil, []string{"all"}, "2001:db8::1", false},
		{"deny all allow net", []string{"10.0.0.0/8"}, []string{"all"}, "10.1.2.3", true},
		{"deny all allow net, outside", []string{"10.0.0.0/8"}, []string{"all"}, "192.0.2.1", false},
		{"allow only", []string{"127.0.0.1"}, nil, "127.0.0.1", true},
		{"allow only, other", []string{"127.0.0.1"}, nil, "127.0.0.2", false},
		{"allow net deny host", []string{"10.0.0.0/8"}, []string{"10.0.0.9"}, "10.0.0.9", false},
		{"allow net deny host, other", []string{"10.0.0.0/8"}, []string{"10.0.0.9"}, "10.0.0.8", true},
		{"tie: deny wins", []string{"10.0.0.0/8"}, []string{"10.0.0.0/8"}, "10.0.0.1", false},
		{"deny net only", nil, []string{"192.0.2.0/24"}, "198.51.100.1", true},
		{"mapped v4", []string{"127.0.0.1"}, []string{"all"}, "::ffff:127.0.0.1", true},
		{"lists, unknown address", []string{"127.0.0.1"}, nil, "", false},
	} {
		ip, _ := netip.ParseAddr(c.addr)
		if got := permits(prefixes(t, c.allow...), prefixes(t, c.deny...), ip.Unmap()); got != c.want {
			t.Errorf("%s: %s permitted %v, want %v", c.name, c.addr, got, c.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "host.example", "10.0.0", "", "all the things"} {
		if _, err := ParseAddr(bad); err == nil {
			t.Errorf("ParseAddr(%q) accepted", bad)
		}
	}
	if p := prefixes(t, "10.1.2.3/8"); p[0].String() != "10.0.0.0/8" {
		t.Errorf("10.1.2.3/8 is %v, want it masked", p)
	}
}

func TestKeys(t *testing.T) {
	keys := [][sha256.Size]byte{sha256.Sum256([]byte("k-one-1234")), sha256.Sum256([]byte("k-two-5678"))}
	for _, c := range []struct {
		query, name string
		want        bool
	}{
		{"k-one-1234", "stream", true},
		{"", "k-two-5678", true},
		{"wrong", "k-two-5678", true},
		{"wrong", "stream", false},
		{"", "", false},
		{"k-one-123", "k-two-567", false},
	} {
		if got := keyOK(keys, c.query, c.name); got != c.want {
			t.Errorf("key %q name %q: %v, want %v", c.query, c.name, got, c.want)
		}
	}
	for _, bad := range []string{"", "has space", "a/b", "a?b", "a=b", "a&b", "caf\xc3\xa9", strings.Repeat("k", 257)} {
		if err := CheckKey(bad); !errors.Is(err, ErrBadKey) {
			t.Errorf("CheckKey(%q) = %v", bad, err)
		}
	}
	if _, err := New(Rules{Apps: map[string]App{"live": {PublishKeys: []string{"bad key"}}}}, Options{}); !errors.Is(err, ErrBadKey) {
		t.Errorf("New with a bad key: %v", err)
	}
}

func TestRedact(t *testing.T) {
	a, err := New(Rules{Apps: map[string]App{"live": {PublishKeys: []string{"sekrit-123"}, PlayKeys: []string{"watch-456"}}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"sekrit-123":                    Redacted,
		"live/sekrit-123":               "live/" + Redacted,
		"rtmp://h/live/x?key=watch-456": "rtmp://h/live/x?key=" + Redacted,
		"sekrit-1234":                   "sekrit-1234",
		"nothing here":                  "nothing here",
		`err "sekrit-123" bad`:          `err "` + Redacted + `" bad`,
		"a=sekrit-123&b=watch-456&c=ok": "a=" + Redacted + "&b=" + Redacted + "&c=ok",
		"":                              "",
	} {
		if got := a.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	// Keys of earlier rules stay secret: a session that started with one
	// may still log it.
	if err := a.Update(Rules{Apps: map[string]App{"live": {PublishKeys: []string{"newer-789"}}}}); err != nil {
		t.Fatal(err)
	}
	if got := a.Redact("sekrit-123 newer-789"); got != Redacted+" "+Redacted {
		t.Errorf("after Update: %q", got)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://u:pw@h/p?token=abc&x=1": "http://u:xxxxx@h/p?token=xxxxx&x=xxxxx",
		"http://h/p":                    "http://h/p",
		"http://u@h/p":                  "http://u@h/p",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	for in, want := range map[string]string{
		"  go away\n":            "go away",
		"two\nlines":             "two lines",
		strings.Repeat("é", 200): strings.Repeat("é", 128),
		"\x00\x01":               "",
	} {
		if got := describe([]byte(in)); got != want {
			t.Errorf("describe(%q) = %q, want %q", in, got, want)
		}
	}
}

// The rules of an app, of its first segment, or the default.
func TestRulesFor(t *testing.T) {
	a, err := New(Rules{Apps: map[string]App{
		"live":     {PublishKeys: []string{"live-key-1"}},
		DefaultApp: {PublishKeys: []string{"default-k"}},
	}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	hooks := a.Hooks()
	try := func(app, name string) error {
		s := &live.Session{Kind: rtmp.KindPublish, App: app, Stream: name, RemoteAddr: "127.0.0.1:5000", Query: url.Values{}}
		_, err := hooks.Authorize(context.Background(), s)
		return err
	}
	for _, c := range []struct {
		app, name string
		ok        bool
	}{
		{"live", "live-key-1", true},
		{"live", "default-k", false},
		{"live/studio", "live-key-1", true},
		{"other", "default-k", true},
		{"other", "live-key-1", false},
	} {
		err := try(c.app, c.name)
		if (err == nil) != c.ok {
			t.Errorf("%s/%s: %v, want ok %v", c.app, c.name, err, c.ok)
		}
		var d *live.DeniedError
		if err != nil && (!errors.As(err, &d) || d.Text != textKey) {
			t.Errorf("%s/%s: refusal %v", c.app, c.name, err)
		}
	}
	// Internal sessions (no remote address) are not asked.
	s := &live.Session{Kind: rtmp.KindPublish, App: "live", Stream: "x"}
	if _, err := hooks.Authorize(context.Background(), s); err != nil {
		t.Errorf("an internal publisher was refused: %v", err)
	}
}
