package message

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/amf3"
)

// golden is one wire payload and the message it decodes to. The same table
// drives the decode and encode tests and seeds the fuzz target.
type golden struct {
	name string
	spec string // where the form is defined
	typ  Type
	wire []byte
	msg  Message // what Decode returns, written out by hand

	// built, when set, builds the same message with the package's
	// constructors and views; it must equal msg and encode to wire.
	built func() Message
	// view, for commands, is the typed view Parse returns; its Command
	// must encode to wire.
	view viewer
	// status, for commands, is what Command.Status returns.
	status *Status

	// Aggregates: the aggregate message's timestamp, the sub-messages the
	// iterator yields, and the error that ends it (nil for a clean end).
	aggTS   uint32
	subs    []SubMessage
	subsErr error
	rebased bool // sub-message timestamps differ from the wire
}

// viewer is implemented by every typed command view.
type viewer interface{ Command() Command }

// The onMetaData body FFmpeg 5.1 wrote into testdata/ffmpeg/h264_aac.flv:
// its RTMP muxer sends the same body after "@setDataFrame" (type 18).
var ffmpegMetaWire = ecma(13,
	prop("duration", num(2.08)),
	prop("width", num(320)),
	prop("height", num(180)),
	prop("videodatarate", num(146.484375)),
	prop("framerate", num(25)),
	prop("videocodecid", num(7)),
	prop("audiodatarate", num(62.5)),
	prop("audiosamplerate", num(44100)),
	prop("audiosamplesize", num(16)),
	prop("stereo", boo(false)),
	prop("audiocodecid", num(10)),
	prop("encoder", str("Lavf59.27.100")),
	prop("filesize", num(51884)),
)

var ffmpegMeta = amf0.ECMAArray{Count: 13, Props: []amf0.Property{
	{Key: "duration", Value: 2.08},
	{Key: "width", Value: 320.0},
	{Key: "height", Value: 180.0},
	{Key: "videodatarate", Value: 146.484375},
	{Key: "framerate", Value: 25.0},
	{Key: "videocodecid", Value: 7.0},
	{Key: "audiodatarate", Value: 62.5},
	{Key: "audiosamplerate", Value: 44100.0},
	{Key: "audiosamplesize", Value: 16.0},
	{Key: "stereo", Value: false},
	{Key: "audiocodecid", Value: 10.0},
	{Key: "encoder", Value: "Lavf59.27.100"},
	{Key: "filesize", Value: 51884.0},
}}

// The connect command object of §7.2.1.1, with the example value of each
// property of the table ("flashver" spelled as the table spells it).
var specConnectProps = amf0.Object{
	{Key: "app", Value: "testapp"},
	{Key: "flashver", Value: "FMSc/1.0"},
	{Key: "swfUrl", Value: "file://C:/FlvPlayer.swf"},
	{Key: "tcUrl", Value: "rtmp://localhost:1935/testapp/instance1"},
	{Key: "fpad", Value: false},
	{Key: "audioCodecs", Value: 4.0},   // SUPPORT_SND_MP3
	{Key: "videoCodecs", Value: 4.0},   // SUPPORT_VID_SORENSON
	{Key: "videoFunction", Value: 1.0}, // SUPPORT_VID_CLIENT_SEEK
	{Key: "pageUrl", Value: "http://somehost/sample.html"},
	{Key: "objectEncoding", Value: 3.0}, // AMF3
}

// The Enhanced RTMP v2 example values of fourCcList, the info maps and
// capsEx, in a connect laid out as FFmpeg lays out its publish connect
// (app, type, flashVer, tcUrl, then the Enhanced RTMP properties).
var enhancedFourCCs = []string{"av01", "vp09", "vp08", "hvc1", "avc1", "ac-3", "ec-3", "Opus", ".mp3", "fLaC", "mp4a"}

var enhancedConnectProps = amf0.Object{
	{Key: "app", Value: "live"},
	{Key: "type", Value: "nonprivate"},
	{Key: "flashVer", Value: "FMLE/3.0 (compatible; Lavf61.7.100)"},
	{Key: "tcUrl", Value: "rtmp://localhost:1935/live"},
	{Key: "fourCcList", Value: amf0.StrictArray{"av01", "vp09", "vp08", "hvc1", "avc1", "ac-3", "ec-3", "Opus", ".mp3", "fLaC", "mp4a"}},
	{Key: "videoFourCcInfoMap", Value: amf0.Object{{Key: "*", Value: 4.0}, {Key: "vp09", Value: 3.0}}},
	{Key: "audioFourCcInfoMap", Value: amf0.Object{{Key: "*", Value: 4.0}, {Key: "Opus", Value: 3.0}}},
	{Key: "capsEx", Value: 3.0},
}

func fourCCWire() string {
	var vs []string
	for _, s := range enhancedFourCCs {
		vs = append(vs, str(s))
	}
	return strict(vs...)
}

var connectResultProps = amf0.Object{{Key: "fmsVer", Value: "FMS/3,0,1,123"}, {Key: "capabilities", Value: 31.0}}

var connectResultInfo = amf0.Object{
	{Key: "level", Value: "status"},
	{Key: "code", Value: "NetConnection.Connect.Success"},
	{Key: "description", Value: "Connection succeeded."},
	{Key: "objectEncoding", Value: 0.0},
}

// soHead is a shared object header: name, version, flags (§7.1.3).
func soHead(name string, version uint32, flags uint64) string {
	return utf(name) + u32(version) + fmt.Sprintf("%016x", flags)
}

// soEvent is one shared object event: type, data length, data.
func soEvent(t byte, data ...string) string {
	d := hx(data...)
	return u8(t) + u32(uint32(len(d))) + fmt.Sprintf("%x", d)
}

// sub is an aggregate sub-message: header, payload, back-pointer (§7.1.6).
func sub(t byte, ts, stream uint32, payload string, backPointer ...uint32) string {
	p := hx(payload)
	bp := uint32(11 + len(p))
	if len(backPointer) > 0 {
		bp = backPointer[0]
	}
	return u8(t) + u24(uint32(len(p))) + u24(ts) + u8(uint8(ts>>24)) + u24(stream) + payload + u32(bp)
}

