package rtmp

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

// startServer serves h on a loopback port; cleanup shuts it down.
func startServer(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

// dialPeer connects a raw peer to addr and does the handshake.
func dialPeer(t *testing.T, addr string) (*rawPeer, net.Conn) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := handshake.Client(nc, nil); err != nil {
		t.Fatal(err)
	}
	return newRawPeer(t, nc), nc
}

// playPeer is a raw player whose play started.
func playPeer(t *testing.T, addr string) (*rawPeer, net.Conn) {
	t.Helper()
	p, nc := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	p.createStream()
	p.send(CSIDData, 1, 0, cmd("play", 0, nil, "x"))
	for {
		if c, ok := p.recv().(message.Command); ok && statusCode(t, c) == message.CodePlayStart {
			return p, nc
		}
	}
}

func cmd(name string, tx float64, obj amf0.Value, args ...amf0.Value) message.Command {
	return message.Command{Name: name, TransactionID: tx, Object: obj, Args: args}
}

// recvSkip reads the next message that is not an Acknowledgement.
func (p *rawPeer) recvCommand() message.Command {
	p.t.Helper()
	m := p.recv()
	c, ok := m.(message.Command)
	if !ok {
		p.t.Fatalf("got %#v, want a command", m)
	}
	return c
}

func statusCode(t *testing.T, c message.Command) string {
	t.Helper()
	if c.Name != "onStatus" {
		t.Fatalf("got command %q, want onStatus", c.Name)
	}
	info, ok := c.ObjectArg(0)
	if !ok {
		t.Fatalf("onStatus without an info object: %#v", c)
	}
	code, _ := info.GetString("code")
	return code
}

// connect sends connect and checks the server's answer, in order.
func (p *rawPeer) connect(obj amf0.Object) message.Command {
	p.t.Helper()
	p.send(CSIDCommand, 0, 0, cmd("connect", 1, obj))
	if m := p.recv(); m != (message.WindowAckSize{Size: DefaultWindowAckSize}) {
		p.t.Fatalf("1st reply %#v, want Window Acknowledgement Size", m)
	}
	if m := p.recv(); m != (message.SetPeerBandwidth{Size: DefaultWindowAckSize, Limit: message.LimitDynamic}) {
		p.t.Fatalf("2nd reply %#v, want Set Peer Bandwidth", m)
	}
	if m := p.recv(); !reflect.DeepEqual(m, message.NewStreamBegin(0)) {
		p.t.Fatalf("3rd reply %#v, want StreamBegin 0", m)
	}
	res := p.recvCommand()
	if res.Name != "_result" || res.TransactionID != 1 {
		p.t.Fatalf("4th reply %#v, want _result 1", res)
	}
	if m := p.recv(); m != (message.SetChunkSize{Size: DefaultChunkSize}) {
		p.t.Fatalf("5th reply %#v, want Set Chunk Size", m)
	}
	p.r.SetChunkSize(DefaultChunkSize)
	return res
}

func (p *rawPeer) createStream() {
	p.t.Helper()
	p.send(CSIDCommand, 0, 0, cmd("createStream", 2, nil))
	res := p.recvCommand()
	if id, _ := res.NumberArg(0); res.Name != "_result" || res.TransactionID != 2 || id != 1 {
		p.t.Fatalf("createStream answer %#v", res)
	}
}

func (p *rawPeer) publish(name string) {
	p.t.Helper()
	p.connect(amf0.Object{{Key: "app", Value: "live"}, {Key: "tcUrl", Value: "rtmp://127.0.0.1/live"}})
	p.send(CSIDCommand, 0, 0, cmd("releaseStream", 2, nil, name))
	if res := p.recvCommand(); res.Name != "_result" {
		p.t.Fatalf("releaseStream answer %#v", res)
	}
	p.send(CSIDCommand, 0, 0, cmd("FCPublish", 3, nil, name))
	if res := p.recvCommand(); res.Name != "onFCPublish" {
		p.t.Fatalf("FCPublish answer %#v, want onFCPublish", res)
	}
	if res := p.recvCommand(); res.Name != "_result" {
		p.t.Fatalf("FCPublish answer %#v, want _result", res)
	}
	p.createStream()
	p.send(CSIDData, 1, 0, cmd("publish", 5, nil, name, "live"))
}

