package message

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ertmp/rtmp/amf0"
)

func decodeCommand(t *testing.T, wire []byte) Command {
	t.Helper()
	m, err := Decode(TypeCommandAMF0, wire)
	if err != nil {
		t.Fatal(err)
	}
	return m.(Command)
}

func TestConnectMerge(t *testing.T) {
	c := decodeCommand(t, hx(str("connect"), num(1), obj(
		prop("app", str("live")),
		prop("type", str("nonprivate")),
		prop("flashver", str("FMLE/3.0")),
		prop("tcUrl", "0c 00000015 72746d703a2f2f6c6f63616c686f73742f6c697665"), // long string
		prop("audioCodecs", str("weird")),
		prop("fpad", boo(false)),
	)))
	k, err := ParseConnect(c)
	if err != nil {
		t.Fatal(err)
	}
	if k.App != "live" || k.FlashVer != "FMLE/3.0" || k.TcURL != "rtmp://localhost/live" || k.AudioCodecs != 0 {
		t.Fatalf("view %#v", k)
	}
	// Unchanged: the same object, long string and mistyped property kept.
	if got := k.Object(); !equal(got, c.Object) {
		t.Fatalf("unchanged view writes\n%#v\nwant\n%#v", got, c.Object)
	}
	// Changed fields are replaced in place; new ones go first; the
	// spelling "flashver" is kept; Props is not modified.
	k.App = "other"
	k.FlashVer = "ertmp"
	k.Fpad = true
	k.CapsEx = CapsExReconnect
	k.AudioCodecs = SupportSndAAC
	want := amf0.Object{
		{Key: "capsEx", Value: 1.0},
		{Key: "app", Value: "other"},
		{Key: "type", Value: "nonprivate"},
		{Key: "flashver", Value: "ertmp"},
		{Key: "tcUrl", Value: amf0.LongString("rtmp://localhost/live")},
		{Key: "audioCodecs", Value: 1024.0},
		{Key: "fpad", Value: true},
	}
	if got := k.Object(); !equal(got, want) {
		t.Fatalf("changed view writes\n%#v\nwant\n%#v", got, want)
	}
	if v, _ := k.Props.Get("app"); v != "live" {
		t.Fatalf("Props modified: app = %v", v)
	}
	// Clearing a field writes its zero value in place.
	k.Fpad = false
	k.App = ""
	got := k.Object()
	if v, _ := got.Get("fpad"); v != false {
		t.Errorf("fpad = %v", v)
	}
	if v, _ := got.Get("app"); v != "" {
		t.Errorf("app = %v", v)
	}
}

func TestConnectVariants(t *testing.T) {
	// An ECMA array as command object is read as an object.
	c := decodeCommand(t, hx(str("connect"), num(1), ecma(1, prop("app", str("live")))))
	k, err := ParseConnect(c)
	if err != nil || k.App != "live" {
		t.Fatalf("ECMA array: %#v, %v", k, err)
	}
	// Unreadable info maps and lists leave the fields nil and the
	// properties alone.
	c = decodeCommand(t, hx(str("connect"), num(1), obj(
		prop("fourCcList", strict(str("av01"), num(1))),
		prop("videoFourCcInfoMap", obj(prop("*", str("x")))),
		prop("capsEx", num(-1)),
	)))
	k, err = ParseConnect(c)
	if err != nil || k.FourCCList != nil || k.VideoFourCCInfoMap != nil || k.CapsEx != 0 {
		t.Fatalf("bad enhanced fields: %#v, %v", k, err)
	}
	if !equal(k.Object(), c.Object) {
		t.Fatalf("unreadable properties changed: %#v", k.Object())
	}
	// Errors.
	if _, err := ParseConnect(Command{Name: "connect", Object: "x"}); !errors.Is(err, ErrArgument) {
		t.Errorf("string command object: %v", err)
	}
	if _, err := ParseConnect(Command{Name: "play"}); !errors.Is(err, ErrWrongCommand) {
		t.Errorf("wrong name: %v", err)
	}
}

func TestViewErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		c     Command
		parse func(Command) error
		want  error
	}{
		{"publish without name", Command{Name: NamePublish}, func(c Command) error { _, err := ParsePublish(c); return err }, ErrArgument},
		{"publish with a number type", Command{Name: NamePublish, Args: []amf0.Value{"a", 1.0}}, func(c Command) error { _, err := ParsePublish(c); return err }, ErrArgument},
		{"play without name", Command{Name: NamePlay, Args: []amf0.Value{nil}}, func(c Command) error { _, err := ParsePlay(c); return err }, ErrArgument},
		{"play with a string start", Command{Name: NamePlay, Args: []amf0.Value{"a", "0"}}, func(c Command) error { _, err := ParsePlay(c); return err }, ErrArgument},
		{"play with a string duration", Command{Name: NamePlay, Args: []amf0.Value{"a", 0.0, "0"}}, func(c Command) error { _, err := ParsePlay(c); return err }, ErrArgument},
		{"play with a string reset", Command{Name: NamePlay, Args: []amf0.Value{"a", 0.0, 0.0, "no"}}, func(c Command) error { _, err := ParsePlay(c); return err }, ErrArgument},
		{"play2 without object", Command{Name: NamePlay2}, func(c Command) error { _, err := ParsePlay2(c); return err }, ErrArgument},
		{"pause without flag", Command{Name: NamePause}, func(c Command) error { _, err := ParsePause(c); return err }, ErrArgument},
		{"pause with a string time", Command{Name: NamePause, Args: []amf0.Value{true, "1"}}, func(c Command) error { _, err := ParsePause(c); return err }, ErrArgument},
		{"seek without time", Command{Name: NameSeek}, func(c Command) error { _, err := ParseSeek(c); return err }, ErrArgument},
		{"receiveAudio with a number", Command{Name: NameReceiveAudio, Args: []amf0.Value{1.0}}, func(c Command) error { _, err := ParseReceiveAudio(c); return err }, ErrArgument},
		{"receiveVideo without flag", Command{Name: NameReceiveVideo}, func(c Command) error { _, err := ParseReceiveVideo(c); return err }, ErrArgument},
		{"deleteStream without id", Command{Name: NameDeleteStream}, func(c Command) error { _, err := ParseDeleteStream(c); return err }, ErrArgument},
		{"releaseStream without name", Command{Name: NameReleaseStream}, func(c Command) error { _, err := ParseReleaseStream(c); return err }, ErrArgument},
		{"FCPublish wrong name", Command{Name: NameFCUnpublish, Args: []amf0.Value{"a"}}, func(c Command) error { _, err := ParseFCPublish(c); return err }, ErrWrongCommand},
		{"FCUnpublish wrong name", Command{Name: NameFCPublish, Args: []amf0.Value{"a"}}, func(c Command) error { _, err := ParseFCUnpublish(c); return err }, ErrWrongCommand},
		{"createStream wrong name", Command{Name: NameConnect}, func(c Command) error { _, err := ParseCreateStream(c); return err }, ErrWrongCommand},
		{"closeStream wrong name", Command{Name: NameDeleteStream}, func(c Command) error { _, err := ParseCloseStream(c); return err }, ErrWrongCommand},
	} {
		err := c.parse(c.c)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
		var me *Error
		if !errors.As(err, &me) || me.Type != TypeCommandAMF0 {
			t.Errorf("%s: error %v is not an *Error of CommandAMF0", c.name, err)
		}
	}
}

