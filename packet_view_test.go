package rtmp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// vtext is literal text inside the wire bytes vb builds.
type vtext string

// vb joins hex strings and literal text.
func vb(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch x := p.(type) {
		case string:
			out = append(out, hx(x)...)
		case vtext:
			out = append(out, x...)
		default:
			panic("vb: bad part")
		}
	}
	return out
}

// viewGolden is the table of packets and the typed forms View gives them:
// it drives TestPacketView and seeds FuzzPacketView. Payloads follow the
// layouts their names cite.
var viewGolden = []struct {
	name string
	pkt  rtmp.Packet
	want rtmp.View
}{
	{"FLV10.1 E.4.3.1 legacy AVC key frame", rtmp.Packet{Type: message.TypeVideo, Payload: hx("17 01 000000 00000001 65")},
		&flv.VideoTag{FrameType: flv.FrameKey, CodecID: flv.CodecAVC, AVCPacketType: flv.AVCNALU, Data: hx("00000001 65")}},
	{"E-RTMPv2 ExVideoTagHeader hvc1 SequenceStart", rtmp.Packet{Type: message.TypeVideo, Payload: hx("90 68766331 0102")},
		&flv.VideoTag{Enhanced: true, FrameType: flv.FrameKey, PacketType: flv.VideoSequenceStart, FourCC: flv.FourCCHEVC, Data: hx("0102")}},
	{"FLV10.1 E.4.2.1 AAC raw", rtmp.Packet{Type: message.TypeAudio, Payload: hx("af 01 2110")},
		&flv.AudioTag{SoundFormat: flv.SoundAAC, SoundRate: flv.SoundRate44k, SoundSize: 1, SoundType: 1, AACPacketType: flv.AACRaw, Data: hx("2110")}},
	{"E-RTMPv2 audio silence (empty payload)", rtmp.Packet{Type: message.TypeAudio},
		&flv.AudioTag{Silence: true}},
	{"§7.2.1.3 createStream (AMF0 command, 20)", rtmp.Packet{Type: message.TypeCommandAMF0, Payload: vb("02 000c", vtext("createStream"), "00 4000000000000000 05")},
		message.Command{Name: "createStream", TransactionID: 2}},
	{"§7.1.1 command with the AMF3 format selector (17)", rtmp.Packet{Type: message.TypeCommandAMF3, Payload: vb("00 02 000c", vtext("createStream"), "00 4000000000000000 05")},
		message.Command{AMF3: true, Name: "createStream", TransactionID: 2}},
	{"§7.1.2 onMetaData (AMF0 data, 18)", rtmp.Packet{Type: message.TypeDataAMF0, Payload: vb("02 000a", vtext("onMetaData"), "08 00000001 0008", vtext("duration"), "00 4024000000000000 000009")},
		message.Data{Values: []amf0.Value{"onMetaData", amf0.ECMAArray{Count: 1, Props: []amf0.Property{{Key: "duration", Value: 10.0}}}}}},
	{"§7.1.7 StreamBegin 1 (user control, 4)", rtmp.Packet{Type: message.TypeUserControl, Payload: hx("0000 00000001")},
		message.UserControl{Event: message.EventStreamBegin, StreamID: 1}},
	{"§7.1.7 PingRequest (user control, 4)", rtmp.Packet{Type: message.TypeUserControl, Payload: hx("0006 00010203")},
		message.UserControl{Event: message.EventPingRequest, Timestamp: 0x00010203}},
	{"§5.4.1 Set Chunk Size 4096", rtmp.Packet{Type: message.TypeSetChunkSize, Payload: hx("00001000")},
		message.SetChunkSize{Size: 4096}},
	{"§5.4.2 Abort chunk stream 4", rtmp.Packet{Type: message.TypeAbort, Payload: hx("00000004")},
		message.Abort{CSID: 4}},
	{"§5.4.3 Acknowledgement", rtmp.Packet{Type: message.TypeAcknowledgement, Payload: hx("00001000")},
		message.Acknowledgement{SequenceNumber: 4096}},
	{"§5.4.4 Window Acknowledgement Size 2500000", rtmp.Packet{Type: message.TypeWindowAckSize, Payload: hx("002625a0")},
		message.WindowAckSize{Size: 2500000}},
	{"§5.4.5 Set Peer Bandwidth 2500000 dynamic", rtmp.Packet{Type: message.TypeSetPeerBandwidth, Payload: hx("002625a0 02")},
		message.SetPeerBandwidth{Size: 2500000, Limit: message.LimitDynamic}},
	{"§7.1.3 shared object (AMF0, 19): use", rtmp.Packet{Type: message.TypeSharedObjectAMF0, Payload: vb("0002", vtext("so"), "00000000 0000000000000000 01 00000000")},
		message.SharedObject{Name: "so", Events: []message.SharedObjectEvent{{Type: message.SOUse}}}},
	{"§7.1.6 aggregate (22)", rtmp.Packet{Type: message.TypeAggregate, Payload: hx("09 000001 000000 00 000000 17 0000000c")},
		message.Aggregate{Payload: hx("09 000001 000000 00 000000 17 0000000c")}},
	{"a type RTMP does not define is Raw", rtmp.Packet{Type: 7, Payload: hx("abcd")},
		message.Raw{TypeID: 7, Payload: hx("abcd")}},
}

