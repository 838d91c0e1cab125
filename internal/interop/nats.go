package interop

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// NATS is a nats-server process (Debian's `nats-server`) with JetStream,
// on a loopback port and a store of the test's.
type NATS struct {
	// URL is nats://127.0.0.1:PORT.
	URL  string
	t    testing.TB
	tool Tool
	port int
	dir  string
	proc *Process
}

// NATSServer starts nats-server -js on a free loopback port with a
// temporary store; the test's cleanup stops it. A missing nats-server
// skips the test (or fails it under ERTMP_INTEROP=require).
func NATSServer(t testing.TB) *NATS {
	t.Helper()
	n := &NATS{t: t, tool: Path(t, "nats-server"), port: FreePort(t), dir: t.TempDir()}
	n.URL = fmt.Sprintf("nats://127.0.0.1:%d", n.port)
	n.Start()
	return n
}

// Start starts the server (again) on its port and store.
func (n *NATS) Start() {
	n.t.Helper()
	n.proc = Start(n.t, n.tool, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(n.port), "-sd", n.dir)
	addr := fmt.Sprintf("127.0.0.1:%d", n.port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-n.proc.done:
			n.proc.done <- err
			n.t.Fatalf("nats-server exited: %v\n%s", err, n.proc.Output.String())
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("nats-server does not listen on %s:\n%s", addr, n.proc.Output.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server and waits for it to exit.
func (n *NATS) Stop() {
	n.proc.Kill()
	n.proc.Wait(5 * time.Second)
}