var goldens = []golden{
	// §5.4 Protocol control messages.
	{
		name: "set chunk size 131", spec: "§5.4.1 (the example of the text)",
		typ: TypeSetChunkSize, wire: hx("00000083"), msg: SetChunkSize{Size: 131},
	},
	{
		name: "set chunk size 4096", spec: "§5.4.1",
		typ: TypeSetChunkSize, wire: hx("00001000"), msg: SetChunkSize{Size: 4096},
	},
	{
		name: "set chunk size max", spec: "§5.4.1: valid sizes are 1 to 0x7FFFFFFF",
		typ: TypeSetChunkSize, wire: hx("7fffffff"), msg: SetChunkSize{Size: MaxChunkSize},
	},
	{
		name: "set chunk size 1", spec: "§5.4.1: MUST be at least 1 byte",
		typ: TypeSetChunkSize, wire: hx("00000001"), msg: SetChunkSize{Size: 1},
	},
	{
		name: "abort", spec: "§5.4.2",
		typ: TypeAbort, wire: hx("00000004"), msg: Abort{CSID: 4},
	},
	{
		name: "acknowledgement", spec: "§5.4.3",
		typ: TypeAcknowledgement, wire: hx("002625a0"), msg: Acknowledgement{SequenceNumber: 2500000},
	},
	{
		name: "window acknowledgement size", spec: "§5.4.4",
		typ: TypeWindowAckSize, wire: hx("004c4b40"), msg: WindowAckSize{Size: 5000000},
	},
	{
		name: "set peer bandwidth hard", spec: "§5.4.5",
		typ: TypeSetPeerBandwidth, wire: hx("004c4b40 00"), msg: SetPeerBandwidth{Size: 5000000, Limit: LimitHard},
	},
	{
		name: "set peer bandwidth soft", spec: "§5.4.5",
		typ: TypeSetPeerBandwidth, wire: hx("004c4b40 01"), msg: SetPeerBandwidth{Size: 5000000, Limit: LimitSoft},
	},
	{
		name: "set peer bandwidth dynamic", spec: "§5.4.5",
		typ: TypeSetPeerBandwidth, wire: hx("004c4b40 02"), msg: SetPeerBandwidth{Size: 5000000, Limit: LimitDynamic},
	},

	// §6.2, §7.1.7 User control messages.
	{
		name: "stream begin", spec: "§7.1.7: event data is 4-byte stream ID",
		typ: TypeUserControl, wire: hx("0000 00000001"), msg: UserControl{Event: EventStreamBegin, StreamID: 1},
		built: func() Message { return NewStreamBegin(1) },
	},
	{
		name: "stream begin on stream 0", spec: "§7.1.7: sent on ID 0 after connect",
		typ: TypeUserControl, wire: hx("0000 00000000"), msg: UserControl{Event: EventStreamBegin},
		built: func() Message { return NewStreamBegin(0) },
	},
	{
		name: "stream eof", spec: "§7.1.7",
		typ: TypeUserControl, wire: hx("0001 00000001"), msg: UserControl{Event: EventStreamEOF, StreamID: 1},
		built: func() Message { return NewStreamEOF(1) },
	},
	{
		name: "stream dry", spec: "§7.1.7",
		typ: TypeUserControl, wire: hx("0002 00000001"), msg: UserControl{Event: EventStreamDry, StreamID: 1},
		built: func() Message { return NewStreamDry(1) },
	},
	{
		name: "set buffer length", spec: "§7.1.7: stream ID, then buffer length in ms",
		typ: TypeUserControl, wire: hx("0003 00000001 00000bb8"), msg: UserControl{Event: EventSetBufferLength, StreamID: 1, BufferLength: 3000},
		built: func() Message { return NewSetBufferLength(1, 3000) },
	},
	{
		name: "stream is recorded", spec: "§7.2.2.1: event type in the first 2 bytes, stream ID in the last 4",
		typ: TypeUserControl, wire: hx("0004 00000001"), msg: UserControl{Event: EventStreamIsRecorded, StreamID: 1},
		built: func() Message { return NewStreamIsRecorded(1) },
	},
	{
		name: "ping request", spec: "§7.1.7: 4-byte timestamp",
		typ: TypeUserControl, wire: hx("0006 075bcd15"), msg: UserControl{Event: EventPingRequest, Timestamp: 123456789},
		built: func() Message { return NewPingRequest(123456789) },
	},
	{
		name: "ping response", spec: "§7.1.7",
		typ: TypeUserControl, wire: hx("0007 075bcd15"), msg: UserControl{Event: EventPingResponse, Timestamp: 123456789},
		built: func() Message { return NewPingResponse(123456789) },
	},
	{
		name: "buffer empty (FMS, not in the spec)", spec: "§6.2: event data of variable size",
		typ: TypeUserControl, wire: hx("001f 00000001"), msg: UserControl{Event: EventBufferEmpty, Data: hx("00000001")},
	},
	{
		name: "swf verify request, no data", spec: "§6.2",
		typ: TypeUserControl, wire: hx("001a"), msg: UserControl{Event: EventSWFVerifyRequest},
	},
	{
		name: "unknown event kept raw", spec: "§6.2",
		typ: TypeUserControl, wire: hx("1234 cafebabe00"), msg: UserControl{Event: 0x1234, Data: hx("cafebabe00")},
	},
	{
		name: "stream begin with trailing bytes kept", spec: "§6.2",
		typ: TypeUserControl, wire: hx("0000 00000001 ff"), msg: UserControl{Event: EventStreamBegin, StreamID: 1, Data: hx("ff")},
	},

	// §7.1.4, §7.1.5 Audio and video: opaque FLV tag bodies.
	{
		name: "audio AAC sequence header", spec: "§7.1.4",
		typ: TypeAudio, wire: hx("af00 1210"), msg: Audio{Payload: hx("af001210")},
	},
	{
		name: "video AVC sequence header", spec: "§7.1.5",
		typ: TypeVideo, wire: hx("1700000000 0164001fffe1"), msg: Video{Payload: hx("17000000000164001fffe1")},
	},
	{
		name: "video Enhanced RTMP hvc1 frame", spec: "§7.1.5",
		typ: TypeVideo, wire: hx("91 68766331 000000 0000"), msg: Video{Payload: hx("91687663310000000000")},
	},
	{
		name: "empty audio", spec: "§7.1.4",
		typ: TypeAudio, wire: nil, msg: Audio{},
	},
	{
		name: "unknown type 7 kept raw", spec: "§6.1.1",
		typ: 7, wire: hx("0102"), msg: Raw{TypeID: 7, Payload: hx("0102")},
	},
	{
		name: "unknown type 200 kept raw", spec: "§6.1.1",
		typ: 200, wire: hx("00"), msg: Raw{TypeID: 200, Payload: hx("00")},
	},

	// §7.1.2 Data messages.
	{
		name: "@setDataFrame as FFmpeg sends it", spec: "§7.1.2, §7.3.3",
		typ: TypeDataAMF0, wire: hx(str("@setDataFrame"), str("onMetaData"), ffmpegMetaWire),
		msg:   Data{Values: []amf0.Value{"@setDataFrame", "onMetaData", ffmpegMeta}},
		built: func() Message { return NewSetDataFrame(ffmpegMeta) },
	},
	{
		name: "onMetaData as a server sends it", spec: "§7.1.2",
		typ: TypeDataAMF0, wire: hx(str("onMetaData"), ffmpegMetaWire),
		msg:   Data{Values: []amf0.Value{"onMetaData", ffmpegMeta}},
		built: func() Message { return NewOnMetaData(ffmpegMeta) },
	},
	{
		name: "@clearDataFrame", spec: "§7.1.2",
		typ: TypeDataAMF0, wire: hx(str("@clearDataFrame")),
		msg: Data{Values: []amf0.Value{"@clearDataFrame"}},
	},
	{
		name: "@clearDataFrame onMetaData", spec: "§7.1.2",
		typ: TypeDataAMF0, wire: hx(str("@clearDataFrame"), str("onMetaData")),
		msg:   Data{Values: []amf0.Value{"@clearDataFrame", "onMetaData"}},
		built: func() Message { return NewClearDataFrame("onMetaData") },
	},
	{
		name: "|RtmpSampleAccess", spec: "§7.1.2",
		typ: TypeDataAMF0, wire: hx(str("|RtmpSampleAccess"), boo(true), boo(true)),
		msg: Data{Values: []amf0.Value{"|RtmpSampleAccess", true, true}},
	},
	{
		name: "empty data message", spec: "§7.1.2",
		typ: TypeDataAMF0, wire: nil, msg: Data{},
	},
	{
		name: "AMF3 data: onMetaData with an AMF3 object", spec: "§7.1.2; E-RTMP v2 AMF3 clarification",
		typ: TypeDataAMF3, wire: hx("00", str("onMetaData"), "11 0a 0b 01 0b", fmt.Sprintf("%x", "width"), "04 8500 01"),
		msg: Data{AMF3: true, Values: []amf0.Value{"onMetaData", amf0.AMF3{Value: &amf3.Object{
			Traits:  &amf3.Traits{Dynamic: true},
			Dynamic: []amf3.Property{{Key: "width", Value: int32(640)}},
		}}}},
	},
	{
		name: "AMF3 data: AMF0 values only", spec: "§7.1.2; E-RTMP v2: format 0 is AMF0",
		typ: TypeDataAMF3, wire: hx("00", str("@setDataFrame"), str("onMetaData"), ffmpegMetaWire),
		msg: Data{AMF3: true, Values: []amf0.Value{"@setDataFrame", "onMetaData", ffmpegMeta}},
	},

	// §7.1.3 Shared object messages: one case per event type.
	{
		name: "shared object use", spec: "§7.1.3 Use(=1), §7.3.2",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 0, 0x10<<32), soEvent(1)),
		msg: SharedObject{Name: "chat", Flags: 0x10 << 32, Events: []SharedObjectEvent{{Type: SOUse}}},
	},
	{
		name: "shared object release", spec: "§7.1.3 Release(=2)",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 0, 0), soEvent(2)),
		msg: SharedObject{Name: "chat", Events: []SharedObjectEvent{{Type: SORelease}}},
	},
	{
		name: "shared object request change", spec: "§7.1.3 Request Change(=3)",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 1, 0), "03 0000000b 0003666f6f 020003626172"),
		msg: SharedObject{Name: "chat", Version: 1, Events: []SharedObjectEvent{{Type: SORequestChange, Name: "foo", Value: "bar"}}},
	},
	{
		name: "shared object change", spec: "§7.1.3 Change(=4)",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 2, 0), soEvent(4, utf("count"), num(3))),
		msg: SharedObject{Name: "chat", Version: 2, Events: []SharedObjectEvent{{Type: SOChange, Name: "count", Value: 3.0}}},
	},
	{
		name: "shared object success", spec: "§7.1.3 Success(=5)",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 2, 0), soEvent(5, utf("foo"))),
		msg: SharedObject{Name: "chat", Version: 2, Events: []SharedObjectEvent{{Type: SOSuccess, Name: "foo"}}},
	},
	{
		name: "shared object send message", spec: "§7.1.3 SendMessage(=6), §7.3.2",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 2, 0), soEvent(6, str("newMessage"), str("hello"), obj(prop("from", str("ana"))))),
		msg: SharedObject{Name: "chat", Version: 2, Events: []SharedObjectEvent{{Type: SOSendMessage, Values: []amf0.Value{"newMessage", "hello", amf0.Object{{Key: "from", Value: "ana"}}}}}},
	},
	{
		name: "shared object status", spec: "§7.1.3 Status(=7)",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 0, 0x30<<32), "07 00000022", utf("SharedObject.NoReadAccess"), utf("error")),
		msg: SharedObject{Name: "chat", Flags: 0x30 << 32, Events: []SharedObjectEvent{{Type: SOStatus, Code: "SharedObject.NoReadAccess", Level: "error"}}},
	},
	{
		name: "shared object use success and clear", spec: "§7.1.3 UseSuccess(=11), Clear(=8); §7.3.2",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 1, 0), soEvent(11), soEvent(8)),
		msg: SharedObject{Name: "chat", Version: 1, Events: []SharedObjectEvent{{Type: SOUseSuccess}, {Type: SOClear}}},
	},
	{
		name: "shared object remove", spec: "§7.1.3 Remove(=9)",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 3, 0), soEvent(9, utf("foo"))),
		msg: SharedObject{Name: "chat", Version: 3, Events: []SharedObjectEvent{{Type: SORemove, Name: "foo"}}},
	},
	{
		name: "shared object request remove", spec: "§7.1.3 Request Remove(=10)",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 3, 0), soEvent(10, utf("foo"))),
		msg: SharedObject{Name: "chat", Version: 3, Events: []SharedObjectEvent{{Type: SORequestRemove, Name: "foo"}}},
	},
	{
		name: "shared object unknown event kept raw", spec: "§7.1.3",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 3, 0), soEvent(4, utf("foo"), str("bar")), soEvent(12, utf("foo"), "00000001")),
		msg: SharedObject{Name: "chat", Version: 3, Events: []SharedObjectEvent{
			{Type: SOChange, Name: "foo", Value: "bar"},
			{Type: 12, Data: hx(utf("foo"), "00000001")},
		}},
	},
	{
		name: "shared object event with trailing bytes kept", spec: "§7.1.3",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("chat", 0, 0), soEvent(1, "abcd"), soEvent(5, utf("foo"), "ee")),
		msg: SharedObject{Name: "chat", Events: []SharedObjectEvent{{Type: SOUse, Data: hx("abcd")}, {Type: SOSuccess, Name: "foo", Data: hx("ee")}}},
	},
	{
		name: "shared object AMF3 change", spec: "§7.1.3 (type 16); E-RTMP v2 AMF3 clarification",
		typ: TypeSharedObjectAMF3, wire: hx("00", soHead("chat", 5, 0), soEvent(4, utf("n"), "11 04 2a")),
		msg: SharedObject{AMF3: true, Name: "chat", Version: 5, Events: []SharedObjectEvent{{Type: SOChange, Name: "n", Value: amf0.AMF3{Value: int32(42)}}}},
	},
	{
		name: "shared object with no events", spec: "§7.1.3",
		typ: TypeSharedObjectAMF0, wire: hx(soHead("", 0, 0)),
		msg: SharedObject{},
	},

	// §7.2 Commands.
	{
		name: "connect, the example values of the spec", spec: "§7.2.1.1",
		typ: TypeCommandAMF0,
		wire: hx(str("connect"), num(1), obj(
			prop("app", str("testapp")),
			prop("flashver", str("FMSc/1.0")),
			prop("swfUrl", str("file://C:/FlvPlayer.swf")),
			prop("tcUrl", str("rtmp://localhost:1935/testapp/instance1")),
			prop("fpad", boo(false)),
			prop("audioCodecs", num(4)),
			prop("videoCodecs", num(4)),
			prop("videoFunction", num(1)),
			prop("pageUrl", str("http://somehost/sample.html")),
			prop("objectEncoding", num(3)),
		)),
		msg: Command{Name: "connect", TransactionID: 1, Object: specConnectProps},
		view: Connect{
			TransactionID: 1, App: "testapp", FlashVer: "FMSc/1.0", SwfURL: "file://C:/FlvPlayer.swf",
			TcURL: "rtmp://localhost:1935/testapp/instance1", AudioCodecs: SupportSndMP3,
			VideoCodecs: SupportVidSorenson, VideoFunction: SupportVidClientSeek,
			PageURL: "http://somehost/sample.html", ObjectEncoding: ObjectEncodingAMF3,
			Props: specConnectProps,
		},
	},
	{
		name: "connect, Enhanced RTMP, FFmpeg layout", spec: "§7.2.1.1; E-RTMP v2 Enhancing NetConnection connect Command",
		typ: TypeCommandAMF0,
		wire: hx(str("connect"), num(1), obj(
			prop("app", str("live")),
			prop("type", str("nonprivate")),
			prop("flashVer", str("FMLE/3.0 (compatible; Lavf61.7.100)")),
			prop("tcUrl", str("rtmp://localhost:1935/live")),
			prop("fourCcList", fourCCWire()),
			prop("videoFourCcInfoMap", obj(prop("*", num(4)), prop("vp09", num(3)))),
			prop("audioFourCcInfoMap", obj(prop("*", num(4)), prop("Opus", num(3)))),
			prop("capsEx", num(3)),
		)),
		msg: Command{Name: "connect", TransactionID: 1, Object: enhancedConnectProps},
		view: Connect{
			TransactionID: 1, App: "live", FlashVer: "FMLE/3.0 (compatible; Lavf61.7.100)",
			TcURL: "rtmp://localhost:1935/live", FourCCList: enhancedFourCCs,
			VideoFourCCInfoMap: map[string]FourCCInfoMask{"*": FourCCCanForward, "vp09": FourCCCanDecode | FourCCCanEncode},
			AudioFourCCInfoMap: map[string]FourCCInfoMask{"*": FourCCCanForward, "Opus": FourCCCanDecode | FourCCCanEncode},
			CapsEx:             CapsExReconnect | CapsExMultitrack,
			Props:              enhancedConnectProps,
		},
	},
	{
		name: "connect, Enhanced RTMP, built from fields", spec: "E-RTMP v2 Enhancing NetConnection connect Command",
		typ: TypeCommandAMF0,
		wire: hx(str("connect"), num(1), obj(
			prop("app", str("live")),
			prop("flashVer", str("ertmp")),
			prop("tcUrl", str("rtmp://localhost/live")),
			prop("fourCcList", strict(str("*"))),
			prop("videoFourCcInfoMap", obj(prop("*", num(4)), prop("vp09", num(3)))),
			prop("capsEx", num(15)),
			prop("type", str("nonprivate")),
		), obj(prop("user", str("ana")))),
		msg: Command{Name: "connect", TransactionID: 1, Object: amf0.Object{
			{Key: "app", Value: "live"},
			{Key: "flashVer", Value: "ertmp"},
			{Key: "tcUrl", Value: "rtmp://localhost/live"},
			{Key: "fourCcList", Value: amf0.StrictArray{"*"}},
			{Key: "videoFourCcInfoMap", Value: amf0.Object{{Key: "*", Value: 4.0}, {Key: "vp09", Value: 3.0}}},
			{Key: "capsEx", Value: 15.0},
			{Key: "type", Value: "nonprivate"},
		}, Args: []amf0.Value{amf0.Object{{Key: "user", Value: "ana"}}}},
		built: func() Message {
			return Connect{
				TransactionID: 1, App: "live", FlashVer: "ertmp", TcURL: "rtmp://localhost/live",
				FourCCList:         []string{FourCCWildcard},
				VideoFourCCInfoMap: map[string]FourCCInfoMask{"vp09": FourCCCanDecode | FourCCCanEncode, "*": FourCCCanForward},
				CapsEx:             CapsExReconnect | CapsExMultitrack | CapsExModEx | CapsExTimestampNanoOffset,
				Props:              amf0.Object{{Key: "type", Value: "nonprivate"}},
				Args:               []amf0.Value{amf0.Object{{Key: "user", Value: "ana"}}},
			}.Command()
		},
	},
	{
		name: "connect _result", spec: "§7.2.1.1: properties and information objects",
		typ: TypeCommandAMF0,
		wire: hx(str("_result"), num(1),
			obj(prop("fmsVer", str("FMS/3,0,1,123")), prop("capabilities", num(31))),
			obj(prop("level", str("status")), prop("code", str("NetConnection.Connect.Success")),
				prop("description", str("Connection succeeded.")), prop("objectEncoding", num(0)))),
		msg: Command{Name: "_result", TransactionID: 1, Object: connectResultProps, Args: []amf0.Value{connectResultInfo}},
		built: func() Message {
			info := Status{Level: LevelStatus, Code: CodeConnectSuccess, Description: "Connection succeeded.",
				Props: amf0.Object{{Key: "objectEncoding", Value: 0.0}}}
			return NewResult(1, connectResultProps, info.Object())
		},
		status: &Status{Level: "status", Code: CodeConnectSuccess, Description: "Connection succeeded.", Props: connectResultInfo},
	},
	{
		name: "connect _error rejected", spec: "§7.2.1.1",
		typ: TypeCommandAMF0,
		wire: hx(str("_error"), num(1), null,
			obj(prop("level", str("error")), prop("code", str("NetConnection.Connect.Rejected")), prop("description", str("Connection rejected.")))),
		msg: Command{Name: "_error", TransactionID: 1, Args: []amf0.Value{amf0.Object{
			{Key: "level", Value: "error"}, {Key: "code", Value: "NetConnection.Connect.Rejected"}, {Key: "description", Value: "Connection rejected."},
		}}},
		built: func() Message {
			return NewErrorResult(1, nil, NewStatus(LevelError, CodeConnectRejected, "Connection rejected.").Object())
		},
	},
	{
		name: "createStream", spec: "§7.2.1.3",
		typ: TypeCommandAMF0, wire: hx(str("createStream"), num(2), null),
		msg:  Command{Name: "createStream", TransactionID: 2},
		view: CreateStream{TransactionID: 2},
	},
	{
		name: "createStream _result", spec: "§7.2.1.3: the return value is a stream ID",
		typ: TypeCommandAMF0, wire: hx(str("_result"), num(2), null, num(1)),
		msg:   Command{Name: "_result", TransactionID: 2, Args: []amf0.Value{1.0}},
		built: func() Message { return NewCreateStreamResult(2, 1) },
	},
	{
		name: "publish live", spec: "§7.2.2.6",
		typ: TypeCommandAMF0, wire: hx(str("publish"), num(5), null, str("stream"), str("live")),
		msg:  Command{Name: "publish", TransactionID: 5, Args: []amf0.Value{"stream", "live"}},
		view: Publish{TransactionID: 5, Name: "stream", Type: PublishLive},
	},
	{
		name: "publish without type", spec: "§7.2.2.6",
		typ: TypeCommandAMF0, wire: hx(str("publish"), num(0), null, str("cam?key=s3cr3t")),
		msg:  Command{Name: "publish", Args: []amf0.Value{"cam?key=s3cr3t"}},
		view: Publish{Name: "cam?key=s3cr3t"},
	},
	{
		name: "play as FFmpeg sends it", spec: "§7.2.2.1",
		typ: TypeCommandAMF0, wire: hx(str("play"), num(4), null, str("stream"), num(-2000)),
		msg:  Command{Name: "play", TransactionID: 4, Args: []amf0.Value{"stream", -2000.0}},
		view: Play{TransactionID: 4, Name: "stream", Start: -2000, Duration: PlayDurationDefault, Reset: true},
	},
	{
		name: "play with every argument", spec: "§7.2.2.1",
		typ: TypeCommandAMF0, wire: hx(str("play"), num(0), null, str("mp4:sample.m4v"), num(0), num(-1), boo(false)),
		msg:  Command{Name: "play", Args: []amf0.Value{"mp4:sample.m4v", 0.0, -1.0, false}},
		view: Play{Name: "mp4:sample.m4v", Start: 0, Duration: -1, Reset: false},
	},
	{
		name: "play with name only", spec: "§7.2.2.1: start and duration optional",
		typ: TypeCommandAMF0, wire: hx(str("play"), num(0), null, str("live")),
		msg:   Command{Name: "play", Args: []amf0.Value{"live"}},
		view:  Play{Name: "live", Start: PlayStartDefault, Duration: PlayDurationDefault, Reset: true},
		built: func() Message { return NewPlay("live").Command() },
	},
	{
		name: "play2", spec: "§7.2.2.2",
		typ: TypeCommandAMF0, wire: hx(str("play2"), num(0), null, obj(
			prop("streamName", str("high")), prop("oldStreamName", str("low")),
			prop("start", num(-2)), prop("len", num(-1)), prop("transition", str("switch")))),
		msg: Command{Name: "play2", Args: []amf0.Value{amf0.Object{
			{Key: "streamName", Value: "high"}, {Key: "oldStreamName", Value: "low"},
			{Key: "start", Value: -2.0}, {Key: "len", Value: -1.0}, {Key: "transition", Value: "switch"},
		}}},
		view: Play2{Params: amf0.Object{
			{Key: "streamName", Value: "high"}, {Key: "oldStreamName", Value: "low"},
			{Key: "start", Value: -2.0}, {Key: "len", Value: -1.0}, {Key: "transition", Value: "switch"},
		}},
	},
	{
		name: "pause", spec: "§7.2.2.8",
		typ: TypeCommandAMF0, wire: hx(str("pause"), num(0), null, boo(true), num(1234)),
		msg:  Command{Name: "pause", Args: []amf0.Value{true, 1234.0}},
		view: Pause{Pause: true, Milliseconds: 1234},
	},
	{
		name: "seek", spec: "§7.2.2.7",
		typ: TypeCommandAMF0, wire: hx(str("seek"), num(0), null, num(5000)),
		msg:  Command{Name: "seek", Args: []amf0.Value{5000.0}},
		view: Seek{Milliseconds: 5000},
	},
	{
		name: "receiveAudio", spec: "§7.2.2.4",
		typ: TypeCommandAMF0, wire: hx(str("receiveAudio"), num(0), null, boo(true)),
		msg:  Command{Name: "receiveAudio", Args: []amf0.Value{true}},
		view: ReceiveAudio{Receive: true},
	},
	{
		name: "receiveVideo", spec: "§7.2.2.5",
		typ: TypeCommandAMF0, wire: hx(str("receiveVideo"), num(0), null, boo(false)),
		msg:  Command{Name: "receiveVideo", Args: []amf0.Value{false}},
		view: ReceiveVideo{Receive: false},
	},
	{
		name: "closeStream", spec: "§7.2.2",
		typ: TypeCommandAMF0, wire: hx(str("closeStream"), num(0), null),
		msg:  Command{Name: "closeStream"},
		view: CloseStream{},
	},
	{
		name: "deleteStream", spec: "§7.2.2.3",
		typ: TypeCommandAMF0, wire: hx(str("deleteStream"), num(0), null, num(1)),
		msg:  Command{Name: "deleteStream", Args: []amf0.Value{1.0}},
		view: DeleteStream{StreamID: 1},
	},
	{
		name: "releaseStream", spec: "FMLE/OBS/FFmpeg",
		typ: TypeCommandAMF0, wire: hx(str("releaseStream"), num(2), null, str("stream")),
		msg:  Command{Name: "releaseStream", TransactionID: 2, Args: []amf0.Value{"stream"}},
		view: ReleaseStream{TransactionID: 2, Name: "stream"},
	},
	{
		name: "FCPublish", spec: "FMLE/OBS/FFmpeg",
		typ: TypeCommandAMF0, wire: hx(str("FCPublish"), num(3), null, str("stream")),
		msg:  Command{Name: "FCPublish", TransactionID: 3, Args: []amf0.Value{"stream"}},
		view: FCPublish{TransactionID: 3, Name: "stream"},
	},
	{
		name: "FCUnpublish", spec: "FMLE/OBS/FFmpeg",
		typ: TypeCommandAMF0, wire: hx(str("FCUnpublish"), num(6), null, str("stream")),
		msg:  Command{Name: "FCUnpublish", TransactionID: 6, Args: []amf0.Value{"stream"}},
		view: FCUnpublish{TransactionID: 6, Name: "stream"},
	},
	{
		name: "onStatus publish start", spec: "§7.2.2: level, code, description",
		typ:  TypeCommandAMF0,
		wire: hx(str("onStatus"), num(0), null, obj(prop("level", str("status")), prop("code", str("NetStream.Publish.Start")), prop("description", str("Start publishing")))),
		msg: Command{Name: "onStatus", Args: []amf0.Value{amf0.Object{
			{Key: "level", Value: "status"}, {Key: "code", Value: "NetStream.Publish.Start"}, {Key: "description", Value: "Start publishing"},
		}}},
		built:  func() Message { return NewOnStatus(LevelStatus, CodePublishStart, "Start publishing") },
		status: &Status{Level: "status", Code: CodePublishStart, Description: "Start publishing", Props: amf0.Object{{Key: "level", Value: "status"}, {Key: "code", Value: "NetStream.Publish.Start"}, {Key: "description", Value: "Start publishing"}}},
	},
	{
		name: "onStatus play start with extra properties", spec: "§7.2.2: the info object MAY contain other properties",
		typ: TypeCommandAMF0,
		wire: hx(str("onStatus"), num(0), null, obj(prop("level", str("status")), prop("code", str("NetStream.Play.Start")),
			prop("description", str("Started playing stream.")), prop("details", str("stream")), prop("clientid", str("x1")))),
		msg: Command{Name: "onStatus", Args: []amf0.Value{amf0.Object{
			{Key: "level", Value: "status"}, {Key: "code", Value: "NetStream.Play.Start"}, {Key: "description", Value: "Started playing stream."},
			{Key: "details", Value: "stream"}, {Key: "clientid", Value: "x1"},
		}}},
		built: func() Message {
			return NewStatusCommand(NameOnStatus, Status{Level: LevelStatus, Code: CodePlayStart, Description: "Started playing stream.",
				Props: amf0.Object{{Key: "details", Value: "stream"}, {Key: "clientid", Value: "x1"}}})
		},
	},
	{
		name: "onFCPublish", spec: "FMS answer to FCPublish",
		typ:  TypeCommandAMF0,
		wire: hx(str("onFCPublish"), num(0), null, obj(prop("code", str("NetStream.Publish.Start")), prop("description", str("stream")))),
		msg: Command{Name: "onFCPublish", Args: []amf0.Value{amf0.Object{
			{Key: "code", Value: "NetStream.Publish.Start"}, {Key: "description", Value: "stream"},
		}}},
		built: func() Message { return NewOnFCPublish(CodePublishStart, "stream") },
	},
	{
		name: "reconnect request with tcUrl", spec: "E-RTMP v2 Reconnect Request",
		typ: TypeCommandAMF0,
		wire: hx(str("onStatus"), num(0), null, obj(prop("level", str("status")), prop("code", str("NetConnection.Connect.ReconnectRequest")),
			prop("description", str("The streaming server is undergoing updates.")), prop("tcUrl", str("rtmp://foo.mydomain.com:1935/realtimeapp")))),
		msg: Command{Name: "onStatus", Args: []amf0.Value{amf0.Object{
			{Key: "level", Value: "status"}, {Key: "code", Value: "NetConnection.Connect.ReconnectRequest"},
			{Key: "description", Value: "The streaming server is undergoing updates."},
			{Key: "tcUrl", Value: "rtmp://foo.mydomain.com:1935/realtimeapp"},
		}}},
		view: ReconnectRequest{TcURL: "rtmp://foo.mydomain.com:1935/realtimeapp", Description: "The streaming server is undergoing updates."},
		built: func() Message {
			return NewReconnectRequest("rtmp://foo.mydomain.com:1935/realtimeapp", "The streaming server is undergoing updates.")
		},
	},
	{
		name: "reconnect request without tcUrl", spec: "E-RTMP v2 Reconnect Request: tcUrl and description optional",
		typ:  TypeCommandAMF0,
		wire: hx(str("onStatus"), num(0), null, obj(prop("level", str("status")), prop("code", str("NetConnection.Connect.ReconnectRequest")))),
		msg: Command{Name: "onStatus", Args: []amf0.Value{amf0.Object{
			{Key: "level", Value: "status"}, {Key: "code", Value: "NetConnection.Connect.ReconnectRequest"},
		}}},
		view:  ReconnectRequest{},
		built: func() Message { return NewReconnectRequest("", "") },
	},
	{
		name: "call", spec: "§7.2.1.2: procedure name, transaction ID, command object, arguments",
		typ: TypeCommandAMF0, wire: hx(str("verifyClient"), num(7), null, str("token"), num(1)),
		msg: Command{Name: "verifyClient", TransactionID: 7, Args: []amf0.Value{"token", 1.0}},
	},
	{
		name: "call with undefined command object", spec: "§7.2.1.2",
		typ: TypeCommandAMF0, wire: hx(str("_result"), num(3), null, "06"),
		msg: Command{Name: "_result", TransactionID: 3, Args: []amf0.Value{amf0.Undefined{}}},
	},
	{
		name: "AMF3 command with AMF3 values", spec: "§7.1.1 (type 17); E-RTMP v2 AMF3 clarification",
		typ: TypeCommandAMF3, wire: hx("00", str("sendChat"), num(0), null, "11 06 05 6869", "11 04 2a"),
		msg: Command{AMF3: true, Name: "sendChat", Args: []amf0.Value{amf0.AMF3{Value: "hi"}, amf0.AMF3{Value: int32(42)}}},
	},
	{
		name: "AMF3 command with AMF0 values only", spec: "§7.1.1 (type 17)",
		typ: TypeCommandAMF3, wire: hx("00", str("createStream"), num(2), null),
		msg:  Command{AMF3: true, Name: "createStream", TransactionID: 2},
		view: CreateStream{TransactionID: 2},
	},
	{
		name: "AMF3 connect _result with an AMF3 info object", spec: "§7.1.1 (type 17)",
		typ:  TypeCommandAMF3,
		wire: hx("00", str("_result"), num(1), null, "11 0a 0b 01", "0b", fmt.Sprintf("%x", "level"), "06 0d", fmt.Sprintf("%x", "status"), "09", fmt.Sprintf("%x", "code"), "06 13", fmt.Sprintf("%x", "some.code"), "01"),
		msg: Command{AMF3: true, Name: "_result", TransactionID: 1, Args: []amf0.Value{amf0.AMF3{Value: &amf3.Object{
			Traits:  &amf3.Traits{Dynamic: true},
			Dynamic: []amf3.Property{{Key: "level", Value: "status"}, {Key: "code", Value: "some.code"}},
		}}}},
		status: &Status{Level: "status", Code: "some.code", Props: amf0.Object{{Key: "level", Value: "status"}, {Key: "code", Value: "some.code"}}},
	},

	// §7.1.6 Aggregate messages.
	{
		name: "aggregate audio and video", spec: "§7.1.6",
		typ: TypeAggregate, wire: hx(sub(8, 1000, 1, "af01aabb"), sub(9, 1000, 1, "2701000000")),
		msg: Aggregate{Payload: hx(sub(8, 1000, 1, "af01aabb"), sub(9, 1000, 1, "2701000000"))}, aggTS: 1000,
		subs: []SubMessage{
			{Type: TypeAudio, Timestamp: 1000, StreamID: 1, Payload: hx("af01aabb")},
			{Type: TypeVideo, Timestamp: 1000, StreamID: 1, Payload: hx("2701000000")},
		},
	},
	{
		name: "aggregate timestamps rebased, extended byte, negative offset", spec: "§7.1.6: offset = aggregate - first sub-message",
		typ:     TypeAggregate,
		wire:    hx(sub(8, 0x02000005, 1, "af01"), sub(9, 0x02000005+40, 1, "2701"), sub(18, 0x02000005+40, 1, str("x"))),
		msg:     Aggregate{Payload: hx(sub(8, 0x02000005, 1, "af01"), sub(9, 0x02000005+40, 1, "2701"), sub(18, 0x02000005+40, 1, str("x")))},
		aggTS:   1000,
		rebased: true,
		subs: []SubMessage{
			{Type: TypeAudio, Timestamp: 1000, StreamID: 1, Payload: hx("af01")},
			{Type: TypeVideo, Timestamp: 1040, StreamID: 1, Payload: hx("2701")},
			{Type: TypeDataAMF0, Timestamp: 1040, StreamID: 1, Payload: hx(str("x"))},
		},
	},
	{
		name: "aggregate back-pointer mismatch", spec: "§7.1.6: back pointer = size of the previous message including its header",
		typ:     TypeAggregate,
		wire:    hx(sub(8, 0, 1, "af01"), sub(9, 0, 1, "2701", 2)),
		msg:     Aggregate{Payload: hx(sub(8, 0, 1, "af01"), sub(9, 0, 1, "2701", 2))},
		subs:    []SubMessage{{Type: TypeAudio, StreamID: 1, Payload: hx("af01")}},
		subsErr: &BackPointerError{Index: 1, Offset: 30, Got: 2, Want: 13},
	},
	{
		name: "empty aggregate", spec: "§7.1.6",
		typ: TypeAggregate, wire: nil, msg: Aggregate{},
	},
}