func TestServerPublishExchange(t *testing.T) {
	got := make(chan *Request, 1)
	packets := make(chan Packet, 16)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		got <- r
		ps, err := r.AcceptPublish()
		if err != nil {
			t.Error(err)
			return
		}
		for {
			pk, err := ps.ReadPacket()
			if err != nil {
				if err != io.EOF {
					t.Errorf("ReadPacket: %v", err)
				}
				close(packets)
				return
			}
			packets <- pk
		}
	})}
	addr := startServer(t, s)
	p, nc := dialPeer(t, addr)
	p.publish("key?token=abc&x=1")
	if m := p.recv(); !reflect.DeepEqual(m, message.NewStreamBegin(1)) {
		t.Fatalf("after publish %#v, want StreamBegin 1", m)
	}
	if code := statusCode(t, p.recvCommand()); code != message.CodePublishStart {
		t.Fatalf("status %q", code)
	}
	r := <-got
	if r.Kind != KindPublish || r.App != "live" || r.StreamName != "key" || r.Query.Get("token") != "abc" || r.PublishType != "live" || r.TcURL != "rtmp://127.0.0.1/live" || r.StreamID != 1 {
		t.Fatalf("request = %+v", r)
	}

	// Media, metadata and an aggregate come out in order, the aggregate
	// split with timestamps rebased.
	p.send(CSIDData, 1, 0, message.Data{Values: []amf0.Value{"@setDataFrame", "onMetaData", amf0.NewECMAArray(amf0.Property{Key: "width", Value: 640.0})}})
	p.send(CSIDVideo, 1, 0, message.Video{Payload: []byte{0x17, 0, 0, 0, 0, 1}})
	p.send(CSIDAudio, 1, 10, message.Audio{Payload: []byte{0xAF, 1, 2}})
	agg, err := message.AppendAggregate(nil, []message.SubMessage{
		{Type: message.TypeAudio, Timestamp: 1000, StreamID: 1, Payload: []byte{0xAF, 1, 3}},
		{Type: message.TypeVideo, Timestamp: 1020, StreamID: 1, Payload: []byte{0x27, 1, 0, 0, 0, 9}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p.send(CSIDVideo, 1, 40, message.Aggregate{Payload: agg})
	p.send(CSIDCommand, 0, 0, cmd("FCUnpublish", 6, nil, "key"))
	want := []Packet{
		{Type: message.TypeDataAMF0},
		{Type: message.TypeVideo, Timestamp: 0, Payload: []byte{0x17, 0, 0, 0, 0, 1}},
		{Type: message.TypeAudio, Timestamp: 10, Payload: []byte{0xAF, 1, 2}},
		{Type: message.TypeAudio, Timestamp: 40, Payload: []byte{0xAF, 1, 3}},
		{Type: message.TypeVideo, Timestamp: 60, Payload: []byte{0x27, 1, 0, 0, 0, 9}},
	}
	for i, w := range want {
		pk, ok := <-packets
		if !ok {
			t.Fatalf("packet %d missing", i)
		}
		if pk.Type != w.Type || pk.Timestamp != w.Timestamp || (w.Payload != nil && !reflect.DeepEqual(pk.Payload, w.Payload)) {
			t.Fatalf("packet %d = %+v, want %+v", i, pk, w)
		}
	}
	if _, ok := <-packets; ok {
		t.Fatal("a packet after FCUnpublish")
	}
	_ = nc
}

func TestServerRejectPublish(t *testing.T) {
	s := &Server{Handler: HandlerFunc(func(r *Request) { r.Reject("", "bad key") })}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.publish("nope")
	c := p.recvCommand()
	if code := statusCode(t, c); code != message.CodePublishBadName {
		t.Fatalf("code %q", code)
	}
	info, _ := c.ObjectArg(0)
	if d, _ := info.GetString("description"); d != "bad key" {
		t.Fatalf("description %q", d)
	}
	if lvl, _ := info.GetString("level"); lvl != "error" {
		t.Fatalf("level %q", lvl)
	}
	if _, err := p.r.ReadMessage(); !errors.Is(err, io.EOF) {
		t.Fatalf("after reject: %v, want EOF", err)
	}
}

func TestServerPlayExchange(t *testing.T) {
	events := make(chan Event, 8)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		if r.Kind != KindPlay || r.StreamName != "cam" || r.BufferLength != 3000 || r.Start != -2 {
			t.Errorf("request = %+v", r)
		}
		ps, err := r.AcceptPlay(&PlayOptions{Recorded: true})
		if err != nil {
			t.Error(err)
			return
		}
		ps.WriteMetadata(0, message.Data{Values: []amf0.Value{"onMetaData", amf0.NewECMAArray()}})
		ps.WritePacket(Packet{Type: message.TypeVideo, Timestamp: 33, Payload: []byte{0x17, 1, 0, 0, 0, 5}})
		ps.Flush()
		for {
			ev, err := ps.ReadEvent()
			if err != nil {
				close(events)
				ps.Close()
				return
			}
			events <- ev
			if ev.Kind == EventSeek {
				ps.NotifySeek(ev.Millis)
				ps.Close()
			}
		}
	})}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	p.createStream()
	p.send(CSIDControl, 0, 0, message.NewSetBufferLength(1, 3000))
	p.send(CSIDData, 1, 0, cmd("play", 4, nil, "cam"))
	order := []any{message.NewStreamIsRecorded(1), message.NewStreamBegin(1), message.CodePlayReset, message.CodePlayStart}
	for i, w := range order {
		m := p.recv()
		if code, ok := w.(string); ok {
			if c, isCmd := m.(message.Command); !isCmd || statusCode(t, c) != code {
				t.Fatalf("play reply %d = %#v, want %s", i, m, code)
			}
		} else if !reflect.DeepEqual(m, w) {
			t.Fatalf("play reply %d = %#v, want %#v", i, m, w)
		}
	}
	if d, ok := p.recv().(message.Data); !ok || !reflect.DeepEqual(d.Values[0], "|RtmpSampleAccess") {
		t.Fatalf("want |RtmpSampleAccess, got %#v", d)
	}
	if d, ok := p.recv().(message.Data); !ok || !reflect.DeepEqual(d.Values[0], "onStatus") {
		t.Fatalf("want NetStream.Data.Start, got %#v", d)
	}
	if d, ok := p.recv().(message.Data); !ok || !d.IsMetaData() {
		t.Fatalf("want onMetaData, got %#v", d)
	}
	if v, ok := p.recv().(message.Video); !ok || len(v.Payload) != 6 {
		t.Fatalf("want the video packet, got %#v", v)
	}
	p.send(CSIDData, 1, 0, cmd("pause", 0, nil, true, 1500.0))
	p.send(CSIDData, 1, 0, cmd("receiveAudio", 0, nil, false))
	p.send(CSIDData, 1, 0, cmd("seek", 0, nil, 5000.0))
	var gotEv []EventKind
	for ev := range events {
		gotEv = append(gotEv, ev.Kind)
		if len(gotEv) == 3 {
			break
		}
	}
	if !reflect.DeepEqual(gotEv, []EventKind{EventPause, EventReceiveAudio, EventSeek}) {
		t.Fatalf("events = %v", gotEv)
	}
	// Seek is answered: StreamEOF, StreamBegin, Seek.Notify, Play.Start;
	// then Close: StreamEOF, Play.Stop, EOF.
	seq := []any{message.NewStreamEOF(1), message.NewStreamBegin(1), message.CodeSeekNotify, message.CodePlayStart, message.NewStreamEOF(1), message.CodePlayStop}
	for i, w := range seq {
		m := p.recv()
		if code, ok := w.(string); ok {
			if c, isCmd := m.(message.Command); !isCmd || statusCode(t, c) != code {
				t.Fatalf("reply %d = %#v, want %s", i, m, code)
			}
		} else if !reflect.DeepEqual(m, w) {
			t.Fatalf("reply %d = %#v, want %#v", i, m, w)
		}
	}
	if _, err := p.r.ReadMessage(); !errors.Is(err, io.EOF) {
		t.Fatalf("after close: %v, want EOF", err)
	}
}

