package live_test

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/live/livetest"
)

// Helpers of the tests that use the hub from outside the package, as a
// program would: through Publish, Subscribe and rtmp.Server.

// logTo sends a hub's log lines to t.Log.
func logTo(t *testing.T) *slog.Logger {
	return livetest.Logger(t)
}

// ends records the sessions a hub ended (its End hook).
type ends struct {
	mu  sync.Mutex
	all []ended
}

type ended struct {
	s *live.Session
	e live.SessionEnd
}

func (r *ends) hook(s *live.Session, e live.SessionEnd) {
	r.mu.Lock()
	r.all = append(r.all, ended{s, e})
	r.mu.Unlock()
}

// of returns the ends of the sessions of protocol p and kind k.
func (r *ends) of(p string, k rtmp.Kind) []ended {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ended
	for _, x := range r.all {
		if x.s.Protocol == p && x.s.Kind == k {
			out = append(out, x)
		}
	}
	return out
}

// serveRTMP serves hub over RTMP on a loopback port and returns its
// address; the test's cleanup shuts the hub, then the server, down.
func serveRTMP(t *testing.T, hub *live.Hub) string {
	t.Helper()
	return livetest.ServeRTMP(t, &rtmp.Server{Handler: hub, Logger: logTo(t)}, hub, -1)
}

// waitStream waits until the hub reports the stream key in the state pred
// wants.
func waitStream(t *testing.T, hub *live.Hub, key live.Key, pred func(live.StreamInfo) bool) live.StreamInfo {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, si := range hub.Streams() {
			if si.Key == key && pred(si) {
				return si
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %v never reached the expected state: %+v", key, hub.Streams())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// eventually waits up to 10 s for cond, which hooks and other goroutines
// make true; it fails the test past that.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s, still not %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