func TestGoldenDecode(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			m, err := Decode(g.typ, g.wire)
			if err != nil {
				t.Fatalf("Decode(%v, %x): %v (%s)", g.typ, g.wire, err, g.spec)
			}
			if !equal(m, g.msg) {
				t.Fatalf("Decode(%v, %x) =\n%#v\nwant\n%#v (%s)", g.typ, g.wire, m, g.msg, g.spec)
			}
			if m.Type() != g.typ {
				t.Errorf("Type() = %v, want %v", m.Type(), g.typ)
			}
		})
	}
}

func TestGoldenEncode(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			prefix := []byte("pre")
			b, err := g.msg.AppendPayload(prefix)
			if err != nil {
				t.Fatalf("AppendPayload: %v", err)
			}
			if !bytes.Equal(b[:3], prefix) || !bytes.Equal(b[3:], g.wire) {
				t.Fatalf("AppendPayload =\n%x\nwant\n%x (%s)", b[3:], g.wire, g.spec)
			}
			if g.msg.Type() != g.typ {
				t.Errorf("Type() = %v, want %v", g.msg.Type(), g.typ)
			}
			if g.built == nil {
				return
			}
			m := g.built()
			if !equal(m, g.msg) {
				t.Fatalf("built =\n%#v\nwant\n%#v", m, g.msg)
			}
			if b, err := m.AppendPayload(nil); err != nil || !bytes.Equal(b, g.wire) {
				t.Fatalf("built encodes to %x, %v; want %x", b, err, g.wire)
			}
		})
	}
}

