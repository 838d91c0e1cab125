package rtmp

import (
	"fmt"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// A View is the typed form of a Packet, as Packet.View returns it. Like
// encoding/xml's Token, it holds one of a fixed set of types, and a type
// switch takes it apart:
//
//	Go type               packet type              what it is
//	*flv.VideoTag         video (9)                legacy or Enhanced RTMP video tag; Tracks walks a multitrack one
//	*flv.AudioTag         audio (8)                legacy or Enhanced RTMP audio tag; Silence for an empty payload
//	message.Data          data (18, 15)            onMetaData, @setDataFrame, |RtmpSampleAccess, cue points
//	message.Command       command (20, 17)         read further with message.ParsePublish, ParsePlay, Command.Status, ...
//	message.SharedObject  shared object (19, 16)   name, version, flags and events
//	message.UserControl   user control (4)         StreamBegin, StreamEOF, PingRequest, ...
//	message.Aggregate     aggregate (22)           Split gives its sub-messages
//	message.SetChunkSize, message.Abort, message.Acknowledgement,
//	message.WindowAckSize, message.SetPeerBandwidth
//	                      protocol control (1-3, 5, 6)
//	message.Raw           any other type
//
// The first two are pointers to values View made; the others are the values
// message.Decode returns.
type View any

// View returns the typed form of the packet (see View): the audio or video
// tag parsed with package flv, every other message decoded with
// message.Decode. A payload its parser rejects gives that parser's error,
// wrapped with the packet type, and a nil View; the one exception is
// message.Decode's, a Set Chunk Size with its reserved bit set, which
// comes with its value.
//
// The result aliases the payload as its parser's does: a tag's Data (and
// ModEx), UserControl.Data, SharedObjectEvent.Data, Aggregate and Raw
// payloads point into p.Payload; strings and AMF values never do.
//
//	v, err := pkt.View()
//	switch v := v.(type) {
//	case *flv.VideoTag:
//		if v.IsKeyFrame() { ... }
//	case message.Data:
//		if meta, ok := v.MetaData(); ok { ... }
//	case message.Command:
//		...
//	}
func (p Packet) View() (View, error) {
	switch p.Type {
	case message.TypeVideo:
		v := new(flv.VideoTag)
		if err := v.Unmarshal(p.Payload); err != nil {
			return nil, fmt.Errorf("rtmp: video packet: %w", err)
		}
		return v, nil
	case message.TypeAudio:
		a := new(flv.AudioTag)
		if err := a.Unmarshal(p.Payload); err != nil {
			return nil, fmt.Errorf("rtmp: audio packet: %w", err)
		}
		return a, nil
	}
	m, err := message.Decode(p.Type, p.Payload)
	if err != nil {
		err = fmt.Errorf("rtmp: %v packet: %w", p.Type, err)
	}
	if m == nil {
		return nil, err
	}
	return m, err
}
