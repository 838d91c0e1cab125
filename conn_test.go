package rtmp

import (
	"bytes"
	"errors"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- nil
			return
		}
		ch <- c
	}()
	a, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b = <-ch
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	deadline := time.Now().Add(10 * time.Second)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)
	return a, b
}

// rawPeer is the other end, driven by the test through the codecs.
type rawPeer struct {
	t *testing.T
	w *chunk.Writer
	r *chunk.Reader
}

func newRawPeer(t *testing.T, nc net.Conn) *rawPeer {
	return &rawPeer{t: t, w: chunk.NewWriter(nc), r: chunk.NewReader(nc, nil)}
}

func (p *rawPeer) send(csid, streamID, ts uint32, m message.Message) {
	p.t.Helper()
	payload, err := m.AppendPayload(nil)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.w.WriteMessage(chunk.Message{CSID: csid, Header: chunk.Header{Timestamp: ts, TypeID: uint8(m.Type()), StreamID: streamID}, Payload: payload}); err != nil {
		p.t.Fatal(err)
	}
	if err := p.w.Flush(); err != nil {
		p.t.Fatal(err)
	}
}

func (p *rawPeer) recv() message.Message {
	p.t.Helper()
	cm, err := p.r.ReadMessage()
	if err != nil {
		p.t.Fatalf("peer read: %v", err)
	}
	m, err := message.Decode(message.Type(cm.TypeID), bytes.Clone(cm.Payload))
	if err != nil {
		p.t.Fatalf("peer decode: %v", err)
	}
	return m
}

func TestConnProtocolControl(t *testing.T) {
	a, b := tcpPair(t)
	c := NewConn(a, nil)
	peer := newRawPeer(t, b)

	// Ping: answered with the same timestamp, without the caller's help.
	peer.send(CSIDControl, 0, 0, message.NewPingRequest(1234))
	if m, err := c.ReadMessage(); err != nil || message.Type(m.TypeID) != message.TypeUserControl {
		t.Fatalf("read = %v, %v", m, err)
	}
	if got := peer.recv(); !reflect.DeepEqual(got, message.NewPingResponse(1234)) {
		t.Fatalf("answer to PingRequest = %#v", got)
	}

	// Set Peer Bandwidth: a new size is answered with Window Ack Size (§5.4.5).
	peer.send(CSIDControl, 0, 0, message.SetPeerBandwidth{Size: 5000, Limit: message.LimitHard})
	c.ReadMessage()
	if got := peer.recv(); got != (message.WindowAckSize{Size: 5000}) {
		t.Fatalf("answer to SetPeerBandwidth = %#v", got)
	}
	if n, l, ok := c.PeerBandwidth(); !ok || n != 5000 || l != message.LimitHard {
		t.Fatalf("PeerBandwidth = %d %v %v", n, l, ok)
	}
	// A soft limit above the current one changes nothing and gets no answer;
	// the next thing the peer hears is the ping answer below.
	peer.send(CSIDControl, 0, 0, message.SetPeerBandwidth{Size: 9000, Limit: message.LimitSoft})
	c.ReadMessage()

	// Set Chunk Size: a 3000-byte message then comes in one chunk.
	peer.send(CSIDControl, 0, 0, message.SetChunkSize{Size: 4096})
	if err := peer.w.SetChunkSize(4096); err != nil {
		t.Fatal(err)
	}
	c.ReadMessage()
	big := bytes.Repeat([]byte{7}, 3000)
	peer.send(CSIDVideo, 1, 40, message.Video{Payload: big})
	m, err := c.ReadMessage()
	if err != nil || !bytes.Equal(m.Payload, big) || m.Timestamp != 40 || m.StreamID != 1 {
		t.Fatalf("video after Set Chunk Size: %v, %d bytes", err, len(m.Payload))
	}
	peer.send(CSIDControl, 0, 0, message.NewPingRequest(99))
	c.ReadMessage()
	if got := peer.recv(); !reflect.DeepEqual(got, message.NewPingResponse(99)) {
		t.Fatalf("after the soft limit, got %#v, want only the ping answer", got)
	}

	// Window Acknowledgement Size: an Acknowledgement of the byte count once
	// a window has arrived (§5.4.3).
	peer.send(CSIDControl, 0, 0, message.WindowAckSize{Size: 10000})
	c.ReadMessage()
	for i := 0; i < 4; i++ {
		peer.send(CSIDVideo, 1, uint32(80+i), message.Video{Payload: big})
		if _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}
	ack, ok := peer.recv().(message.Acknowledgement)
	if !ok || ack.SequenceNumber < 10000 || uint64(ack.SequenceNumber) > c.BytesRead() {
		t.Fatalf("acknowledgement = %#v after %d bytes", ack, c.BytesRead())
	}
}