// parseView parses c as the view of like's type.
func parseView(c Command, like viewer) (viewer, error) {
	v := func(x viewer, err error) (viewer, error) { return x, err }
	switch like.(type) {
	case Connect:
		return v(ParseConnect(c))
	case CreateStream:
		return v(ParseCreateStream(c))
	case Publish:
		return v(ParsePublish(c))
	case Play:
		return v(ParsePlay(c))
	case Play2:
		return v(ParsePlay2(c))
	case Pause:
		return v(ParsePause(c))
	case Seek:
		return v(ParseSeek(c))
	case ReceiveAudio:
		return v(ParseReceiveAudio(c))
	case ReceiveVideo:
		return v(ParseReceiveVideo(c))
	case CloseStream:
		return v(ParseCloseStream(c))
	case DeleteStream:
		return v(ParseDeleteStream(c))
	case ReleaseStream:
		return v(ParseReleaseStream(c))
	case FCPublish:
		return v(ParseFCPublish(c))
	case FCUnpublish:
		return v(ParseFCUnpublish(c))
	case ReconnectRequest:
		r, ok := ParseReconnectRequest(c)
		if !ok {
			return nil, errors.New("not a reconnect request")
		}
		return r, nil
	}
	panic(fmt.Sprintf("no parser for %T", like))
}