func TestPacketView(t *testing.T) {
	for _, tc := range viewGolden {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.pkt.View()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v, tc.want) {
				t.Fatalf("View = %#v\nwant   %#v", v, tc.want)
			}
			enc := appendView(t, v)
			if !bytes.Equal(enc, tc.pkt.Payload) && len(enc)+len(tc.pkt.Payload) > 0 {
				t.Fatalf("the view encodes to % x, want % x", enc, tc.pkt.Payload)
			}
		})
	}
}

// appendView encodes a view back to a payload.
func appendView(t *testing.T, v rtmp.View) []byte {
	t.Helper()
	var (
		b   []byte
		err error
	)
	switch v := v.(type) {
	case *flv.VideoTag:
		b, err = v.Append(nil)
	case *flv.AudioTag:
		b, err = v.Append(nil)
	case message.Message:
		b, err = v.AppendPayload(nil)
	default:
		t.Fatalf("View gave a %T", v)
	}
	if err != nil {
		t.Fatalf("%T does not encode: %v", v, err)
	}
	return b
}

func TestPacketViewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkt  rtmp.Packet
		want error
	}{
		{"empty video", rtmp.Packet{Type: message.TypeVideo}, io.ErrUnexpectedEOF},
		{"AVC header cut", rtmp.Packet{Type: message.TypeVideo, Payload: hx("17 01")}, io.ErrUnexpectedEOF},
		{"AAC header cut", rtmp.Packet{Type: message.TypeAudio, Payload: hx("af")}, io.ErrUnexpectedEOF},
		{"command without a name", rtmp.Packet{Type: message.TypeCommandAMF0, Payload: hx("00 4000000000000000")}, message.ErrMalformed},
		{"Set Chunk Size cut", rtmp.Packet{Type: message.TypeSetChunkSize, Payload: hx("0000")}, io.ErrUnexpectedEOF},
		{"user control cut", rtmp.Packet{Type: message.TypeUserControl, Payload: hx("00")}, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.pkt.View()
			if !errors.Is(err, tc.want) || v != nil {
				t.Fatalf("View = %v, %v; want nil, %v", v, err, tc.want)
			}
		})
	}
	// message.Decode's one value with an error: a Set Chunk Size with its
	// reserved top bit set.
	v, err := rtmp.Packet{Type: message.TypeSetChunkSize, Payload: hx("80001000")}.View()
	if err == nil || v != (message.SetChunkSize{Size: 4096}) {
		t.Fatalf("reserved bit: View = %#v, %v", v, err)
	}
}

// The media views do not allocate beyond the tag View returns.
func TestPacketViewAllocs(t *testing.T) {
	p := viewGolden[0].pkt
	if n := testing.AllocsPerRun(100, func() { p.View() }); n > 1 {
		t.Fatalf("View of a video packet allocates %v times", n)
	}
}

