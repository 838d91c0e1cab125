package rtmp

import (
	"net"
	"testing"
	"time"

	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// A control reply does not wait behind a writer that holds the connection
// (a flush to a slow peer): it is queued and goes out when the writer lets
// go; acknowledgements are coalesced to the latest.
func TestControlRepliesDoNotWaitForTheWriter(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := NewConn(a, nil)
	c.wmu.Lock() // a writer in the middle of a flush
	done := make(chan error, 1)
	go func() {
		if err := c.writeControl(message.NewPingResponse(7)); err != nil {
			done <- err
			return
		}
		c.writeControl(message.Acknowledgement{SequenceNumber: 100})
		done <- c.writeControl(message.Acknowledgement{SequenceNumber: 200})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a control reply waited for the writer")
	}
	if n := len(c.pending); n != 2 {
		t.Fatalf("%d pending, want the ping response and one acknowledgement", n)
	}
	got := make(chan []chunk.Message, 1)
	go func() {
		r := chunk.NewReader(b, nil)
		var ms []chunk.Message
		for range 2 {
			m, err := r.ReadMessage()
			if err != nil {
				break
			}
			m.Payload = append([]byte(nil), m.Payload...)
			ms = append(ms, m)
		}
		got <- ms
	}()
	c.unlockWrite() // the writer lets go: the queue goes out
	ms := <-got
	if len(ms) != 2 {
		t.Fatalf("%d messages", len(ms))
	}
	if ev, err := message.UnmarshalUserControl(ms[0].Payload); err != nil || ev.Event != message.EventPingResponse || ev.Timestamp != 7 {
		t.Fatalf("first %+v %v", ev, err)
	}
	if ack, err := message.Decode(message.Type(ms[1].TypeID), ms[1].Payload); err != nil || ack.(message.Acknowledgement).SequenceNumber != 200 {
		t.Fatalf("second %+v %v", ack, err)
	}
}

// A peer that sets Window Acknowledgement Size 1 gets one acknowledgement
// per batch of messages read, not one per message (no acknowledgement
// storm), and never for less than minAckWindow bytes.
func TestAcknowledgementsCoalesced(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := NewConn(a, nil)
	var wire []byte
	wire, _ = chunk.Encode(wire, chunk.Message{CSID: 2, Header: chunk.Header{TypeID: uint8(message.TypeWindowAckSize)}, Payload: []byte{0, 0, 0, 1}}, 128)
	for i := range 2000 {
		wire, _ = chunk.Encode(wire, chunk.Message{CSID: 4, Header: chunk.Header{Timestamp: uint32(i), TypeID: 8, StreamID: 1}, Payload: []byte{0xaf, 1, 2, 3, 4, 5, 6, 7}}, 128)
	}
	acks := make(chan int, 1)
	go func() {
		r := chunk.NewReader(b, nil)
		n := 0
		for {
			m, err := r.ReadMessage()
			if err != nil {
				acks <- n
				return
			}
			if message.Type(m.TypeID) == message.TypeAcknowledgement {
				n++
			}
		}
	}()
	go func() {
		b.Write(wire) // net.Pipe: the reader takes it in pieces as it reads
		// then the peer waits: the connection's reader is at the end of a batch
	}()
	for range 2001 {
		if _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}
	a.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	c.ReadMessage() // reaches the end of the batch: the last acknowledgement goes
	a.Close()
	n := <-acks
	if n < 1 || n > len(wire)/minAckWindow+2 {
		t.Fatalf("%d acknowledgements for %d bytes in 2001 messages", n, len(wire))
	}
	t.Logf("%d acknowledgements for %d bytes in 2001 messages", n, len(wire))
}