func TestPlayArguments(t *testing.T) {
	// Reset "An optional Boolean value or number" (§7.2.2.1).
	p, err := ParsePlay(Command{Name: NamePlay, Args: []amf0.Value{"s", -1.0, -1.0, 0.0}})
	if err != nil || p.Reset || p.Start != PlayStartLive {
		t.Fatalf("reset 0: %#v, %v", p, err)
	}
	p, err = ParsePlay(Command{Name: NamePlay, Args: []amf0.Value{"s", -1.0, -1.0, 2.0}})
	if err != nil || !p.Reset {
		t.Fatalf("reset 2: %#v, %v", p, err)
	}
	// Trailing defaults are left out.
	for _, c := range []struct {
		p    Play
		args []amf0.Value
	}{
		{Play{Name: "s", Start: -2, Duration: -1, Reset: true}, []amf0.Value{"s"}},
		{Play{Name: "s", Start: 0, Duration: -1, Reset: true}, []amf0.Value{"s", 0.0}},
		{Play{Name: "s", Start: -2, Duration: 10, Reset: true}, []amf0.Value{"s", -2.0, 10.0}},
		{Play{Name: "s", Start: -2, Duration: -1, Reset: false}, []amf0.Value{"s", -2.0, -1.0, false}},
	} {
		if got := c.p.Command().Args; !equal(got, c.args) {
			t.Errorf("%#v: args %#v, want %#v", c.p, got, c.args)
		}
	}
}