func TestServerSessionEvents(t *testing.T) {
	ready := make(chan *PublishSession, 1)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		ps, _ := r.AcceptPublish()
		ready <- ps
		for {
			if _, err := ps.ReadPacket(); err != nil {
				return
			}
		}
	})}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.publish("k")
	p.recv()
	p.recvCommand()
	ps := <-ready
	ps.SendStreamDry()
	ps.SendStreamIsRecorded()
	ps.SendPingRequest(777)
	ps.SendReconnectRequest("rtmp://other/live", "maintenance")
	ps.SendReconnectRequest("", "")
	if m := p.recv(); !reflect.DeepEqual(m, message.NewStreamDry(1)) {
		t.Fatalf("%#v, want StreamDry", m)
	}
	if m := p.recv(); !reflect.DeepEqual(m, message.NewStreamIsRecorded(1)) {
		t.Fatalf("%#v, want StreamIsRecorded", m)
	}
	if m := p.recv(); !reflect.DeepEqual(m, message.NewPingRequest(777)) {
		t.Fatalf("%#v, want PingRequest", m)
	}
	c := p.recvCommand()
	if statusCode(t, c) != message.CodeConnectReconnectRequest {
		t.Fatal("want ReconnectRequest")
	}
	info, _ := c.ObjectArg(0)
	if u, _ := info.GetString("tcUrl"); u != "rtmp://other/live" {
		t.Fatalf("tcUrl %q", u)
	}
	c = p.recvCommand()
	info, _ = c.ObjectArg(0)
	if _, has := info.Get("tcUrl"); statusCode(t, c) != message.CodeConnectReconnectRequest || has {
		t.Fatalf("reconnect without tcUrl = %#v", c)
	}
	// Close: StreamEOF, Unpublish.Success, then EOF.
	go ps.Close()
	if m := p.recv(); !reflect.DeepEqual(m, message.NewStreamEOF(1)) {
		t.Fatalf("%#v, want StreamEOF", m)
	}
	if code := statusCode(t, p.recvCommand()); code != message.CodeUnpublishSuccess {
		t.Fatalf("code %q", code)
	}
	if _, err := p.r.ReadMessage(); !errors.Is(err, io.EOF) {
		t.Fatalf("after close: %v", err)
	}
}

