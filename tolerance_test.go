package rtmp

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

// hexb decodes hex with spaces.
func hexb(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Exact bytes of AMF 0 values (AMF0 §2.2 number, §2.4 string, §2.5
// object, §2.7 null, §2.10 ECMA array) for the messages below.
const (
	amfConnect      = "02 0007 636f6e6e656374"                 // "connect"
	amfCreateStream = "02 000c 63726561746553747265616d"       // "createStream"
	amfPublish      = "02 0007 7075626c697368"                 // "publish"
	amfSetDataFrame = "02 000d 40736574446174614672616d65"     // "@setDataFrame"
	amfOnMetaData   = "02 000a 6f6e4d65746144617461"           // "onMetaData"
	amfOne          = "00 3ff0000000000000"                    // 1
	amfTwo          = "00 4000000000000000"                    // 2
	amfZero         = "00 0000000000000000"                    // 0
	amfNull         = "05"                                     // null
	amfAppLive      = "03 0003 617070 02 0004 6c697665 000009" // {app: "live"}
	amfKey          = "02 0003 6b6579"                         // "key"
	amfLive         = "02 0004 6c697665"                       // "live"
	// ECMA array {width: 640}
	amfWidth640 = "08 00000001 0005 7769647468 00 4084000000000000 000009"
	// A shared object message's body (§7.1.3): name "so", version 1, no
	// flags, one Use event with no data.
	soUseBody = "0002 736f 00000001 0000000000000000 01 00000000"
)

// Types 17, 15 and 16 without the format selector byte that some older
// clients leave out are read like the specified form, and what reaches the
// application has its selector.
func TestServerAMF3WithoutSelector(t *testing.T) {
	packets := make(chan Packet, 8)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			t.Error(err)
			return
		}
		for {
			pk, err := ps.ReadPacket()
			if err != nil {
				close(packets)
				return
			}
			packets <- pk
		}
	})}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	raw := func(csid, sid uint32, typ message.Type, wire string) {
		p.send(csid, sid, 0, message.Raw{TypeID: typ, Payload: hexb(wire)})
	}
	// connect, type 17, no selector: answered in AMF3 form.
	raw(CSIDCommand, 0, message.TypeCommandAMF3, amfConnect+amfOne+amfAppLive)
	res := p.recvUntil("connect _result", func(m message.Message) bool { _, ok := m.(message.Command); return ok }).(message.Command)
	if res.Name != message.NameResult || res.TransactionID != 1 || !res.AMF3 {
		t.Fatalf("connect answer %+v, want an AMF3 _result 1", res)
	}
	if m := p.recv(); m != (message.SetChunkSize{Size: DefaultChunkSize}) {
		t.Fatalf("after _result: %#v", m)
	}
	p.r.SetChunkSize(DefaultChunkSize)
	raw(CSIDCommand, 0, message.TypeCommandAMF3, amfCreateStream+amfTwo+amfNull)
	if res := p.recvCommand(); res.Name != message.NameResult || res.TransactionID != 2 {
		t.Fatalf("createStream answer %+v", res)
	}
	raw(CSIDData, 1, message.TypeCommandAMF3, amfPublish+amfZero+amfNull+amfKey+amfLive)
	if code := p.statusOn(1); code != message.CodePublishStart {
		t.Fatalf("publish: %s", code)
	}
	// Data and shared object messages without the selector.
	dataWire := amfSetDataFrame + amfOnMetaData + amfWidth640
	raw(CSIDData, 1, message.TypeDataAMF3, dataWire)
	raw(CSIDData, 1, message.TypeSharedObjectAMF3, soUseBody)
	// And the specified forms still.
	raw(CSIDData, 1, message.TypeDataAMF3, "00"+dataWire)
	raw(CSIDData, 1, message.TypeSharedObjectAMF3, "00"+soUseBody)
	for i := range 4 {
		pk := <-packets
		want := []byte{0}
		if i%2 == 0 {
			if pk.Type != message.TypeDataAMF3 {
				t.Fatalf("packet %d: type %v", i, pk.Type)
			}
			want = append(want, hexb(dataWire)...)
		} else {
			if pk.Type != message.TypeSharedObjectAMF3 {
				t.Fatalf("packet %d: type %v", i, pk.Type)
			}
			want = append(want, hexb(soUseBody)...)
		}
		if !bytes.Equal(pk.Payload, want) {
			t.Fatalf("packet %d: % x, want % x", i, pk.Payload, want)
		}
		if _, err := pk.Message(); err != nil {
			t.Fatalf("packet %d does not decode: %v", i, err)
		}
	}
	// A selector that is neither 0 nor the start of an AMF 0 value stays
	// an error: the command ends the connection.
	raw(CSIDCommand, 0, message.TypeCommandAMF3, "07"+amfCreateStream+amfTwo+amfNull)
	if _, ok := <-packets; ok {
		t.Fatal("a packet after the bad command")
	}
}

