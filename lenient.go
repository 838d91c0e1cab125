package rtmp

import "github.com/ertmp/rtmp/message"

// What real peers send that the specification does not say.
//
// AMF3 messages without their format selector: the payload of a type 15,
// 16 or 17 message starts with a format selector byte, 0 for AMF 0 values
// (Enhanced RTMP v2, "Important AMF3-encoded Historical Specification
// Clarification"), and package message insists on it. Some older clients
// leave it out and start with the first AMF 0 value. ertmp reads both
// forms: the message as specified first, and when that fails, as the same
// values without the selector. Messages it passes on are given back their
// selector, so what reaches an application or a player is in the specified
// form.

// decodeCommand decodes a command message, in either form for type 17.
func decodeCommand(t message.Type, b []byte) (message.Command, error) {
	cmd, err := message.UnmarshalCommand(t, b)
	if err == nil || t != message.TypeCommandAMF3 {
		return cmd, err
	}
	if c, err2 := message.UnmarshalCommand(message.TypeCommandAMF0, b); err2 == nil {
		c.AMF3 = true
		return c, nil
	}
	return cmd, err
}

// decodeData decodes a data message, in either form for type 15.
func decodeData(t message.Type, b []byte) (message.Data, error) {
	d, err := message.UnmarshalData(t, b)
	if err == nil || t != message.TypeDataAMF3 {
		return d, err
	}
	if d2, err2 := message.UnmarshalData(message.TypeDataAMF0, b); err2 == nil {
		d2.AMF3 = true
		return d2, nil
	}
	return d, err
}

// decodeSharedObject decodes a shared object message, in either form for
// type 16.
func decodeSharedObject(t message.Type, b []byte) (message.SharedObject, error) {
	so, err := message.UnmarshalSharedObject(t, b)
	if err == nil || t != message.TypeSharedObjectAMF3 {
		return so, err
	}
	if so2, err2 := message.UnmarshalSharedObject(message.TypeSharedObjectAMF0, b); err2 == nil {
		so2.AMF3 = true
		return so2, nil
	}
	return so, err
}

// withSelector returns the payload of a type 15 or 16 message in the
// specified form: unchanged when it is, or when neither form decodes (the
// receiver then sees the error); with the selector byte put in front when
// the peer left it out. Other types are returned unchanged. These messages
// are rare (metadata, shared objects): checking costs a decode.
func withSelector(t message.Type, b []byte) []byte {
	switch t {
	case message.TypeDataAMF3:
		if _, err := message.UnmarshalData(t, b); err == nil {
			return b
		}
		if _, err := message.UnmarshalData(message.TypeDataAMF0, b); err != nil {
			return b
		}
	case message.TypeSharedObjectAMF3:
		if _, err := message.UnmarshalSharedObject(t, b); err == nil {
			return b
		}
		if _, err := message.UnmarshalSharedObject(message.TypeSharedObjectAMF0, b); err != nil {
			return b
		}
	default:
		return b
	}
	out := make([]byte, 1+len(b))
	copy(out[1:], b)
	return out
}
