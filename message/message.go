package message

// Message is a typed RTMP message: one of SetChunkSize, Abort,
// Acknowledgement, UserControl, WindowAckSize, SetPeerBandwidth, Audio,
// Video, Data, SharedObject, Command, Aggregate and Raw. The header fields
// that the chunk layer carries (timestamp, message stream ID) are not part
// of it.
type Message interface {
	// Type returns the message type ID to send the payload with.
	Type() Type
	// AppendPayload appends the encoded payload to dst. On error it
	// returns dst unchanged.
	AppendPayload(dst []byte) ([]byte, error)
}

// Decode decodes the payload of a message of type t. Types this package does
// not know decode to a Raw holding the payload as it is.
//
// Byte-slice fields of the result (Audio, Video, Raw and Aggregate
// payloads, UserControl.Data, SharedObjectEvent.Data) alias payload; copy
// them to keep them after the payload's buffer is reused. Strings and AMF
// values never alias it.
//
// Decode returns a usable message together with an error in one case only:
// a Set Chunk Size whose reserved top bit is set (see
// UnmarshalSetChunkSize). In every other case a non-nil error comes with a
// nil Message. No input makes Decode panic.
func Decode(t Type, payload []byte) (Message, error) {
	switch t {
	case TypeSetChunkSize:
		m, err := UnmarshalSetChunkSize(payload)
		if err != nil && m.Size == 0 {
			return nil, err
		}
		return m, err
	case TypeAbort:
		return decodeValue(UnmarshalAbort(payload))
	case TypeAcknowledgement:
		return decodeValue(UnmarshalAcknowledgement(payload))
	case TypeUserControl:
		return decodeValue(UnmarshalUserControl(payload))
	case TypeWindowAckSize:
		return decodeValue(UnmarshalWindowAckSize(payload))
	case TypeSetPeerBandwidth:
		return decodeValue(UnmarshalSetPeerBandwidth(payload))
	case TypeAudio:
		return Audio{Payload: payload}, nil
	case TypeVideo:
		return Video{Payload: payload}, nil
	case TypeDataAMF0, TypeDataAMF3:
		return decodeValue(UnmarshalData(t, payload))
	case TypeSharedObjectAMF0, TypeSharedObjectAMF3:
		return decodeValue(UnmarshalSharedObject(t, payload))
	case TypeCommandAMF0, TypeCommandAMF3:
		return decodeValue(UnmarshalCommand(t, payload))
	case TypeAggregate:
		return Aggregate{Payload: payload}, nil
	}
	return Raw{TypeID: t, Payload: payload}, nil
}

// decodeValue turns a (value, error) pair into a (Message, error) pair with
// a nil Message on error.
func decodeValue[M Message](m M, err error) (Message, error) {
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Raw is a message of a type this package does not decode, kept as it is.
type Raw struct {
	TypeID  Type
	Payload []byte // aliases the decoded payload
}

// Type returns r.TypeID.
func (r Raw) Type() Type { return r.TypeID }

// AppendPayload appends r.Payload.
func (r Raw) AppendPayload(dst []byte) ([]byte, error) { return append(dst, r.Payload...), nil }

// Audio is an audio message (§7.1.4): an FLV AUDIODATA tag body, legacy or
// Enhanced RTMP, which package flv parses. Decode returns it aliasing the
// payload.
type Audio struct {
	Payload []byte
}

// Type returns TypeAudio.
func (Audio) Type() Type { return TypeAudio }

// AppendPayload appends a.Payload.
func (a Audio) AppendPayload(dst []byte) ([]byte, error) { return append(dst, a.Payload...), nil }

// Video is a video message (§7.1.5): an FLV VIDEODATA tag body, legacy or
// Enhanced RTMP, which package flv parses. Decode returns it aliasing the
// payload.
type Video struct {
	Payload []byte
}

// Type returns TypeVideo.
func (Video) Type() Type { return TypeVideo }

// AppendPayload appends v.Payload.
func (v Video) AppendPayload(dst []byte) ([]byte, error) { return append(dst, v.Payload...), nil }

// nilIfEmpty keeps empty byte fields nil, so that decoded values compare
// equal to built ones.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