// A Set Peer Bandwidth of 4 bytes (no limit type) is a hard limit: it is
// answered with Window Acknowledgement Size and the connection goes on.
func TestConnSetPeerBandwidthFourBytes(t *testing.T) {
	a, b := tcpPair(t)
	c := NewConn(a, nil)
	w := chunk.NewWriter(b)
	r := chunk.NewReader(b, nil)
	// §5.4.5 with the limit type left out: window size 5000.
	w.WriteMessage(chunk.Message{CSID: CSIDControl, Header: chunk.Header{TypeID: uint8(message.TypeSetPeerBandwidth)}, Payload: hexb("00001388")})
	w.Flush()
	if _, err := c.ReadMessage(); err != nil {
		t.Fatalf("4-byte Set Peer Bandwidth: %v", err)
	}
	if n, l, ok := c.PeerBandwidth(); !ok || n != 5000 || l != message.LimitHard {
		t.Fatalf("PeerBandwidth = %d %v %v, want 5000 hard", n, l, ok)
	}
	cm, err := r.ReadMessage()
	if err != nil || message.Type(cm.TypeID) != message.TypeWindowAckSize || !bytes.Equal(cm.Payload, hexb("00001388")) {
		t.Fatalf("answer: %+v %v, want Window Acknowledgement Size 5000", cm, err)
	}
}

// The same over a server connection: the peer's connect, createStream and
// publish go on after it.
func TestServerSetPeerBandwidthFourBytes(t *testing.T) {
	s := &Server{Handler: HandlerFunc(func(r *Request) { r.Reject("", "") })}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	p.send(CSIDControl, 0, 0, message.Raw{TypeID: message.TypeSetPeerBandwidth, Payload: hexb("00001388")})
	if m := p.recv(); m != (message.WindowAckSize{Size: 5000}) {
		t.Fatalf("answer %#v, want Window Acknowledgement Size 5000", m)
	}
	p.createStream()
}

// NetConnection close ends every stream of the connection as the client's
// own end (io.EOF).
func TestServerNetConnectionClose(t *testing.T) {
	ended := make(chan error, 2)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		for {
			if _, err := ps.ReadPacket(); err != nil {
				ended <- err
				return
			}
		}
	})}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	for i, name := range []string{"a", "b"} {
		id := p.createStreamID(float64(2 + i))
		p.send(CSIDData, id, 0, cmd("publish", 0, nil, name, "live"))
		if code := p.statusOn(id); code != message.CodePublishStart {
			t.Fatalf("publish %s: %s", name, code)
		}
	}
	p.send(CSIDCommand, 0, 0, message.Raw{TypeID: message.TypeCommandAMF0, Payload: hexb("02 0005 636c6f7365" + amfZero + amfNull)}) // "close", 0, null
	for range 2 {
		select {
		case err := <-ended:
			if err != io.EOF {
				t.Fatalf("ReadPacket after close: %v, want io.EOF", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a session did not end")
		}
	}
}

// A player's aggregate message is split: its shared object and command
// sub-messages become events, in order (§7.1.6).
func TestServerPlayAggregate(t *testing.T) {
	events := make(chan Event, 4)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			return
		}
		for {
			ev, err := ps.ReadEvent()
			if err != nil {
				close(events)
				return
			}
			events <- ev
		}
	})}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	p.createStream()
	p.send(CSIDData, 1, 0, cmd("play", 0, nil, "x"))
	if code := p.statusOn(1); code != message.CodePlayReset {
		t.Fatalf("play: %s", code)
	}
	seek, _ := cmd("seek", 0, nil, 1500.0).AppendPayload(nil)
	agg, err := message.AppendAggregate(nil, []message.SubMessage{
		{Type: message.TypeSharedObjectAMF0, Timestamp: 0, StreamID: 1, Payload: hexb(soUseBody)},
		{Type: message.TypeCommandAMF0, Timestamp: 10, StreamID: 1, Payload: seek},
	})
	if err != nil {
		t.Fatal(err)
	}
	p.send(CSIDData, 1, 100, message.Aggregate{Payload: agg})
	ev := <-events
	if ev.Kind != EventSharedObject || ev.SharedObject.Name != "so" || len(ev.SharedObject.Events) != 1 || ev.SharedObject.Events[0].Type != message.SOUse {
		t.Fatalf("first event %+v, want the shared object", ev)
	}
	if ev := <-events; ev.Kind != EventSeek || ev.Millis != 1500 {
		t.Fatalf("second event %+v, want the seek", ev)
	}
}