func TestConnAbort(t *testing.T) {
	a, b := tcpPair(t)
	c := NewConn(a, nil)
	// A 300-byte message is cut after its first 128-byte chunk by an Abort;
	// the next message on that chunk stream starts fresh.
	var wire []byte
	wire, _ = chunk.Encode(wire, chunk.Message{CSID: 6, Header: chunk.Header{TypeID: 8, StreamID: 1}, Payload: make([]byte, 300)}, 128)
	first := wire[:1+11+128]
	abort, _ := message.Abort{CSID: 6}.AppendPayload(nil)
	ab, _ := chunk.Encode(nil, chunk.Message{CSID: 2, Header: chunk.Header{TypeID: uint8(message.TypeAbort)}, Payload: abort}, 128)
	next, _ := chunk.Encode(nil, chunk.Message{CSID: 6, Header: chunk.Header{Timestamp: 5, TypeID: 8, StreamID: 1}, Payload: []byte{0xAF, 1}}, 128)
	go func() {
		b.Write(first)
		b.Write(ab)
		b.Write(next)
	}()
	if m, err := c.ReadMessage(); err != nil || message.Type(m.TypeID) != message.TypeAbort {
		t.Fatalf("first message = %+v, %v, want the Abort", m, err)
	}
	m, err := c.ReadMessage()
	if err != nil || !bytes.Equal(m.Payload, []byte{0xAF, 1}) || m.Timestamp != 5 {
		t.Fatalf("after Abort: %+v, %v", m, err)
	}
}

func TestConnBadControl(t *testing.T) {
	for name, m := range map[string]chunk.Message{
		"chunk size 0":          {CSID: 2, Header: chunk.Header{TypeID: 1}, Payload: []byte{0, 0, 0, 0}},
		"truncated chunk size":  {CSID: 2, Header: chunk.Header{TypeID: 1}, Payload: []byte{0, 0, 1}},
		"truncated window size": {CSID: 2, Header: chunk.Header{TypeID: 5}, Payload: []byte{0}},
		"truncated ping":        {CSID: 2, Header: chunk.Header{TypeID: 4}, Payload: []byte{0, 6, 1}},
		"truncated bandwidth":   {CSID: 2, Header: chunk.Header{TypeID: 6}, Payload: []byte{0, 0, 1}}, // 4 bytes are read as a hard limit
	} {
		t.Run(name, func(t *testing.T) {
			a, b := tcpPair(t)
			c := NewConn(a, nil)
			w := chunk.NewWriter(b)
			w.WriteMessage(m)
			w.Flush()
			if _, err := c.ReadMessage(); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestConnReadTimeout(t *testing.T) {
	a, _ := tcpPair(t)
	c := NewConn(a, &ConnConfig{ReadTimeout: 50 * time.Millisecond})
	start := time.Now()
	_, err := c.ReadMessage()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timed out after %v", d)
	}
}

func TestConnSetChunkSizeAndCounters(t *testing.T) {
	a, b := tcpPair(t)
	c := NewConn(a, nil)
	peer := newRawPeer(t, b)
	if err := c.SetChunkSize(8192); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{1}, 8000)
	c.Write(CSIDVideo, 1, 0, message.Video{Payload: big})
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := peer.recv(); got != (message.SetChunkSize{Size: 8192}) {
		t.Fatalf("first = %#v", got)
	}
	peer.r.SetChunkSize(8192)
	if v, ok := peer.recv().(message.Video); !ok || !bytes.Equal(v.Payload, big) {
		t.Fatal("video not received whole")
	}
	// 12 bytes of header for Set Chunk Size + 4 payload, 12 + 8000 for the
	// video in one chunk.
	if n := c.BytesWritten(); n != 12+4+12+8000 {
		t.Fatalf("BytesWritten = %d", n)
	}
}

// SetReadTimeout reaches a read that is already waiting.
func TestConnSetReadTimeoutWhileReading(t *testing.T) {
	a, _ := tcpPair(t)
	c := NewConn(a, &ConnConfig{ReadTimeout: -1})
	errc := make(chan error, 1)
	go func() {
		_, err := c.ReadMessage()
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond) // the read is waiting, with no deadline
	c.SetReadTimeout(100 * time.Millisecond)
	select {
	case err := <-errc:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("err = %v, want a timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting read never timed out")
	}
}