// wantType is the Go type View gives each packet type.
func wantType(t message.Type) reflect.Type {
	switch t {
	case message.TypeVideo:
		return reflect.TypeFor[*flv.VideoTag]()
	case message.TypeAudio:
		return reflect.TypeFor[*flv.AudioTag]()
	case message.TypeDataAMF0, message.TypeDataAMF3:
		return reflect.TypeFor[message.Data]()
	case message.TypeCommandAMF0, message.TypeCommandAMF3:
		return reflect.TypeFor[message.Command]()
	case message.TypeSharedObjectAMF0, message.TypeSharedObjectAMF3:
		return reflect.TypeFor[message.SharedObject]()
	case message.TypeUserControl:
		return reflect.TypeFor[message.UserControl]()
	case message.TypeAggregate:
		return reflect.TypeFor[message.Aggregate]()
	case message.TypeSetChunkSize:
		return reflect.TypeFor[message.SetChunkSize]()
	case message.TypeAbort:
		return reflect.TypeFor[message.Abort]()
	case message.TypeAcknowledgement:
		return reflect.TypeFor[message.Acknowledgement]()
	case message.TypeWindowAckSize:
		return reflect.TypeFor[message.WindowAckSize]()
	case message.TypeSetPeerBandwidth:
		return reflect.TypeFor[message.SetPeerBandwidth]()
	}
	return reflect.TypeFor[message.Raw]()
}

// FuzzPacketView views any payload as any packet type. Invariants: no
// panic; an error comes with a nil View (but for the Set Chunk Size
// reserved bit); a View has the Go type its packet type maps to; it
// encodes, and its encoding views and encodes again to the same bytes
// (audio and video: to the very payload).
func FuzzPacketView(f *testing.F) {
	for _, tc := range viewGolden {
		f.Add(uint8(tc.pkt.Type), tc.pkt.Payload)
	}
	f.Fuzz(func(t *testing.T, typ uint8, payload []byte) {
		p := rtmp.Packet{Type: message.Type(typ), Payload: payload}
		v, err := p.View()
		if err != nil {
			if v != nil && p.Type != message.TypeSetChunkSize {
				t.Fatalf("error %v with a view %#v", err, v)
			}
			return
		}
		if got, want := reflect.TypeOf(v), wantType(p.Type); got != want {
			t.Fatalf("type %d gives a %v, want %v", typ, got, want)
		}
		if m, ok := v.(message.Message); ok && m.Type() != p.Type {
			t.Fatalf("message of type %v from a packet of type %v", m.Type(), p.Type)
		}
		enc := appendView(t, v)
		if p.IsMedia() {
			if !bytes.Equal(enc, payload) {
				t.Fatalf("%v re-encodes to % x, want % x", p.Type, enc, payload)
			}
			return
		}
		v2, err := rtmp.Packet{Type: p.Type, Payload: enc}.View()
		if err != nil {
			t.Fatalf("the encoding % x of a view does not view: %v", enc, err)
		}
		if enc2 := appendView(t, v2); !bytes.Equal(enc2, enc) {
			t.Fatalf("not a fixed point:\n% x\n% x", enc, enc2)
		}
	})
}

// One switch over typed values replaces the switch over packet types and
// the parsing each case needs.
func ExamplePacket_View() {
	packets := []rtmp.Packet{
		{Type: message.TypeVideo, Payload: hx("17 01 000000 00000001 65")},
		{Type: message.TypeAudio, Payload: hx("af 00 1190")},
		{Type: message.TypeDataAMF0, Payload: vb("02 000a", vtext("onMetaData"), "08 00000001 0005", vtext("width"), "00 4094000000000000 000009")},
		{Type: message.TypeUserControl, Payload: hx("0001 00000001")},
	}
	for _, p := range packets {
		v, err := p.View()
		if err != nil {
			fmt.Println(err)
			continue
		}
		switch v := v.(type) {
		case *flv.VideoTag:
			fmt.Println("video, key frame:", v.IsKeyFrame())
		case *flv.AudioTag:
			fmt.Println("audio", v.Codec(), "sequence header:", v.IsSequenceHeader())
		case message.Data:
			if meta, ok := v.MetaData(); ok {
				fmt.Println("metadata", meta)
			}
		case message.UserControl:
			fmt.Println("user control", v.Event, v.StreamID)
		}
	}
	// Output:
	// video, key frame: true
	// audio mp4a sequence header: true
	// metadata [{width 1280}]
	// user control StreamEOF 1
}