func TestPlay2Empty(t *testing.T) {
	c := Play2{}.Command()
	b, err := c.AppendPayload(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := hx(str("play2"), num(0), null, obj()); string(b) != string(want) {
		t.Fatalf("got %x, want %x", b, want)
	}
}

func TestStatusReaders(t *testing.T) {
	c := NewOnStatus(LevelError, CodePlayStreamNotFound, "")
	s, ok := c.Status()
	if !ok || s.Level != LevelError || s.Code != CodePlayStreamNotFound || s.Description != "" {
		t.Fatalf("Status() = %#v, %v", s, ok)
	}
	if len(s.Props) != 2 {
		t.Errorf("empty description written: %#v", s.Props)
	}
	if _, ok := NewCreateStreamResult(2, 1).Status(); ok {
		t.Error("a stream ID read as a status")
	}
	if id, ok := NewCreateStreamResult(2, 7).ResultStreamID(); !ok || id != 7 {
		t.Errorf("ResultStreamID = %d, %v", id, ok)
	}
	for _, bad := range []Command{
		NewErrorResult(2, nil, 1.0),
		NewResult(2, nil, 1.5),
		NewResult(2, nil, -1.0),
		NewResult(2, nil, "1"),
		{Name: NameResult},
	} {
		if id, ok := bad.ResultStreamID(); ok {
			t.Errorf("%#v: ResultStreamID = %d", bad, id)
		}
	}
	if _, ok := ParseReconnectRequest(NewOnStatus(LevelStatus, CodeConnectSuccess, "")); ok {
		t.Error("Connect.Success read as a reconnect request")
	}
	for _, level := range []string{LevelError, LevelWarning, ""} {
		if _, ok := ParseReconnectRequest(NewOnStatus(level, CodeConnectReconnectRequest, "")); ok {
			t.Errorf("a reconnect request at level %q", level)
		}
	}
	if _, ok := ParseReconnectRequest(NewOnFCPublish(CodeConnectReconnectRequest, "")); ok {
		t.Error("onFCPublish read as a reconnect request")
	}
	if !NewResult(1, nil, nil).IsResult() || !NewErrorResult(1, nil, nil).IsError() || NewResult(1, nil, nil).IsError() {
		t.Error("IsResult/IsError")
	}
}

func TestCommandArgs(t *testing.T) {
	c := decodeCommand(t, hx(str("x"), num(0), obj(prop("a", num(1))), str("s"), num(2), boo(true), obj(), "11 06 05 6869"))
	if s, ok := c.StringArg(0); !ok || s != "s" {
		t.Error("StringArg")
	}
	if n, ok := c.NumberArg(1); !ok || n != 2 {
		t.Error("NumberArg")
	}
	if b, ok := c.BoolArg(2); !ok || !b {
		t.Error("BoolArg")
	}
	if _, ok := c.ObjectArg(3); !ok {
		t.Error("ObjectArg")
	}
	if s, ok := c.StringArg(4); !ok || s != "hi" {
		t.Error("StringArg of an AMF3 string")
	}
	if o, ok := c.CommandObject(); !ok || len(o) != 1 {
		t.Error("CommandObject")
	}
	if c.Arg(-1) != nil || c.Arg(5) != nil {
		t.Error("Arg out of range")
	}
	if _, ok := c.NumberArg(0); ok {
		t.Error("NumberArg of a string")
	}
}

func TestDataHelpers(t *testing.T) {
	set := NewSetDataFrame(ffmpegMeta)
	if !set.IsSetDataFrame() || !set.IsMetaData() || set.IsClearDataFrame() {
		t.Error("@setDataFrame predicates")
	}
	u := set.Unwrap()
	if name, _ := u.Name(); name != OnMetaData || len(u.Values) != 2 {
		t.Fatalf("Unwrap = %#v", u)
	}
	meta, ok := set.MetaData()
	if !ok || len(meta) != 13 {
		t.Fatalf("MetaData = %v, %v", meta, ok)
	}
	if w, _ := meta.GetNumber("width"); w != 320 {
		t.Errorf("width = %v", w)
	}
	if m, ok := NewOnMetaData(amf0.Object{{Key: "width", Value: 1.0}}).MetaData(); !ok || len(m) != 1 {
		t.Error("MetaData of onMetaData with an object")
	}
	clr := NewClearDataFrame(OnMetaData)
	if name, _ := clr.Name(); name != ClearDataFrame || len(clr.Values) != 2 || clr.Values[1] != OnMetaData {
		t.Errorf("NewClearDataFrame(onMetaData) = %#v", clr)
	}
	if !clr.IsClearDataFrame() || clr.IsSetDataFrame() || clr.IsMetaData() {
		t.Error("@clearDataFrame predicates")
	}
	if _, ok := clr.MetaData(); ok {
		t.Error("MetaData of @clearDataFrame")
	}
	// "@setDataFrame" without a name string is left as it is.
	odd := Data{AMF3: true, Values: []amf0.Value{SetDataFrame, 1.0}}
	if odd.IsSetDataFrame() || !equal(odd.Unwrap(), odd) {
		t.Error("@setDataFrame without a name")
	}
	if u := (Data{AMF3: true, Values: []amf0.Value{SetDataFrame, OnMetaData, 1.0}}).Unwrap(); !u.AMF3 {
		t.Error("Unwrap dropped AMF3")
	}
	if _, ok := (Data{}).Name(); ok {
		t.Error("Name of empty data")
	}
	if _, ok := NewOnMetaData("not an object").MetaData(); ok {
		t.Error("MetaData of a string")
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{TypeCommandAMF0.String(), "CommandAMF0"},
		{TypeSetChunkSize.String(), "SetChunkSize"},
		{Type(7).String(), "Type(7)"},
		{Type(255).String(), "Type(255)"},
		{EventPingRequest.String(), "PingRequest"},
		{EventType(99).String(), "EventType(99)"},
		{LimitDynamic.String(), "Dynamic"},
		{LimitType(9).String(), "LimitType(9)"},
		{SOUseSuccess.String(), "UseSuccess"},
		{SharedObjectEventType(0).String(), "SharedObjectEventType(0)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if !TypeUserControl.IsControl() || TypeAudio.IsControl() || !TypeAggregate.Known() || Type(7).Known() {
		t.Error("IsControl/Known")
	}
}

// The persistent flag is the value 2 in the first four flag bytes, as
// Flash Media Server and Red5 write it.
func TestSharedObjectPersistent(t *testing.T) {
	so := SharedObject{Name: "room"}
	so.SetPersistent(true)
	b, err := so.AppendPayload(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := hx(soHead("room", 0, 0x00000002_00000000)); !bytes.Equal(b, want) {
		t.Fatalf("persistent: % x, want % x", b, want)
	}
	got, err := UnmarshalSharedObject(TypeSharedObjectAMF0, b)
	if err != nil || !got.Persistent() {
		t.Fatalf("decoded %+v, %v: not persistent", got, err)
	}
	got.SetPersistent(false)
	if got.Persistent() || got.Flags != 0 {
		t.Fatalf("cleared: flags %#x", got.Flags)
	}
}