// scriptedServer accepts one connection on a loopback listener and does
// the server's handshake; the test drives the rest with a raw peer.
func scriptedServer(t *testing.T) (addr string, accept func() (*rawPeer, net.Conn)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), func() (*rawPeer, net.Conn) {
		t.Helper()
		nc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := handshake.Server(nc, nil); err != nil {
			t.Fatal(err)
		}
		return newRawPeer(t, nc), nc
	}
}

// A client against a server that writes what some real servers write: a
// 4-byte Set Peer Bandwidth, AMF3 commands without the selector, the
// capabilities in the connect _result's information object, a reconnect
// code at level error (not a reconnect request), an aggregate, and close.
func TestClientTolerance(t *testing.T) {
	addr, accept := scriptedServer(t)
	type dialed struct {
		p   *Publisher
		err error
	}
	done := make(chan dialed, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err := DialPublish(ctx, "rtmp://"+addr+"/live/key", nil)
		done <- dialed{p, err}
	}()
	srv, _ := accept()
	raw := func(csid, sid uint32, typ message.Type, wire string) {
		srv.send(csid, sid, 0, message.Raw{TypeID: typ, Payload: hexb(wire)})
	}
	srv.recvUntil("connect", func(m message.Message) bool { c, ok := m.(message.Command); return ok && c.Name == "connect" })
	raw(CSIDControl, 0, message.TypeSetPeerBandwidth, "00001388")
	// _result, 1, {fmsVer: "x"}, {level: "status", code: "NetConnection.Connect.Success", capsEx: 1, fourCcList: ["hvc1"]}
	result := "02 0007 5f726573756c74" + amfOne +
		"03 0006 666d73566572 02 0001 78 000009" +
		"03 0005 6c6576656c 02 0006 737461747573" +
		" 0004 636f6465 02 001d 4e6574436f6e6e656374696f6e2e436f6e6e6563742e53756363657373" +
		" 0006 636170734578 00 3ff0000000000000" +
		" 000a 666f75724363 4c697374 0a 00000001 02 0004 68766331 000009"
	raw(CSIDCommand, 0, message.TypeCommandAMF3, result)
	if m := srv.recv(); m != (message.WindowAckSize{Size: 5000}) {
		t.Fatalf("client's answer to Set Peer Bandwidth: %#v", m)
	}
	// releaseStream, FCPublish, createStream (tx 4).
	c := srv.recvUntil("createStream", func(m message.Message) bool { c, ok := m.(message.Command); return ok && c.Name == "createStream" }).(message.Command)
	raw(CSIDCommand, 0, message.TypeCommandAMF3, "02 0007 5f726573756c74"+hex.EncodeToString(num(c.TransactionID))+amfNull+amfOne)
	srv.recvUntil("publish", func(m message.Message) bool { c, ok := m.(message.Command); return ok && c.Name == "publish" })
	onStatus := func(level, code string) string {
		return "02 0008 6f6e537461747573" + amfZero + amfNull +
			"03 0005 6c6576656c 02" + hex.EncodeToString(u16s(level)) +
			" 0004 636f6465 02" + hex.EncodeToString(u16s(code)) + " 000009"
	}
	raw(CSIDData, 1, message.TypeCommandAMF3, onStatus("status", message.CodePublishStart))
	d := <-done
	if d.err != nil {
		t.Fatalf("DialPublish: %v", d.err)
	}
	p := d.p
	defer p.Conn().Close()
	caps := p.ServerCapabilities()
	if caps.CapsEx != message.CapsExReconnect || !reflect.DeepEqual(caps.FourCCList, []string{"hvc1"}) {
		t.Fatalf("server capabilities %+v, want those of the information object", caps)
	}
	raw(CSIDCommand, 0, message.TypeCommandAMF0, onStatus("error", message.CodeConnectReconnectRequest))
	raw(CSIDCommand, 0, message.TypeCommandAMF0, onStatus("status", message.CodeConnectReconnectRequest))
	agg, _ := message.AppendAggregate(nil, []message.SubMessage{{Type: message.TypeSharedObjectAMF0, StreamID: 1, Payload: hexb(soUseBody)}})
	srv.send(CSIDData, 1, 0, message.Aggregate{Payload: agg})
	want := []ClientEventKind{EventStatus, EventReconnectRequest, EventServerSharedObject}
	for i := 0; i < len(want); {
		ev, err := p.ReadEvent(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == EventStatus && ev.Code == message.CodePublishStart || ev.Kind == EventResult || ev.Kind == EventServerCall || ev.Kind == EventStreamBegin {
			continue
		}
		if ev.Kind != want[i] {
			t.Fatalf("event %d: %+v, want %v", i, ev, want[i])
		}
		i++
	}
}

// num is an AMF 0 number (§2.2).
func num(f float64) []byte {
	b, _ := amf0.Append(nil, f)
	return b
}

func u16s(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

// Close of a session whose peer is silent but open returns once the peer
// was quiet for the drain's idle bound, not after its whole budget; a peer
// that keeps sending is cut at the budget.
func TestCloseDrainBounds(t *testing.T) {
	for _, c := range []struct {
		name     string
		trickle  bool
		min, max time.Duration
	}{
		{"silent", false, drainIdle / 2, drainTime - drainIdle},
		{"trickling", true, drainTime - drainIdle/2, drainTime + time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := tcpPair(t)
			ps, err := acceptedRequest(&Server{}, a, KindPublish).AcceptPublish()
			if err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, b)
			stop := make(chan struct{})
			defer close(stop)
			if c.trickle {
				go func() {
					for {
						select {
						case <-stop:
							return
						case <-time.After(drainIdle / 5):
							b.Write([]byte{0})
						}
					}
				}()
			}
			start := time.Now()
			ps.Close()
			d := time.Since(start)
			t.Logf("Close took %v", d.Round(time.Millisecond))
			if d < c.min || d > c.max {
				t.Fatalf("Close took %v, want %v to %v", d, c.min, c.max)
			}
		})
	}
}

