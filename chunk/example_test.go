package chunk_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ertmp/rtmp/chunk"
)

func Example() {
	var conn bytes.Buffer // stands in for a net.Conn

	// Sender: raise the chunk size (announce it first, at the old size),
	// then write two audio messages.
	w := chunk.NewWriter(&conn)
	w.WriteMessage(chunk.Message{CSID: 2, Header: chunk.Header{TypeID: 1}, Payload: []byte{0, 0, 0x10, 0}})
	w.SetChunkSize(4096)
	for ts := uint32(1000); ts <= 1020; ts += 20 {
		w.WriteMessage(chunk.Message{
			CSID:    4,
			Header:  chunk.Header{Timestamp: ts, TypeID: 8, StreamID: 1},
			Payload: make([]byte, 300),
		})
	}
	w.Flush()

	// Receiver: apply Set Chunk Size when it arrives.
	r := chunk.NewReader(&conn, nil)
	for {
		m, err := r.ReadMessage()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("csid %d type %d ts %d stream %d: %d bytes\n", m.CSID, m.TypeID, m.Timestamp, m.StreamID, len(m.Payload))
		if m.TypeID == 1 {
			r.SetChunkSize(uint32(m.Payload[0])<<24 | uint32(m.Payload[1])<<16 | uint32(m.Payload[2])<<8 | uint32(m.Payload[3]))
		}
	}
	fmt.Println("bytes read:", r.BytesRead(), "written:", w.BytesWritten())

	// Output:
	// csid 2 type 1 ts 0 stream 0: 4 bytes
	// csid 4 type 8 ts 1000 stream 1: 300 bytes
	// csid 4 type 8 ts 1020 stream 1: 300 bytes
	// bytes read: 632 written: 632
}

func ExampleWriter_WritePrepared() {
	// The live server chunks a media message once...
	p, err := chunk.NewPrepared(chunk.Message{
		CSID:    6,
		Header:  chunk.Header{Timestamp: 40, TypeID: 9, StreamID: 1},
		Payload: make([]byte, 10000),
	}, 4096)
	if err != nil {
		panic(err)
	}
	// ...and queues the same bytes for every subscriber.
	subscribers := []*chunk.Writer{chunk.NewWriter(io.Discard), chunk.NewWriter(io.Discard)}
	for _, w := range subscribers {
		w.SetChunkSize(4096) // after sending Set Chunk Size 4096 to the player
		if err := w.WritePrepared(p); err != nil {
			panic(err)
		}
		w.Flush()
		fmt.Println(w.BytesWritten())
	}
	// Output:
	// 10014
	// 10014
}

// An Unwrapper re-times a stream whose 32-bit timestamps wrap: 10000 after
// 4000000000 is 2^32 + 10000 (§4).
func ExampleUnwrapper() {
	var u chunk.Unwrapper
	for _, ts := range []uint32{4294967000, 4294967290, 10, 3000} {
		fmt.Println(u.Unwrap(ts))
	}
	// Output:
	// 4294967000
	// 4294967290
	// 4294967306
	// 4294970296
}

// CheckIDs tells a protocol control message on the wrong streams.
func ExampleCheckIDs() {
	err := chunk.CheckIDs(3, chunk.Header{TypeID: 1, StreamID: 1})
	fmt.Println(errors.Is(err, chunk.ErrControlStream), err)
	fmt.Println(chunk.KindOf(1), chunk.KindOf(0x01000000))
	// Output:
	// true chunk: csid 3: type 1 on message stream 1: control message off the control streams
	// netstream reserved
}
