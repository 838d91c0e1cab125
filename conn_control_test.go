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