// The client's Close does not wait for its whole drain budget either when
// the server is silent but open.
func TestClientCloseSilentServer(t *testing.T) {
	addr, accept := scriptedServer(t)
	done := make(chan error, 1)
	var p *Publisher
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		p, err = DialPublish(ctx, "rtmp://"+addr+"/live/key", nil)
		done <- err
	}()
	srv, nc := accept()
	srv.recvUntil("connect", func(m message.Message) bool { c, ok := m.(message.Command); return ok && c.Name == "connect" })
	srv.send(CSIDCommand, 0, 0, message.NewResult(1, nil, message.NewStatus(message.LevelStatus, message.CodeConnectSuccess, "").Object()))
	c := srv.recvUntil("createStream", func(m message.Message) bool { c, ok := m.(message.Command); return ok && c.Name == "createStream" }).(message.Command)
	srv.send(CSIDCommand, 0, 0, message.NewCreateStreamResult(c.TransactionID, 1))
	srv.recvUntil("publish", func(m message.Message) bool { c, ok := m.(message.Command); return ok && c.Name == "publish" })
	srv.send(CSIDData, 1, 0, message.NewOnStatus(message.LevelStatus, message.CodePublishStart, ""))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The server reads on but says nothing and keeps its side open.
	go func() {
		for {
			if _, err := srv.r.ReadMessage(); err != nil {
				return
			}
		}
	}()
	_ = nc
	start := time.Now()
	p.Close()
	d := time.Since(start)
	t.Logf("Close took %v", d.Round(time.Millisecond))
	if d > drainTime-drainIdle/2 {
		t.Fatalf("Close took %v with a silent server; the idle bound is %v", d, drainIdle)
	}
}