func TestServerAMF3Commands(t *testing.T) {
	got := make(chan *Request, 1)
	s := &Server{Handler: HandlerFunc(func(r *Request) { got <- r; r.Reject("", "") })}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	c := cmd("connect", 1, amf0.Object{{Key: "app", Value: "vod"}, {Key: "objectEncoding", Value: 3.0}})
	c.AMF3 = true
	p.send(CSIDCommand, 0, 0, c)
	for {
		m := p.recv()
		if res, ok := m.(message.Command); ok {
			if res.Name != "_result" || !res.AMF3 {
				t.Fatalf("answer %#v, want an AMF3 _result", res)
			}
			info, _ := res.ObjectArg(0)
			if enc, _ := info.GetNumber("objectEncoding"); enc != 3 {
				t.Fatalf("objectEncoding %v", enc)
			}
			break
		}
	}
	p.recv() // Set Chunk Size
	p.r.SetChunkSize(DefaultChunkSize)
	play := cmd("play", 0, nil, amf0.AMF3{Value: "clip"})
	play.AMF3 = true
	p.send(CSIDData, 1, 0, play)
	r := <-got
	if r.App != "vod" || r.StreamName != "clip" || !r.Capabilities.AMF3() {
		t.Fatalf("request = %+v", r)
	}
}

func TestServerCapabilitiesAdvertised(t *testing.T) {
	caps := &Capabilities{FourCCList: []string{"*"}, CapsEx: message.CapsExReconnect | message.CapsExMultitrack}
	got := make(chan *Request, 1)
	s := &Server{Capabilities: caps, Handler: HandlerFunc(func(r *Request) { got <- r; r.Reject("", "") })}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	res := p.connect(amf0.Object{{Key: "app", Value: "live"}, {Key: "fourCcList", Value: amf0.StrictArray{"hvc1"}}, {Key: "capsEx", Value: 2.0}})
	props, _ := res.CommandObject()
	sc := ParseCapabilities(props)
	if !sc.Reconnect() || !sc.Multitrack() || len(sc.FourCCList) != 1 {
		t.Fatalf("advertised %+v", sc)
	}
	p.createStream()
	p.send(CSIDData, 1, 0, cmd("play", 0, nil, "x"))
	r := <-got
	if !r.Capabilities.Multitrack() || !r.Capabilities.Enhanced {
		t.Fatalf("peer caps %+v", r.Capabilities)
	}
}

