package live

import (
	"context"
	"errors"
	"net/url"
	"testing"

	rtmp "github.com/ertmp/rtmp"
)

// Authorize asks the hook about a viewer as a play, with its query, and
// returns the key the hook maps it to; bad names and refusals are errors,
// and no session is recorded.
func TestAuthorizeViewer(t *testing.T) {
	h := NewHub(Config{Hooks: Hooks{Authorize: func(ctx context.Context, s *Session) (string, error) {
		if s.Kind != rtmp.KindPlay {
			t.Errorf("kind %v", s.Kind)
		}
		switch s.Query.Get("key") {
		case "a":
			return "", nil
		case "b":
			return "renamed", nil
		}
		return "", Deny("no key")
	}}})
	ask := func(stream, key string) (Key, error) {
		return h.Authorize(context.Background(), &Session{Protocol: "hls", App: "live", Stream: stream, Query: url.Values{"key": {key}}})
	}
	if k, err := ask("cam", "a"); err != nil || k != (Key{"live", "cam"}) {
		t.Errorf("key a: %v %v", k, err)
	}
	if k, err := ask("cam", "b"); err != nil || k != (Key{"live", "renamed"}) {
		t.Errorf("key b: %v %v", k, err)
	}
	var d *DeniedError
	if _, err := ask("cam", "c"); !errors.As(err, &d) || d.Text != "no key" {
		t.Errorf("no key: %v", err)
	}
	if _, err := ask("", "a"); !errors.Is(err, ErrBadName) {
		t.Errorf("empty name: %v", err)
	}
	if n := len(h.Sessions()); n != 0 {
		t.Errorf("%d sessions recorded", n)
	}
	h.Shutdown(context.Background())
	if _, err := ask("cam", "a"); !errors.Is(err, ErrShutdown) {
		t.Errorf("after shutdown: %v", err)
	}
}
