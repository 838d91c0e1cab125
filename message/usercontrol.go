package message

import (
	"encoding/binary"
	"strconv"
)

// EventType is the event type of a User Control message (§6.2, §7.1.7).
type EventType uint16

// The user control events of §7.1.7.
const (
	EventStreamBegin      EventType = 0 // stream ID: the stream has become functional
	EventStreamEOF        EventType = 1 // stream ID: playback is over
	EventStreamDry        EventType = 2 // stream ID: no more data for now
	EventSetBufferLength  EventType = 3 // stream ID, buffer length in ms
	EventStreamIsRecorded EventType = 4 // stream ID: the stream is recorded
	EventPingRequest      EventType = 6 // timestamp: the sender's local time
	EventPingResponse     EventType = 7 // timestamp: echoed from the request
)

// Event types that Flash Media Server and its clients use beyond §7.1.7.
// Their event data has no definition in the spec: UserControl keeps it in
// Data.
const (
	EventSWFVerifyRequest  EventType = 26
	EventSWFVerifyResponse EventType = 27
	EventBufferEmpty       EventType = 31
	EventBufferReady       EventType = 32
)

func (e EventType) String() string {
	switch e {
	case EventStreamBegin:
		return "StreamBegin"
	case EventStreamEOF:
		return "StreamEOF"
	case EventStreamDry:
		return "StreamDry"
	case EventSetBufferLength:
		return "SetBufferLength"
	case EventStreamIsRecorded:
		return "StreamIsRecorded"
	case EventPingRequest:
		return "PingRequest"
	case EventPingResponse:
		return "PingResponse"
	case EventSWFVerifyRequest:
		return "SWFVerifyRequest"
	case EventSWFVerifyResponse:
		return "SWFVerifyResponse"
	case EventBufferEmpty:
		return "BufferEmpty"
	case EventBufferReady:
		return "BufferReady"
	}
	return "EventType(" + strconv.Itoa(int(e)) + ")"
}

// UserControl is a User Control message (§6.2): an event type and its event
// data (§7.1.7).
//
//	+------------------------------+-------------------------
//	|     Event Type (16 bits)     | Event Data
//	+------------------------------+-------------------------
//
// The fields that hold the event data depend on Event:
//
//	StreamBegin, StreamEOF, StreamDry, StreamIsRecorded   StreamID
//	SetBufferLength                                       StreamID, BufferLength
//	PingRequest, PingResponse                             Timestamp
//	any other event type                                  Data
//
// For the events of §7.1.7, Data holds the bytes after the defined event
// data, if any, so that every payload re-encodes to the same bytes. Decoded
// Data aliases the payload.
type UserControl struct {
	Event        EventType
	StreamID     uint32
	BufferLength uint32 // milliseconds
	Timestamp    uint32
	Data         []byte
}

// NewStreamBegin returns a Stream Begin event for stream id.
func NewStreamBegin(id uint32) UserControl {
	return UserControl{Event: EventStreamBegin, StreamID: id}
}

// NewStreamEOF returns a Stream EOF event for stream id.
func NewStreamEOF(id uint32) UserControl {
	return UserControl{Event: EventStreamEOF, StreamID: id}
}

// NewStreamDry returns a StreamDry event for stream id.
func NewStreamDry(id uint32) UserControl {
	return UserControl{Event: EventStreamDry, StreamID: id}
}

// NewSetBufferLength returns a SetBuffer Length event: the client buffers
// ms milliseconds of stream id.
func NewSetBufferLength(id, ms uint32) UserControl {
	return UserControl{Event: EventSetBufferLength, StreamID: id, BufferLength: ms}
}

// NewStreamIsRecorded returns a StreamIsRecorded event for stream id.
func NewStreamIsRecorded(id uint32) UserControl {
	return UserControl{Event: EventStreamIsRecorded, StreamID: id}
}

// NewPingRequest returns a PingRequest carrying the sender's local time.
func NewPingRequest(timestamp uint32) UserControl {
	return UserControl{Event: EventPingRequest, Timestamp: timestamp}
}

// NewPingResponse returns the PingResponse to a PingRequest: "a 4-byte
// timestamp, which was received with the PingRequest request" (§7.1.7).
func NewPingResponse(timestamp uint32) UserControl {
	return UserControl{Event: EventPingResponse, Timestamp: timestamp}
}

// UnmarshalUserControl decodes a User Control payload. An event of §7.1.7
// whose event data is shorter than defined fails with ErrTruncated.
func UnmarshalUserControl(b []byte) (UserControl, error) {
	if len(b) < 2 {
		return UserControl{}, truncated(TypeUserControl, "event type")
	}
	m := UserControl{Event: EventType(binary.BigEndian.Uint16(b))}
	b = b[2:]
	switch m.Event {
	case EventStreamBegin, EventStreamEOF, EventStreamDry, EventStreamIsRecorded:
		if len(b) < 4 {
			return UserControl{}, truncated(TypeUserControl, "stream id")
		}
		m.StreamID = binary.BigEndian.Uint32(b)
		b = b[4:]
	case EventSetBufferLength:
		if len(b) < 4 {
			return UserControl{}, truncated(TypeUserControl, "stream id")
		}
		if len(b) < 8 {
			return UserControl{}, truncated(TypeUserControl, "buffer length")
		}
		m.StreamID = binary.BigEndian.Uint32(b)
		m.BufferLength = binary.BigEndian.Uint32(b[4:])
		b = b[8:]
	case EventPingRequest, EventPingResponse:
		if len(b) < 4 {
			return UserControl{}, truncated(TypeUserControl, "timestamp")
		}
		m.Timestamp = binary.BigEndian.Uint32(b)
		b = b[4:]
	}
	m.Data = nilIfEmpty(b)
	return m, nil
}

// Type returns TypeUserControl.
func (UserControl) Type() Type { return TypeUserControl }

// AppendPayload appends the event type, the event data that Event defines
// and Data.
func (m UserControl) AppendPayload(dst []byte) ([]byte, error) {
	dst = binary.BigEndian.AppendUint16(dst, uint16(m.Event))
	switch m.Event {
	case EventStreamBegin, EventStreamEOF, EventStreamDry, EventStreamIsRecorded:
		dst = binary.BigEndian.AppendUint32(dst, m.StreamID)
	case EventSetBufferLength:
		dst = binary.BigEndian.AppendUint32(dst, m.StreamID)
		dst = binary.BigEndian.AppendUint32(dst, m.BufferLength)
	case EventPingRequest, EventPingResponse:
		dst = binary.BigEndian.AppendUint32(dst, m.Timestamp)
	}
	return append(dst, m.Data...), nil
}