func TestGoldenViews(t *testing.T) {
	n := 0
	for _, g := range goldens {
		if g.view == nil && g.status == nil {
			continue
		}
		n++
		t.Run(g.name, func(t *testing.T) {
			m, err := Decode(g.typ, g.wire)
			if err != nil {
				t.Fatal(err)
			}
			c := m.(Command)
			if g.status != nil {
				s, ok := c.Status()
				if !ok || !equal(s, *g.status) {
					t.Errorf("Status() = %#v, %v; want %#v", s, ok, *g.status)
				}
			}
			if g.view == nil {
				return
			}
			v, err := parseView(c, g.view)
			if err != nil {
				t.Fatalf("parse %T: %v (%s)", g.view, err, g.spec)
			}
			if !equal(v, g.view) {
				t.Fatalf("parse =\n%#v\nwant\n%#v (%s)", v, g.view, g.spec)
			}
			vc := v.Command()
			vc.AMF3 = c.AMF3
			b, err := vc.AppendPayload(nil)
			if err != nil || !bytes.Equal(b, g.wire) {
				t.Fatalf("view encodes to\n%x, %v\nwant\n%x", b, err, g.wire)
			}
		})
	}
	if n < 20 {
		t.Fatalf("only %d view goldens", n)
	}
}

func TestGoldenAggregates(t *testing.T) {
	for _, g := range goldens {
		if g.typ != TypeAggregate {
			continue
		}
		t.Run(g.name, func(t *testing.T) {
			subs, err := Aggregate{Payload: g.wire}.Split(nil, g.aggTS)
			if !equal(subs, g.subs) {
				t.Errorf("Split =\n%#v\nwant\n%#v", subs, g.subs)
			}
			switch want := g.subsErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("Split: %v", err)
				}
				// Rebuilding from the rebased sub-messages and splitting
				// at the first one's timestamp gives them back; with no
				// rebasing, the bytes too.
				b, err := AppendAggregate(nil, subs)
				if err != nil {
					t.Fatal(err)
				}
				var ts uint32
				if len(subs) > 0 {
					ts = subs[0].Timestamp
				}
				again, err := Aggregate{Payload: b}.Split(nil, ts)
				if err != nil || !equal(again, subs) {
					t.Fatalf("rebuilt split = %#v, %v", again, err)
				}
				if !g.rebased && !bytes.Equal(b, g.wire) {
					t.Fatalf("AppendAggregate = %x, want %x", b, g.wire)
				}
			case *BackPointerError:
				var bpe *BackPointerError
				if !errors.As(err, &bpe) || *bpe != *want || !errors.Is(err, ErrBackPointer) {
					t.Fatalf("Split error = %v, want %v", err, want)
				}
				// Lenient: every sub-message.
				it := NewAggregateIterator(g.wire, g.aggTS)
				it.IgnoreBackPointers = true
				n := 0
				for it.Next() {
					n++
				}
				if it.Err() != nil || n != 2 {
					t.Fatalf("lenient: %d sub-messages, %v", n, it.Err())
				}
			}
		})
	}
}

