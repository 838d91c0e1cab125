package message

import "strconv"

// Type is an RTMP message type ID (§6.1.1 "Message Type"). IDs 1 to 6 are
// protocol control and user control messages (§5.4, §6.2); the others are
// the messages of §7.1.
type Type uint8

// The message types of the RTMP specification.
const (
	TypeSetChunkSize     Type = 1  // §5.4.1
	TypeAbort            Type = 2  // §5.4.2
	TypeAcknowledgement  Type = 3  // §5.4.3
	TypeUserControl      Type = 4  // §6.2, §7.1.7
	TypeWindowAckSize    Type = 5  // §5.4.4
	TypeSetPeerBandwidth Type = 6  // §5.4.5
	TypeAudio            Type = 8  // §7.1.4
	TypeVideo            Type = 9  // §7.1.5
	TypeDataAMF3         Type = 15 // §7.1.2
	TypeSharedObjectAMF3 Type = 16 // §7.1.3
	TypeCommandAMF3      Type = 17 // §7.1.1
	TypeDataAMF0         Type = 18 // §7.1.2
	TypeSharedObjectAMF0 Type = 19 // §7.1.3
	TypeCommandAMF0      Type = 20 // §7.1.1
	TypeAggregate        Type = 22 // §7.1.6
)

var typeNames = [...]string{
	TypeSetChunkSize:     "SetChunkSize",
	TypeAbort:            "Abort",
	TypeAcknowledgement:  "Acknowledgement",
	TypeUserControl:      "UserControl",
	TypeWindowAckSize:    "WindowAckSize",
	TypeSetPeerBandwidth: "SetPeerBandwidth",
	TypeAudio:            "Audio",
	TypeVideo:            "Video",
	TypeDataAMF3:         "DataAMF3",
	TypeSharedObjectAMF3: "SharedObjectAMF3",
	TypeCommandAMF3:      "CommandAMF3",
	TypeDataAMF0:         "DataAMF0",
	TypeSharedObjectAMF0: "SharedObjectAMF0",
	TypeCommandAMF0:      "CommandAMF0",
	TypeAggregate:        "Aggregate",
}

func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Known reports whether t is one of the types above, which Decode turns into
// a typed message; other types decode to Raw.
func (t Type) Known() bool {
	return int(t) < len(typeNames) && typeNames[t] != ""
}

// IsControl reports whether t is a protocol control message (§5.4: 1, 2, 3,
// 5, 6) or a user control message (§6.2: 4). They take effect when received,
// their timestamps are ignored, and they belong on message stream 0 and
// chunk stream 2.
func (t Type) IsControl() bool { return t >= TypeSetChunkSize && t <= TypeSetPeerBandwidth }
