package rtmp

import (
	"bytes"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// repeatConn is a net.Conn whose reads return the same chunked bytes over
// and over: a publisher that never stops, with no socket in the way.
type repeatConn struct {
	net.Conn
	wire    []byte
	off     int
	stopped atomic.Bool // a read deadline in the past was set
}

func (c *repeatConn) SetReadDeadline(t time.Time) error {
	c.stopped.Store(!t.IsZero() && time.Until(t) <= 0)
	return nil
}

func (c *repeatConn) Read(p []byte) (int, error) {
	if c.stopped.Load() {
		return 0, os.ErrDeadlineExceeded
	}
	n := copy(p, c.wire[c.off:])
	c.off = (c.off + n) % len(c.wire)
	return n, nil
}

func (c *repeatConn) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkPublishReadPacket measures PublishSession.ReadPacket on a stream
// of 4 KB video messages: the publisher's hot path. Kept: the payloads are
// kept (each slab is new memory, as for a stream players watch); recycled:
// each is given back (Recycle) 256 packets later, as a live server gives
// back a GOP nobody watched.
func BenchmarkPublishReadPacket(b *testing.B) {
	b.Run("kept", func(b *testing.B) { benchPublishRead(b, 0) })
	b.Run("recycled", func(b *testing.B) { benchPublishRead(b, 256) })
}

func benchPublishRead(b *testing.B, window int) {
	var wire bytes.Buffer
	w := chunk.NewWriter(&wire)
	w.SetChunkSize(4096)
	body := bytes.Repeat([]byte{0x27, 1}, 2048)
	const n = 64
	for i := 0; i < n; i++ {
		w.WriteMessage(chunk.Message{CSID: CSIDVideo, Header: chunk.Header{Timestamp: uint32(i * 33), TypeID: uint8(message.TypeVideo), StreamID: 1}, Payload: body})
	}
	w.Flush()
	a, _ := net.Pipe()
	defer a.Close()
	nc := &repeatConn{Conn: a, wire: wire.Bytes()}
	srv := &Server{}
	ps, err := acceptedRequest(srv, nc, KindPublish).AcceptPublish()
	if err != nil {
		b.Fatal(err)
	}
	ps.conn.r.SetChunkSize(4096)
	ps.conn.SetReadTimeout(0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	ring := make([][]byte, window)
	for i := 0; i < b.N; i++ {
		pk, err := ps.ReadPacket()
		if err != nil {
			b.Fatal(err)
		}
		if window > 0 {
			j := i % window
			if ring[j] != nil {
				ps.Recycle(ring[j])
			}
			ring[j] = pk.Payload
		}
	}
}

// BenchmarkPublishReadPacketTwoStreams is the same with two NetStreams on
// the connection: the pump reads, each session takes its messages from
// its inbox (the other stream's are read and dropped by a goroutine).
func BenchmarkPublishReadPacketTwoStreams(b *testing.B) {
	var wire bytes.Buffer
	w := chunk.NewWriter(&wire)
	w.SetChunkSize(4096)
	body := bytes.Repeat([]byte{0x27, 1}, 2048)
	for i := 0; i < 64; i++ {
		for sid := uint32(1); sid <= 2; sid++ {
			w.WriteMessage(chunk.Message{CSID: CSIDVideo + sid - 1, Header: chunk.Header{Timestamp: uint32(i * 33), TypeID: uint8(message.TypeVideo), StreamID: sid}, Payload: body})
		}
	}
	w.Flush()
	a, _ := net.Pipe()
	defer a.Close()
	nc := &repeatConn{Conn: a, wire: wire.Bytes()}
	srv := &Server{}
	r1 := acceptedRequest(srv, nc, KindPublish)
	c := r1.c
	r2 := &Request{c: c, Kind: KindPublish, StreamName: "k2", StreamID: 2, RemoteAddr: nc.RemoteAddr()}
	r2.ns = &netStream{id: 2, req: r2, in: newInbox()}
	c.streams[2] = r2.ns
	c.open = 2
	ps1, err := r1.AcceptPublish()
	if err != nil {
		b.Fatal(err)
	}
	ps2, err := r2.AcceptPublish()
	if err != nil {
		b.Fatal(err)
	}
	c.conn.r.SetChunkSize(4096)
	c.conn.SetReadTimeout(0)
	c.multi.Store(true)
	c.pumpDone = make(chan struct{})
	go c.pump()
	go func() {
		for {
			if _, err := ps2.ReadPacket(); err != nil {
				return
			}
		}
	}()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ps1.ReadPacket(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	ps1.Close()
	ps2.Close()
	<-c.pumpDone
}