func TestServerStalledPeers(t *testing.T) {
	s := &Server{HandshakeTimeout: 300 * time.Millisecond, RequestTimeout: 300 * time.Millisecond,
		Handler: HandlerFunc(func(r *Request) { r.Reject("", "") })}
	addr := startServer(t, s)
	// One peer connects and sends nothing, another stops after the handshake.
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	_, mute := dialPeer(t, addr)
	// A third peer is served at once.
	start := time.Now()
	p, _ := dialPeer(t, addr)
	p.publish("k")
	if code := statusCode(t, p.recvCommand()); code != message.CodePublishBadName {
		t.Fatalf("code %q", code)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("served after %v", d)
	}
	// The stalled ones are dropped after their timeouts.
	for _, c := range []net.Conn{silent, mute} {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 4096)
		var err error
		for err == nil {
			_, err = c.Read(buf)
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("a stalled peer was not dropped")
		}
	}
}

func TestServerProtocolErrors(t *testing.T) {
	s := &Server{Handler: HandlerFunc(func(r *Request) { t.Error("handler called") })}
	addr := startServer(t, s)
	for name, first := range map[string]message.Message{
		"publish before connect": cmd("publish", 1, nil, "k"),
		"garbage command":        message.Raw{TypeID: message.TypeCommandAMF0, Payload: []byte{0x02, 0xff}},
	} {
		t.Run(name, func(t *testing.T) {
			p, _ := dialPeer(t, addr)
			p.send(CSIDCommand, 0, 0, first)
			if _, err := p.r.ReadMessage(); err == nil {
				t.Fatal("connection not closed")
			}
		})
	}
}

// Commands are read with package message's typed views: a publish or play
// whose arguments do not parse is refused at the command level (an error
// onStatus; the peer may try again), and a connect whose command object is
// not an object is a protocol error.
func TestServerMalformedCommands(t *testing.T) {
	got := make(chan *Request, 1)
	s := &Server{Handler: HandlerFunc(func(r *Request) { got <- r; r.Reject("", "") })}
	addr := startServer(t, s)

	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	p.createStream()
	p.send(CSIDData, 1, 0, cmd("publish", 0, nil, 42.0))
	if code := statusCode(t, p.recvCommand()); code != message.CodePublishBadName {
		t.Fatalf("publish with a number for a name: %q", code)
	}
	p.send(CSIDData, 1, 0, cmd("play", 0, nil, "clip", "soon"))
	if code := statusCode(t, p.recvCommand()); code != message.CodePlayFailed {
		t.Fatalf("play with a string for start: %q", code)
	}
	p.send(CSIDData, 1, 0, cmd("play", 0, nil, "clip", 5.0, 10.0, 0.0))
	r := <-got
	if r.Kind != KindPlay || r.StreamName != "clip" || r.Start != 5 || r.Duration != 10 || r.Reset {
		t.Fatalf("request = %+v", r)
	}

	q, _ := dialPeer(t, addr)
	q.send(CSIDCommand, 0, 0, cmd("connect", 1, nil))
	if _, err := q.r.ReadMessage(); err == nil {
		t.Fatal("a connect with a null command object was answered")
	}
}

func TestServerShutdownNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			return
		}
		<-ps.Done()
	})}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	var peers []*rawPeer
	for i := 0; i < 3; i++ {
		p, _ := playPeer(t, ln.Addr().String())
		peers = append(peers, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	// Players were told: StreamEOF then Play.Stop.
	for _, p := range peers {
		sawEOF := false
		for {
			cm, err := p.r.ReadMessage()
			if err != nil {
				break
			}
			if m, _ := message.Decode(message.Type(cm.TypeID), cm.Payload); reflect.DeepEqual(m, message.NewStreamEOF(1)) {
				sawEOF = true
			}
		}
		if !sawEOF {
			t.Error("a player saw no StreamEOF at shutdown")
		}
	}
	for i := 0; i < 100 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after Shutdown\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestPlayWritePrepared(t *testing.T) {
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			t.Error(err)
			return
		}
		m, err := chunk.NewPrepared(chunk.Message{CSID: CSIDVideo, Header: chunk.Header{Timestamp: 90, TypeID: uint8(message.TypeVideo), StreamID: ps.StreamID()}, Payload: make([]byte, 10000)}, ps.ChunkSize())
		if err != nil {
			t.Error(err)
			return
		}
		ps.WritePrepared(m)
		ps.Flush()
		<-ps.Done()
	})}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	p.createStream()
	p.send(CSIDData, 1, 0, cmd("play", 0, nil, "x"))
	for {
		cm, err := p.r.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if message.Type(cm.TypeID) == message.TypeVideo {
			if len(cm.Payload) != 10000 || cm.Timestamp != 90 || cm.StreamID != 1 {
				t.Fatalf("prepared video: %d bytes at %d on stream %d", len(cm.Payload), cm.Timestamp, cm.StreamID)
			}
			return
		}
	}
}

