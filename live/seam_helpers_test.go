package live_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
)

// Helpers of the tests that use the hub from outside the package, as a
// program would: through Publish, Subscribe and rtmp.Server.

// logTo sends a hub's log lines to t.Log.
func logTo(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b[:len(b)-1]))
	return len(b), nil
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	srv := &rtmp.Server{Handler: hub, Logger: logTo(t)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, rtmp.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		// No goroutine left (peers' processes are killed by then; their
		// waiters end with them).
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines before, %d after shutdown:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
	return ln.Addr().String()
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
