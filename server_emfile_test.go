//go:build linux

package rtmp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/handshake"
)

const emfileChildEnv = "ERTMP_TEST_EMFILE_CHILD"

// Out of file descriptors, Serve backs off and keeps accepting: once
// connections close, a new client is served. The server runs in a child
// process (this test binary again) with a small RLIMIT_NOFILE, so this
// process keeps its limits; the clients are here.
func TestServerAcceptOutOfDescriptors(t *testing.T) {
	if os.Getenv(emfileChildEnv) != "" {
		t.Skip("in the child")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerAcceptOutOfDescriptorsChild$", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), emfileChildEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	out := bufio.NewScanner(stdout)
	var addr string
	for out.Scan() {
		if a, ok := strings.CutPrefix(out.Text(), "addr "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		cmd.Wait()
		t.Fatalf("the child printed no address; its log:\n%s", logs.String())
	}

	// handshaken reports whether the server answers a handshake in time.
	handshaken := func(nc net.Conn, d time.Duration) bool {
		nc.SetDeadline(time.Now().Add(d))
		_, err := handshake.Client(nc, nil)
		nc.SetDeadline(time.Time{})
		return err == nil
	}
	var served []net.Conn
	var hung net.Conn
	for i := 0; i < 64 && hung == nil; i++ {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if handshaken(nc, 500*time.Millisecond) {
			served = append(served, nc)
		} else {
			hung = nc
		}
	}
	if hung == nil || len(served) == 0 {
		t.Fatalf("%d connections served, none left waiting: the descriptor limit was not reached", len(served))
	}
	t.Logf("%d connections served, then accept ran out of descriptors", len(served))

	// Two leave, and the waiting one gives up: a new client is served.
	hung.Close()
	served[0].Close()
	if len(served) > 1 {
		served[1].Close()
	}
	start := time.Now()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if !handshaken(nc, 5*time.Second) {
		t.Fatalf("no new client served after connections closed; the child's log:\n%s", logs.String())
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	newRawPeer(t, nc).connect(amf0.Object{{Key: "app", Value: "live"}})
	t.Logf("a new client served %v after connections closed", time.Since(start).Round(time.Millisecond))

	stdin.Close() // the child shuts down
	rest, _ := io.ReadAll(stdout)
	err = cmd.Wait()
	if err != nil || !strings.Contains(string(rest), "serve: rtmp: server closed") {
		t.Fatalf("child: %v, output %q; log:\n%s", err, rest, logs.String())
	}
	if n := strings.Count(logs.String(), "retrying with backoff"); n < 1 || n > 3 {
		t.Errorf("%d backoff lines logged, want one per backoff (1 to 3); log:\n%s", n, logs.String())
	}
}

// The child: a Server on a loopback port with room for four more
// descriptors. It prints its address, serves until stdin closes, shuts
// down and prints what Serve returned.
func TestServerAcceptOutOfDescriptorsChild(t *testing.T) {
	if os.Getenv(emfileChildEnv) == "" {
		t.Skip("run by TestServerAcceptOutOfDescriptors")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Handler: HandlerFunc(func(r *Request) { r.Reject("", "") })}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	time.Sleep(10 * time.Millisecond) // Serve is in Accept
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	lim := syscall.Rlimit{Cur: uint64(len(fds)) + 4}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim.Max = old.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("addr %s\n", ln.Addr())
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	case err := <-served:
		fmt.Printf("serve: %v\n", err) // returned early: the bug
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	err = <-served
	fmt.Printf("serve: %v\n", err)
	if !errors.Is(err, ErrServerClosed) {
		os.Exit(1)
	}
}