// TestGoldenCoverage checks that the table has a case for every message
// type, user control event, shared object event and command view.
func TestGoldenCoverage(t *testing.T) {
	types := map[Type]bool{}
	events := map[EventType]bool{}
	soEvents := map[SharedObjectEventType]bool{}
	views := map[string]bool{}
	for _, g := range goldens {
		types[g.typ] = true
		switch m := g.msg.(type) {
		case UserControl:
			events[m.Event] = true
		case SharedObject:
			for _, e := range m.Events {
				soEvents[e.Type] = true
			}
		}
		if g.view != nil {
			views[fmt.Sprintf("%T", g.view)] = true
		}
	}
	for ty := Type(0); ty < 255; ty++ {
		if ty.Known() && !types[ty] {
			t.Errorf("no golden for %v", ty)
		}
	}
	for _, e := range []EventType{EventStreamBegin, EventStreamEOF, EventStreamDry, EventSetBufferLength, EventStreamIsRecorded, EventPingRequest, EventPingResponse} {
		if !events[e] {
			t.Errorf("no golden for user control event %v", e)
		}
	}
	for e := SOUse; e <= SOUseSuccess; e++ {
		if !soEvents[e] {
			t.Errorf("no golden for shared object event %v", e)
		}
	}
	for _, v := range []viewer{Connect{}, CreateStream{}, Publish{}, Play{}, Play2{}, Pause{}, Seek{}, ReceiveAudio{}, ReceiveVideo{}, CloseStream{}, DeleteStream{}, ReleaseStream{}, FCPublish{}, FCUnpublish{}, ReconnectRequest{}} {
		if !views[fmt.Sprintf("%T", v)] {
			t.Errorf("no golden for view %T", v)
		}
	}
}
