package message_test

import (
	"fmt"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/message"
)

// A server reads a publisher's commands and answers them.
func Example() {
	// "publish", 5, null, "stream", "live" as FFmpeg sends it (§7.2.2.6).
	payload, _ := message.Publish{TransactionID: 5, Name: "stream", Type: message.PublishLive}.Command().AppendPayload(nil)

	m, err := message.Decode(message.TypeCommandAMF0, payload)
	if err != nil {
		panic(err)
	}
	c := m.(message.Command)
	switch c.Name {
	case message.NamePublish:
		p, err := message.ParsePublish(c)
		if err != nil {
			panic(err)
		}
		fmt.Printf("publish %q (%s), transaction %v\n", p.Name, p.Type, p.TransactionID)

		reply := message.NewOnStatus(message.LevelStatus, message.CodePublishStart, "Start publishing")
		b, _ := reply.AppendPayload(nil)
		fmt.Printf("reply: %v, %d bytes\n", reply.Type(), len(b))
	}

	// Protocol control messages.
	m, _ = message.Decode(message.TypeSetPeerBandwidth, []byte{0x00, 0x26, 0x25, 0xa0, 0x02})
	spb := m.(message.SetPeerBandwidth)
	size, limit, changed := message.ApplyPeerBandwidth(2500000, message.LimitHard, true, spb)
	fmt.Println(spb.Limit, size, limit, changed)

	// Output:
	// publish "stream" (live), transaction 5
	// reply: CommandAMF0, 105 bytes
	// Dynamic 2500000 Hard false
}

// A publisher's metadata, stored and forwarded as onMetaData.
func ExampleData_Unwrap() {
	set := message.NewSetDataFrame(amf0.NewECMAArray(
		amf0.Property{Key: "width", Value: 1280.0},
		amf0.Property{Key: "height", Value: 720.0},
	))
	payload, _ := set.AppendPayload(nil)

	m, _ := message.Decode(message.TypeDataAMF0, payload)
	d := m.(message.Data)
	fmt.Println(d.IsSetDataFrame())
	stored := d.Unwrap()
	name, _ := stored.Name()
	meta, _ := stored.MetaData()
	w, _ := meta.GetNumber("width")
	fmt.Println(name, w)
	// Output:
	// true
	// onMetaData 1280
}

// Splitting an aggregate message without allocating.
func ExampleAggregateIterator() {
	payload, _ := message.AppendAggregate(nil, []message.SubMessage{
		{Type: message.TypeAudio, Timestamp: 5000, StreamID: 1, Payload: []byte{0xaf, 0x01}},
		{Type: message.TypeVideo, Timestamp: 5020, StreamID: 1, Payload: []byte{0x27, 0x01}},
	})
	// The aggregate arrives with timestamp 100: sub-message timestamps are
	// renormalized to it (§7.1.6).
	it := message.NewAggregateIterator(payload, 100)
	for it.Next() {
		s := it.Message()
		fmt.Println(s.Type, s.Timestamp, len(s.Payload))
	}
	if err := it.Err(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Audio 100 2
	// Video 120 2
}

// Asking an Enhanced RTMP client to reconnect elsewhere.
func ExampleNewReconnectRequest() {
	c := message.NewReconnectRequest("rtmp://edge2.example.com/live", "server maintenance")
	r, ok := message.ParseReconnectRequest(c)
	fmt.Println(ok, r.TcURL)
	// Output:
	// true rtmp://edge2.example.com/live
}
