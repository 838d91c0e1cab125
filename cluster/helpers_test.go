package cluster

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/live/livetest"
	"github.com/ertmp/rtmp/message"
	"github.com/ertmp/rtmp/relay"
)

func logger(t testing.TB) *slog.Logger {
	return livetest.Logger(t)
}

// natsSrv is an embedded NATS server with JetStream on a loopback port,
// which a test may stop and start again on the same port.
type natsSrv struct {
	t    testing.TB
	port int
	dir  string
	mu   sync.Mutex
	s    *natsserver.Server
}

func startNATS(t testing.TB) *natsSrv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	n := &natsSrv{t: t, port: port, dir: t.TempDir()}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *natsSrv) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

func (n *natsSrv) start() {
	n.t.Helper()
	opts := &natsserver.Options{Host: "127.0.0.1", Port: n.port, JetStream: true, StoreDir: n.dir, NoLog: true, NoSigs: true}
	var s *natsserver.Server
	var err error
	for range 50 { // a port just closed may linger
		if s, err = natsserver.NewServer(opts); err == nil {
			go s.Start()
			if s.ReadyForConnections(5 * time.Second) {
				break
			}
			s.Shutdown()
			err = context.DeadlineExceeded
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		n.t.Fatalf("nats server: %v", err)
	}
	n.mu.Lock()
	n.s = s
	n.mu.Unlock()
}

func (n *natsSrv) stop() {
	n.mu.Lock()
	s := n.s
	n.s = nil
	n.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// jsConn connects a JetStream client to n.
func jsConn(t testing.TB, n *natsSrv) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(n.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func eventually(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still not %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testNode is a cluster node: a hub served over RTMP on a loopback port
// and its Node.
type testNode struct {
	hub  *live.Hub
	srv  *rtmp.Server
	node *Node
	addr string
	done chan error
}

// startNode starts a node of the cluster on nats with the given ttl.
func startNode(t *testing.T, ns *natsSrv, id string, ttl time.Duration, hc live.Config, replace bool) *testNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	log := logger(t).With("node", id)
	n, err := New(Config{NATS: []string{ns.url()}, Advertise: "rtmp://" + addr, ID: id, TTL: ttl, Idle: time.Second,
		ReplacePublisher: replace, Logger: log, Pull: relay.PullOptions{Backoff: relay.Backoff{Min: 50 * time.Millisecond, Max: 300 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	hc.Hooks = n.Hooks()
	hc.Logger = log
	hc.ReplacePublisher = replace
	if hc.RepublishGrace == 0 {
		hc.RepublishGrace = 5 * time.Second
	}
	tn := &testNode{hub: live.NewHub(hc), node: n, addr: addr, done: make(chan error, 1)}
	n.SetHub(tn.hub)
	tn.srv = &rtmp.Server{Handler: tn.hub, Logger: log}
	go func() { tn.done <- tn.srv.Serve(ln) }()
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tn.stop() })
	eventually(t, id+" ready", 10*time.Second, n.Ready)
	return tn
}

// stop shuts the node down politely (once).
func (tn *testNode) stop() {
	if tn.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tn.node.Shutdown(ctx)
	tn.hub.Shutdown(ctx)
	tn.srv.Shutdown(ctx)
	<-tn.done
	tn.srv = nil
}

// crash ends the node as a crash would: connections closed, nothing
// deleted from the registry.
func (tn *testNode) crash() {
	tn.node.nc.Close() // no goodbye to the registry
	tn.srv.Close()
	<-tn.done
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	tn.node.Shutdown(ctx)
	tn.hub.Shutdown(ctx)
	tn.srv = nil
}

// source publishes a synthetic AVC+AAC stream on a hub (a key frame every
// 10 frames, 25 per second), each frame carrying its number.
type source struct {
	pub    *live.Publication
	cancel context.CancelFunc
	done   chan struct{}
}

func avcSeq() []byte { return []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f} }
func aacSeq() []byte { return []byte{0xaf, 0, 0x12, 0x10} }

func publish(t *testing.T, hub *live.Hub, key live.Key) (*source, error) {
	t.Helper()
	pub, err := hub.Publish(ctxT(t, 5*time.Second), key, live.PublishOptions{})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &source{pub: pub, cancel: cancel, done: make(chan struct{})}
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcSeq()})
	pub.Write(rtmp.Packet{Type: message.TypeAudio, Payload: aacSeq()})
	go func() {
		defer close(s.done)
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for n := uint32(0); ; n++ {
			v := binary.BigEndian.AppendUint32([]byte{0x27, 1, 0, 0, 0}, n)
			if n%10 == 0 {
				v[0] = 0x17
			}
			if pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: n * 40, Payload: v}) != nil {
				return
			}
			pub.Write(rtmp.Packet{Type: message.TypeAudio, Timestamp: n * 40, Payload: binary.BigEndian.AppendUint32([]byte{0xaf, 1}, n)})
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(s.stop)
	return s, nil
}

func (s *source) stop() {
	s.cancel()
	<-s.done
	s.pub.Close()
}

// player is an RTMP player of a node, counting the video frames it gets.
type player struct {
	mu     sync.Mutex
	frames []uint32
	err    error
	done   chan struct{}
	cancel context.CancelFunc
	status []string
}

func play(t *testing.T, addr string, key live.Key) *player {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &player{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(p.done)
		pl, err := rtmp.DialPlay(ctx, "rtmp://"+addr+"/"+url.PathEscape(key.App)+"/"+url.PathEscape(key.Name), &rtmp.ClientConfig{ContinueAfterUnpublish: true})
		if err != nil {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
			return
		}
		context.AfterFunc(ctx, func() { pl.Close() })
		for {
			pk, err := pl.ReadPacket()
			if err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
				return
			}
			if pk.Type == message.TypeVideo && len(pk.Payload) == 9 && pk.Payload[1] == 1 {
				p.mu.Lock()
				p.frames = append(p.frames, binary.BigEndian.Uint32(pk.Payload[5:]))
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { p.cancel(); <-p.done })
	return p
}

func (p *player) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.frames)
}

func (p *player) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// streamInfo returns a hub's view of key.
func streamInfo(hub *live.Hub, key live.Key) (live.StreamInfo, bool) {
	for _, si := range hub.Streams() {
		if si.Key == key {
			return si, true
		}
	}
	return live.StreamInfo{}, false
}
