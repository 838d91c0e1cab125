package chunk

import (
	"errors"
	"testing"
)

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		id   uint32
		want StreamKind
	}{
		{0, ControlStream},
		{1, NetStream},
		{MaxStreamID, NetStream},
		{MaxStreamID + 1, ReservedStream},
		{0x01000000, ReservedStream}, // stream 1 written big-endian
		{0xFFFFFFFF, ReservedStream},
	} {
		if got := KindOf(tc.id); got != tc.want {
			t.Errorf("KindOf(%#x) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

// §5.4: protocol control messages "MUST have message stream ID 0 ... and
// be sent in chunk stream ID 2"; §6.2: user control messages SHOULD.
func TestCheckIDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		csid uint32
		h    Header
		want error
	}{
		{"set chunk size on 2/0", 2, Header{TypeID: 1}, nil},
		{"set peer bandwidth on 2/0", 2, Header{TypeID: 6}, nil},
		{"user control on 2/0", 2, Header{TypeID: 4}, nil},
		{"command on 3/0", 3, Header{TypeID: 20}, nil},
		{"video on 6/1", 6, Header{TypeID: 9, StreamID: 1}, nil},
		{"audio on the highest stream", 4, Header{TypeID: 8, StreamID: MaxStreamID}, nil},
		{"unknown type on 2/7", 2, Header{TypeID: 7, StreamID: 7}, nil},
		{"set chunk size on chunk stream 3", 3, Header{TypeID: 1}, ErrControlStream},
		{"abort on message stream 1", 2, Header{TypeID: 2, StreamID: 1}, ErrControlStream},
		{"acknowledgement on 3/1", 3, Header{TypeID: 3, StreamID: 1}, ErrControlStream},
		{"user control on message stream 1", 2, Header{TypeID: 4, StreamID: 1}, ErrControlStream},
		{"window ack size on chunk stream 4", 4, Header{TypeID: 5}, ErrControlStream},
		{"video on stream 1 written big-endian", 6, Header{TypeID: 9, StreamID: 0x01000000}, ErrReservedStreamID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckIDs(tc.csid, tc.h)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("CheckIDs = %v, want %v", err, tc.want)
			}
			if err == nil {
				return
			}
			var se *StreamError
			if !errors.As(err, &se) || se.CSID != tc.csid || se.TypeID != tc.h.TypeID || se.StreamID != tc.h.StreamID {
				t.Fatalf("error %#v does not carry the ids", err)
			}
		})
	}
}

// What a Writer writes on the control chunk stream passes the check, and
// the Reader hands back the ids to check.
func TestCheckIDsAfterReader(t *testing.T) {
	for _, tc := range wireTable() {
		for _, m := range tc.msgs {
			err := CheckIDs(m.CSID, m.Header)
			ctl := m.TypeID >= 1 && m.TypeID <= 6
			if ctl && (m.CSID != 2 || m.StreamID != 0) && err == nil {
				t.Errorf("%s: control message on %d/%d passes", tc.name, m.CSID, m.StreamID)
			}
			if !ctl && m.StreamID <= MaxStreamID && err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
	}
}
