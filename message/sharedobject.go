package message

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/ertmp/rtmp/amf0"
)

// SharedObjectEventType is the type of a shared object event (§7.1.3).
type SharedObjectEventType uint8

// The shared object events of §7.1.3.
const (
	SOUse           SharedObjectEventType = 1  // client: use (create or connect to) the object
	SORelease       SharedObjectEventType = 2  // client: the object is deleted on the client
	SORequestChange SharedObjectEventType = 3  // client: change a named slot
	SOChange        SharedObjectEventType = 4  // server: a named slot changed
	SOSuccess       SharedObjectEventType = 5  // server: the RequestChange was accepted
	SOSendMessage   SharedObjectEventType = 6  // either: broadcast a message
	SOStatus        SharedObjectEventType = 7  // server: an error condition
	SOClear         SharedObjectEventType = 8  // server: clear the object
	SORemove        SharedObjectEventType = 9  // server: delete a slot
	SORequestRemove SharedObjectEventType = 10 // client: delete a slot
	SOUseSuccess    SharedObjectEventType = 11 // server: Use succeeded
)

var soEventNames = [...]string{
	SOUse:           "Use",
	SORelease:       "Release",
	SORequestChange: "RequestChange",
	SOChange:        "Change",
	SOSuccess:       "Success",
	SOSendMessage:   "SendMessage",
	SOStatus:        "Status",
	SOClear:         "Clear",
	SORemove:        "Remove",
	SORequestRemove: "RequestRemove",
	SOUseSuccess:    "UseSuccess",
}

func (t SharedObjectEventType) String() string {
	if int(t) < len(soEventNames) && soEventNames[t] != "" {
		return soEventNames[t]
	}
	return "SharedObjectEventType(" + strconv.Itoa(int(t)) + ")"
}

// SharedObject is a shared object message (§7.1.3), type 19 (AMF 0) or 16
// (AMF 3):
//
//	+------+-------+-----+-----+------+-----+ +-----+------+-----+
//	|Shared|Current|Flags|Event|Event |Event|.|Event|Event |Event|
//	|Object|Version|     |Type |data  |data |.|Type |data  |data |
//	|Name  |       |     |     |length|     |.|     |length|     |
//	+------+-------+-----+-----+------+-----+ +-----+------+-----+
//
// The spec draws the layout and lists the event types but defines no field
// widths; this package reads them as Flash Media Server and Red5 write
// them: the name as AMF 0 UTF-8 (U16 length and bytes, no marker), the
// version as U32, 8 bytes of flags, then events of a U8 type, a U32 data
// length and the data. Type 16 payloads start with the format selector
// byte 0, as for data messages (see Data); values inside may be AMF 3
// after the avmplus marker.
//
// This is a codec only: it does not keep shared object state.
type SharedObject struct {
	AMF3    bool // type 16 rather than 19
	Name    string
	Version uint32
	// Flags holds the 8 flag bytes as they are, the first in the top bits.
	// The spec gives them no meaning; in practice the first four carry
	// persistence (SharedObjectPersistent, see Persistent) and the last
	// four are 0.
	Flags  uint64
	Events []SharedObjectEvent
}

// SharedObjectEvent is one event of a shared object message. The event
// data is read as Flash Media Server and Red5 write it:
//
//	RequestChange, Change         Name (UTF-8), Value (one AMF value)
//	Success, Remove, RequestRemove  Name
//	SendMessage                   Values (AMF values: handler name, arguments)
//	Status                        Code, Level (two UTF-8 strings)
//	Use, Release, Clear, UseSuccess  nothing
//
// Data holds the event data this table does not account for: all of it for
// other event types, the bytes after the fields above for the types listed,
// so that every event re-encodes to the same bytes. Decoded Data aliases
// the payload.
type SharedObjectEvent struct {
	Type   SharedObjectEventType
	Name   string
	Value  amf0.Value
	Values []amf0.Value
	Code   string
	Level  string
	Data   []byte
}

// SharedObjectPersistent is the flag of a persistent shared object, one
// that outlives its last user on the server: the value 2 in the first four
// flag bytes, as Flash Media Server and Red5 write it (a temporary object
// has 0 there).
const SharedObjectPersistent uint64 = 2 << 32

// Persistent reports whether the message is about a persistent shared
// object (SharedObjectPersistent).
func (so SharedObject) Persistent() bool { return so.Flags&SharedObjectPersistent != 0 }

// SetPersistent sets or clears SharedObjectPersistent in Flags.
func (so *SharedObject) SetPersistent(on bool) {
	if on {
		so.Flags |= SharedObjectPersistent
	} else {
		so.Flags &^= SharedObjectPersistent
	}
}

// soHeaderLen is the size of the version and flags after the name.
const soHeaderLen = 4 + 8

