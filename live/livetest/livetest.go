// Package livetest serves a live.Hub over RTMP for tests of the packages
// built on it, with the teardown every such test wants: the hub, then the
// server, shut down, and no goroutine left behind.
package livetest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
)

// ServeRTMP serves srv (its Handler usually hub) on a loopback port and
// returns the address. The test's cleanup shuts hub down, then srv, checks
// that Serve returned ErrServerClosed, and fails the test if more
// goroutines run than before (counted when ServeRTMP was called, or at
// before when it is not negative) 5 s after.
func ServeRTMP(t testing.TB, srv *rtmp.Server, hub *live.Hub, before int) string {
	t.Helper()
	if before < 0 {
		before = runtime.NumGoroutine()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
		NoLeak(t, before)
	})
	return ln.Addr().String()
}

// NoLeak fails t unless the goroutines fall back to before within 5 s
// (peers' processes are killed by then; their waiters end with them).
func NoLeak(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after shutdown:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// Logger returns a logger that writes each line, from Info up, to t.Log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