// A player that sends nothing is not dropped by the read timeout: it only
// watches.
func TestPlayerIdleNotDropped(t *testing.T) {
	wrote := make(chan error, 1)
	s := &Server{Conn: ConnConfig{ReadTimeout: 100 * time.Millisecond}, Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			return
		}
		select {
		case <-ps.Done():
			wrote <- errors.New("the player's session ended while it was idle")
			return
		case <-time.After(500 * time.Millisecond):
		}
		ps.NotifyPublish()
		ps.WritePacket(Packet{Type: message.TypeAudio, Timestamp: 1, Payload: []byte{0xAF, 1}})
		wrote <- ps.Flush()
		<-ps.Done()
	})}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	p.createStream()
	p.send(CSIDData, 1, 0, cmd("play", 0, nil, "x"))
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	sawNotify := false
	for {
		m := p.recv()
		if c, ok := m.(message.Command); ok && statusCode(t, c) == message.CodePlayPublishNotify {
			sawNotify = true
		}
		if _, ok := m.(message.Audio); ok {
			break
		}
	}
	if !sawNotify {
		t.Fatal("no PublishNotify")
	}
}

// Connections that sent the same connect command share its decoded object
// (a thousand players of one kind kept a thousand copies); another
// command gets its own, and the cache of them stays bounded.
func TestServerSharesConnectObjects(t *testing.T) {
	got := make(chan *Request, 16)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		got <- r
		r.Reject("", "seen")
	})}
	addr := startServer(t, s)
	connect := func(obj amf0.Object) *Request {
		t.Helper()
		p, _ := dialPeer(t, addr)
		p.connect(obj)
		p.createStream()
		p.send(CSIDData, 1, 0, cmd("play", 0, nil, "x"))
		select {
		case r := <-got:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no request")
		}
		return nil
	}
	same := amf0.Object{{Key: "app", Value: "live"}, {Key: "flashVer", Value: "FMLE/3.0"}, {Key: "fourCcList", Value: amf0.StrictArray{"av01", "hvc1"}}}
	a, b := connect(same), connect(same)
	if &a.ConnectObject[0] != &b.ConnectObject[0] || &a.Capabilities.FourCCList[0] != &b.Capabilities.FourCCList[0] {
		t.Fatal("two identical connect commands decoded twice, want one shared object")
	}
	if v, _ := b.ConnectObject.GetString("flashVer"); v != "FMLE/3.0" || len(b.Capabilities.FourCCList) != 2 {
		t.Fatalf("shared object %+v, capabilities %+v", b.ConnectObject, b.Capabilities)
	}
	other := connect(amf0.Object{{Key: "app", Value: "live"}, {Key: "flashVer", Value: "LNX 9,0,124,2"}})
	if &other.ConnectObject[0] == &a.ConnectObject[0] {
		t.Fatal("a different connect command got the first one's object")
	}
	if v, _ := other.ConnectObject.GetString("flashVer"); v != "LNX 9,0,124,2" || other.Capabilities.Enhanced {
		t.Fatalf("other object %+v, capabilities %+v", other.ConnectObject, other.Capabilities)
	}
	// More kinds than the cache holds: it keeps the latest ones only.
	for i := range 2 * len(s.connects.ents) {
		connect(amf0.Object{{Key: "app", Value: "live"}, {Key: "n", Value: float64(i)}})
	}
	c := connect(same)
	if &c.ConnectObject[0] == &a.ConnectObject[0] {
		t.Fatal("an evicted connect command was still shared")
	}
}