// UnmarshalSharedObject decodes the payload of a shared object message of
// type TypeSharedObjectAMF0 or TypeSharedObjectAMF3. Every length is
// checked against the bytes that remain before it is used.
func UnmarshalSharedObject(t Type, b []byte) (SharedObject, error) {
	b, err := stripSelector(t, b)
	if err != nil {
		return SharedObject{}, err
	}
	so := SharedObject{AMF3: t == TypeSharedObjectAMF3}
	name, n, ok := readUTF8(b)
	if !ok {
		return SharedObject{}, truncated(t, "shared object name")
	}
	so.Name = name
	b = b[n:]
	if len(b) < soHeaderLen {
		return SharedObject{}, truncated(t, "current version and flags")
	}
	so.Version = binary.BigEndian.Uint32(b)
	so.Flags = binary.BigEndian.Uint64(b[4:])
	b = b[soHeaderLen:]
	// One decoder for the message: the AMF reference tables span it.
	var d amf0.Decoder
	for i := 0; len(b) > 0; i++ {
		if len(b) < 5 {
			return SharedObject{}, truncated(t, "event "+strconv.Itoa(i)+" header")
		}
		ev := SharedObjectEvent{Type: SharedObjectEventType(b[0])}
		size := binary.BigEndian.Uint32(b[1:])
		b = b[5:]
		if uint64(size) > uint64(len(b)) {
			return SharedObject{}, truncated(t, "event "+strconv.Itoa(i)+" data length")
		}
		if err := ev.decode(&d, b[:size]); err != nil {
			return SharedObject{}, fieldErr(t, "event "+strconv.Itoa(i)+" ("+ev.Type.String()+")", err)
		}
		so.Events = append(so.Events, ev)
		b = b[size:]
	}
	return so, nil
}

func (ev *SharedObjectEvent) decode(d *amf0.Decoder, b []byte) error {
	var ok bool
	var n int
	switch ev.Type {
	case SORequestChange, SOChange:
		if ev.Name, n, ok = readUTF8(b); !ok {
			return ErrTruncated
		}
		b = b[n:]
		if len(b) == 0 {
			return ErrTruncated
		}
		v, n, err := d.Decode(b)
		if err != nil {
			return err
		}
		ev.Value = v
		b = b[n:]
	case SOSuccess, SORemove, SORequestRemove:
		if ev.Name, n, ok = readUTF8(b); !ok {
			return ErrTruncated
		}
		b = b[n:]
	case SOSendMessage:
		for len(b) > 0 {
			v, n, err := d.Decode(b)
			if err != nil {
				return err
			}
			ev.Values = append(ev.Values, v)
			b = b[n:]
		}
	case SOStatus:
		if ev.Code, n, ok = readUTF8(b); !ok {
			return ErrTruncated
		}
		b = b[n:]
		if ev.Level, n, ok = readUTF8(b); !ok {
			return ErrTruncated
		}
		b = b[n:]
	}
	ev.Data = nilIfEmpty(b)
	return nil
}

// Type returns TypeSharedObjectAMF3 or TypeSharedObjectAMF0.
func (so SharedObject) Type() Type {
	if so.AMF3 {
		return TypeSharedObjectAMF3
	}
	return TypeSharedObjectAMF0
}

// AppendPayload appends the encoded message. Names and strings longer than
// 65535 bytes, and event data of 4 GiB or more, fail with ErrTooLarge.
func (so SharedObject) AppendPayload(dst []byte) ([]byte, error) {
	t := so.Type()
	b := dst
	if so.AMF3 {
		b = append(b, 0)
	}
	if len(so.Name) > math.MaxUint16 {
		return dst, fieldErr(t, "shared object name", ErrTooLarge)
	}
	b = appendUTF8(b, so.Name)
	b = binary.BigEndian.AppendUint32(b, so.Version)
	b = binary.BigEndian.AppendUint64(b, so.Flags)
	e := getEncoder()
	defer putEncoder(e)
	for i := range so.Events {
		ev := &so.Events[i]
		b = append(b, byte(ev.Type), 0, 0, 0, 0)
		start := len(b)
		var err error
		if b, err = ev.append(e, b); err != nil {
			return dst, fieldErr(t, "event "+strconv.Itoa(i)+" ("+ev.Type.String()+")", err)
		}
		size := len(b) - start
		if uint64(size) > math.MaxUint32 {
			return dst, fieldErr(t, "event "+strconv.Itoa(i)+" data length", ErrTooLarge)
		}
		binary.BigEndian.PutUint32(b[start-4:], uint32(size))
	}
	return b, nil
}

func (ev *SharedObjectEvent) append(e *amf0.Encoder, b []byte) ([]byte, error) {
	putUTF8 := func(s string) error {
		if len(s) > math.MaxUint16 {
			return ErrTooLarge
		}
		b = appendUTF8(b, s)
		return nil
	}
	var err error
	switch ev.Type {
	case SORequestChange, SOChange:
		if err = putUTF8(ev.Name); err != nil {
			return b, err
		}
		if b, err = e.Append(b, ev.Value); err != nil {
			return b, err
		}
	case SOSuccess, SORemove, SORequestRemove:
		if err = putUTF8(ev.Name); err != nil {
			return b, err
		}
	case SOSendMessage:
		if b, err = appendValues(e, b, ev.Values); err != nil {
			return b, err
		}
	case SOStatus:
		if err = putUTF8(ev.Code); err != nil {
			return b, err
		}
		if err = putUTF8(ev.Level); err != nil {
			return b, err
		}
	}
	return append(b, ev.Data...), nil
}
