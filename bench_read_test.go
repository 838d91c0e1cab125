package rtmp

import (
	"bytes"
	"net"
	"testing"

	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// repeatConn is a net.Conn whose reads return the same chunked bytes over
// and over: a publisher that never stops, with no socket in the way.
type repeatConn struct {
	net.Conn
	wire []byte
	off  int
}

func (c *repeatConn) Read(p []byte) (int, error) {
	n := copy(p, c.wire[c.off:])
	c.off = (c.off + n) % len(c.wire)
	return n, nil
}

func (c *repeatConn) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkPublishReadPacket measures PublishSession.ReadPacket on a stream
// of 4 KB video messages: the publisher's hot path.
func BenchmarkPublishReadPacket(b *testing.B) {
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
	for i := 0; i < b.N; i++ {
		if _, err := ps.ReadPacket(); err != nil {
			b.Fatal(err)
		}
	}
}
