package message

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// badInputs are payloads that must fail to decode, each with the sentinel
// the error must match.
var badInputs = []struct {
	name string
	typ  Type
	wire []byte
	want error
}{
	{"set chunk size of 3 bytes", TypeSetChunkSize, hx("000080"), ErrTruncated},
	{"set chunk size empty", TypeSetChunkSize, nil, ErrTruncated},
	{"set chunk size 0", TypeSetChunkSize, hx("00000000"), ErrInvalid},
	{"set chunk size 0 with reserved bit", TypeSetChunkSize, hx("80000000"), ErrInvalid},
	{"abort of 2 bytes", TypeAbort, hx("0000"), ErrTruncated},
	{"acknowledgement of 3 bytes", TypeAcknowledgement, hx("002625"), ErrTruncated},
	{"window ack size empty", TypeWindowAckSize, nil, ErrTruncated},
	{"set peer bandwidth without limit type", TypeSetPeerBandwidth, hx("004c4b40"), ErrTruncated},
	{"set peer bandwidth of 2 bytes", TypeSetPeerBandwidth, hx("004c"), ErrTruncated},
	{"user control of 1 byte", TypeUserControl, hx("00"), ErrTruncated},
	{"stream begin with 3 bytes of stream id", TypeUserControl, hx("0000 000001"), ErrTruncated},
	{"set buffer length without buffer length", TypeUserControl, hx("0003 00000001"), ErrTruncated},
	{"set buffer length with 2 bytes of buffer length", TypeUserControl, hx("0003 00000001 0bb8"), ErrTruncated},
	{"ping request with 2 bytes", TypeUserControl, hx("0006 0001"), ErrTruncated},
	{"ping response with no timestamp", TypeUserControl, hx("0007"), ErrTruncated},
	{"AMF3 data without format selector", TypeDataAMF3, nil, ErrTruncated},
	{"AMF3 data with selector 3", TypeDataAMF3, hx("03", str("onMetaData")), ErrFormatSelector},
	{"AMF3 command with selector 1", TypeCommandAMF3, hx("01", str("connect"), num(1), null), ErrFormatSelector},
	{"AMF3 shared object with selector 0x11", TypeSharedObjectAMF3, hx("11", soHead("a", 0, 0)), ErrFormatSelector},
	{"data with a truncated string", TypeDataAMF0, hx("02 0010 6f6e"), ErrTruncated},
	{"data with an unknown marker", TypeDataAMF0, hx("42"), errors.New("amf")},
	{"command empty", TypeCommandAMF0, nil, ErrTruncated},
	{"command name a number", TypeCommandAMF0, hx(num(1), num(1), null), ErrMalformed},
	{"command transaction id a string", TypeCommandAMF0, hx(str("connect"), str("1"), null), ErrMalformed},
	{"command with truncated object", TypeCommandAMF0, hx(str("connect"), num(1), "03 0003 617070 02 0004 6c69"), ErrTruncated},
	{"command with object claiming a 64 KiB key", TypeCommandAMF0, hx(str("connect"), num(1), "03 ffff 61"), ErrTruncated},
	{"command nested deeper than the amf0 limit", TypeCommandAMF0, hx(str("x"), num(0), strings.Repeat("0a00000001", 100), null), errors.New("amf")},
	{"shared object name claims 65535 bytes in 3", TypeSharedObjectAMF0, hx("ffff 616263"), ErrTruncated},
	{"shared object without flags", TypeSharedObjectAMF0, hx(utf("chat"), "00000000 0000"), ErrTruncated},
	{"shared object event header cut", TypeSharedObjectAMF0, hx(soHead("chat", 0, 0), "04 0000"), ErrTruncated},
	{"shared object event data length 0xffffffff", TypeSharedObjectAMF0, hx(soHead("chat", 0, 0), "04 ffffffff", utf("foo"), str("bar")), ErrTruncated},
	{"shared object event data length one too many", TypeSharedObjectAMF0, hx(soHead("chat", 0, 0), "04 0000000c", utf("foo"), str("bar")), ErrTruncated},
	{"shared object change event name lies", TypeSharedObjectAMF0, hx(soHead("chat", 0, 0), soEvent(4, "0010 666f6f", str("bar"))), ErrTruncated},
	{"shared object change without value", TypeSharedObjectAMF0, hx(soHead("chat", 0, 0), soEvent(4, utf("foo"))), ErrTruncated},
	{"shared object change with value cut by its event length", TypeSharedObjectAMF0, hx(soHead("chat", 0, 0), "04 00000008", utf("foo"), str("bar")), ErrTruncated},
	{"shared object status with one string", TypeSharedObjectAMF0, hx(soHead("chat", 0, 0), soEvent(7, utf("SharedObject.NoReadAccess"))), ErrTruncated},
	{"shared object success without name", TypeSharedObjectAMF0, hx(soHead("chat", 0, 0), soEvent(5, "00")), ErrTruncated},
	{"shared object send message with bad value", TypeSharedObjectAMF0, hx(soHead("chat", 0, 0), soEvent(6, str("m"), "09")), errors.New("amf")},
}

func TestBadInputs(t *testing.T) {
	for _, c := range badInputs {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(c.typ, c.wire)
			if err == nil {
				t.Fatalf("Decode(%v, %x) = %#v, want an error", c.typ, c.wire, m)
			}
			if m != nil {
				t.Errorf("Decode returned %#v with the error", m)
			}
			var me *Error
			var fe *FormatSelectorError
			if !errors.As(err, &me) && !errors.As(err, &fe) {
				t.Errorf("error %v (%T) is neither *Error nor *FormatSelectorError", err, err)
			}
			if me != nil && (me.Type != c.typ || me.Field == "") {
				t.Errorf("error %v: Type %v Field %q", err, me.Type, me.Field)
			}
			if c.want.Error() == "amf" {
				return // an amf0 error, checked by that package
			}
			if !errors.Is(err, c.want) {
				t.Errorf("error %v does not match %v", err, c.want)
			}
			if c.want == ErrTruncated && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v does not match io.ErrUnexpectedEOF", err)
			}
			if c.want == ErrFormatSelector && (fe == nil || fe.Selector != c.wire[0] || fe.Type != c.typ) {
				t.Errorf("error %#v, want selector %d", fe, c.wire[0])
			}
		})
	}
}

// fixedSize are the types whose every strict prefix of a valid payload is
// invalid.
var fixedSize = map[Type]bool{
	TypeSetChunkSize: true, TypeAbort: true, TypeAcknowledgement: true,
	TypeWindowAckSize: true, TypeSetPeerBandwidth: true,
}

// TestGoldenTruncated decodes every strict prefix of every golden. None may
// panic; fixed-size payloads and known user control events must fail with
// ErrTruncated. Where a prefix happens to be valid (AMF values end at a
// value boundary, shared object events at an event boundary, audio is
// opaque) the result must differ from the golden and be a fixed point.
func TestGoldenTruncated(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			for n := 0; n < len(g.wire); n++ {
				p := g.wire[:n:n]
				m, err := Decode(g.typ, p)
				mustFail := fixedSize[g.typ]
				if uc, ok := g.msg.(UserControl); ok && uc.Data == nil && uc.Event != EventSWFVerifyRequest {
					mustFail = true
				}
				if g.typ == TypeSharedObjectAMF0 || g.typ == TypeSharedObjectAMF3 {
					// The header and every event header and body are
					// length-bound: only event boundaries are valid.
					mustFail = mustFail || !soBoundary(g.msg.(SharedObject), g.wire, n)
				}
				if err != nil {
					if mustFail && !errors.Is(err, ErrTruncated) {
						t.Errorf("prefix %d: error %v does not match ErrTruncated", n, err)
					}
					continue
				}
				if mustFail {
					t.Errorf("prefix %d (%x) decoded to %#v", n, p, m)
					continue
				}
				// A command without its null command object reads as
				// one with it (see Command); nothing else may read as
				// the whole.
				c, isCommand := g.msg.(Command)
				droppedNull := isCommand && c.Object == nil && n == len(g.wire)-1 && g.wire[n] == 0x05
				// A name alone reads as transaction 0 with no object.
				droppedNull = droppedNull || isCommand && c.TransactionID == 0 && c.Object == nil && len(c.Args) == 0
				if equal(m, g.msg) && !droppedNull {
					t.Errorf("prefix %d decodes to the whole golden", n)
				}
				checkFixedPoint(t, g.typ, m)
			}
		})
	}
}

// soBoundary reports whether the first n bytes of a shared object payload
// end at the end of an event.
func soBoundary(so SharedObject, wire []byte, n int) bool {
	off := 0
	if so.AMF3 {
		off = 1
	}
	off += 2 + len(so.Name) + soHeaderLen
	if n == off {
		return true
	}
	for off < len(wire) {
		size := int(wire[off+1])<<24 | int(wire[off+2])<<16 | int(wire[off+3])<<8 | int(wire[off+4])
		off += 5 + size
		if n == off {
			return true
		}
	}
	return false
}

// checkFixedPoint encodes m, decodes the bytes, and checks that the result
// equals m and encodes to the same bytes.
func checkFixedPoint(t *testing.T, typ Type, m Message) {
	t.Helper()
	b, err := m.AppendPayload(nil)
	if err != nil {
		t.Fatalf("encode %#v: %v", m, err)
	}
	m2, err := Decode(typ, b)
	if err != nil {
		t.Fatalf("decode(encode(m)) %x: %v", b, err)
	}
	if !equal(m, m2) {
		t.Fatalf("decode(encode(m)) =\n%#v\nwant\n%#v", m2, m)
	}
	b2, err := m2.AppendPayload(nil)
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("encode(decode(encode(m))) = %x, %v; want %x", b2, err, b)
	}
}

func TestSetChunkSizeReservedBit(t *testing.T) {
	// §5.4.1: "This bit MUST be zero." The masked size comes with the error.
	m, err := Decode(TypeSetChunkSize, hx("80000083"))
	if !errors.Is(err, ErrReservedBit) {
		t.Fatalf("error %v, want ErrReservedBit", err)
	}
	if m != (SetChunkSize{Size: 131}) {
		t.Fatalf("message %#v, want the masked size 131", m)
	}
	if _, err := (SetChunkSize{Size: 0}).AppendPayload(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("encode size 0: %v", err)
	}
	if _, err := (SetChunkSize{Size: 0x80000000}).AppendPayload(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("encode size 2^31: %v", err)
	}
}

func TestControlTrailingBytesIgnored(t *testing.T) {
	for _, c := range []struct {
		typ  Type
		wire []byte
		want Message
	}{
		{TypeSetChunkSize, hx("00001000 ff"), SetChunkSize{Size: 4096}},
		{TypeAbort, hx("00000004 ff"), Abort{CSID: 4}},
		{TypeAcknowledgement, hx("00000010 ff"), Acknowledgement{SequenceNumber: 16}},
		{TypeWindowAckSize, hx("00000010 ffff"), WindowAckSize{Size: 16}},
		{TypeSetPeerBandwidth, hx("00000010 02 ff"), SetPeerBandwidth{Size: 16, Limit: LimitDynamic}},
	} {
		m, err := Decode(c.typ, c.wire)
		if err != nil || m != c.want {
			t.Errorf("Decode(%v, %x) = %#v, %v; want %#v", c.typ, c.wire, m, err, c.want)
		}
	}
}

func TestApplyPeerBandwidth(t *testing.T) {
	// §5.4.5.
	for _, c := range []struct {
		name     string
		cur      uint32
		curLimit LimitType
		haveCur  bool
		msg      SetPeerBandwidth
		size     uint32
		limit    LimitType
		changed  bool
	}{
		{"first hard", 0, 0, false, SetPeerBandwidth{5000000, LimitHard}, 5000000, LimitHard, true},
		{"hard replaces a smaller limit", 1000, LimitSoft, true, SetPeerBandwidth{5000, LimitHard}, 5000, LimitHard, true},
		{"hard replaces a larger limit", 5000, LimitHard, true, SetPeerBandwidth{1000, LimitHard}, 1000, LimitHard, true},
		{"hard with the same size", 5000, LimitSoft, true, SetPeerBandwidth{5000, LimitHard}, 5000, LimitHard, false},
		{"first soft", 0, 0, false, SetPeerBandwidth{5000, LimitSoft}, 5000, LimitSoft, true},
		{"soft smaller wins", 5000, LimitHard, true, SetPeerBandwidth{1000, LimitSoft}, 1000, LimitSoft, true},
		{"soft larger loses", 1000, LimitHard, true, SetPeerBandwidth{5000, LimitSoft}, 1000, LimitSoft, false},
		{"dynamic after hard acts as hard", 1000, LimitHard, true, SetPeerBandwidth{5000, LimitDynamic}, 5000, LimitHard, true},
		{"dynamic after soft is ignored", 1000, LimitSoft, true, SetPeerBandwidth{5000, LimitDynamic}, 1000, LimitSoft, false},
		{"dynamic first is ignored", 0, 0, false, SetPeerBandwidth{5000, LimitDynamic}, 0, 0, false},
		{"unknown limit type is ignored", 1000, LimitHard, true, SetPeerBandwidth{5000, 7}, 1000, LimitHard, false},
	} {
		size, limit, changed := ApplyPeerBandwidth(c.cur, c.curLimit, c.haveCur, c.msg)
		if size != c.size || limit != c.limit || changed != c.changed {
			t.Errorf("%s: got %d %v %v, want %d %v %v", c.name, size, limit, changed, c.size, c.limit, c.changed)
		}
	}
}

// Aggregates with lying lengths: §7.1.6 sizes are bounded by the payload.
func TestAggregateBad(t *testing.T) {
	huge := hx("09 ffffff 000000 00 000001", strings.Repeat("00", 25)) // 16 MiB claimed in 36 bytes
	huge = append(huge, hx("0000000b")...)
	for _, c := range []struct {
		name    string
		payload []byte
		lenient bool
		n       int // sub-messages before the error
		want    error
	}{
		{"sub-message claiming 16 MiB in a 40-byte payload", huge, false, 0, ErrTruncated},
		{"same, lenient", huge, true, 0, ErrTruncated},
		{"header cut", hx("08 000004 0003e8"), false, 0, ErrTruncated},
		{"payload one byte short", hx("08 000004 0003e8 00 000001 af0102"), false, 0, ErrTruncated},
		{"second header cut", hx(sub(8, 0, 1, "af01"), "09 00"), false, 1, ErrTruncated},
		{"back-pointer cut", hx("08 000002 000000 00 000001 af01 0000"), false, 0, ErrTruncated},
		{"back-pointer cut, lenient", hx("08 000002 000000 00 000001 af01 0000"), true, 0, ErrTruncated},
		{"back-pointer missing", hx("08 000002 000000 00 000001 af01"), false, 0, ErrTruncated},
		{"back-pointer missing, lenient", hx("08 000002 000000 00 000001 af01"), true, 1, nil},
		{"back-pointer of the payload size only", hx(sub(8, 0, 1, "af01", 2)), false, 0, ErrBackPointer},
		{"back-pointer of the payload size only, lenient", hx(sub(8, 0, 1, "af01", 2)), true, 1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			it := NewAggregateIterator(c.payload, 0)
			it.IgnoreBackPointers = c.lenient
			n := 0
			for it.Next() {
				if len(it.Message().Payload) > len(c.payload) {
					t.Fatal("sub-message larger than the aggregate")
				}
				n++
			}
			if n != c.n {
				t.Errorf("%d sub-messages, want %d", n, c.n)
			}
			err := it.Err()
			if c.want == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if c.want == ErrTruncated && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error %v does not match io.ErrUnexpectedEOF", err)
			}
			if it.Next() {
				t.Fatal("Next after an error")
			}
		})
	}
}

func TestAppendAggregateLimits(t *testing.T) {
	big := make([]byte, maxUint24+1)
	if _, err := AppendAggregate(nil, []SubMessage{{Type: TypeVideo, Payload: big}}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("16 MiB sub-message: %v", err)
	}
	if _, err := AppendAggregate(nil, []SubMessage{{Type: TypeVideo, StreamID: 1 << 24}}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("stream id 2^24: %v", err)
	}
	half := make([]byte, maxUint24/2)
	if _, err := AppendAggregate(nil, []SubMessage{{Payload: half}, {Payload: half}}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("aggregate over 16 MiB: %v", err)
	}
	dst := []byte("keep")
	b, err := AppendAggregate(dst, []SubMessage{{Payload: big}})
	if err == nil || string(b) != "keep" {
		t.Errorf("on error dst = %q", b)
	}
}

func TestEncodeErrors(t *testing.T) {
	long := strings.Repeat("x", 1<<16)
	for _, c := range []struct {
		name string
		m    Message
		want error
	}{
		{"shared object name of 64 KiB", SharedObject{Name: long}, ErrTooLarge},
		{"shared object slot name of 64 KiB", SharedObject{Events: []SharedObjectEvent{{Type: SOChange, Name: long}}}, ErrTooLarge},
		{"shared object status level of 64 KiB", SharedObject{Events: []SharedObjectEvent{{Type: SOStatus, Level: long}}}, ErrTooLarge},
		{"command with an unsupported Go value", Command{Name: "x", Args: []any{make(chan int)}}, errors.New("amf")},
		{"command object unsupported", Command{Name: "x", Object: struct{}{}}, errors.New("amf")},
		{"data with an unsupported Go value", Data{Values: []any{func() {}}}, errors.New("amf")},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte("keep")
			b, err := c.m.AppendPayload(dst)
			if err == nil {
				t.Fatal("no error")
			}
			if string(b) != "keep" {
				t.Errorf("dst changed to %q", b[:min(len(b), 10)])
			}
			var me *Error
			if !errors.As(err, &me) || me.Type != c.m.Type() {
				t.Errorf("error %v is not an *Error of %v", err, c.m.Type())
			}
			if c.want.Error() != "amf" && !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
		})
	}
	// A long command name is written as a long string (AMF 0 §2.14) and
	// read back.
	b, err := Command{Name: long}.AppendPayload(nil)
	if err != nil || b[0] != 0x0C {
		t.Fatalf("long name: %x..., %v", b[:1], err)
	}
	m, err := Decode(TypeCommandAMF0, b)
	if err != nil || m.(Command).Name != long {
		t.Fatalf("long name decodes to %v", err)
	}
}

// FFmpeg's server mode sends commands that are a name alone; they read as
// transaction 0 rather than failing the connection.
func TestCommandNameOnly(t *testing.T) {
	m, err := Decode(TypeCommandAMF0, hx(str("onBWDone")))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := m.(Command); !ok || c.Name != "onBWDone" || c.TransactionID != 0 || c.Object != nil || c.Args != nil {
		t.Fatalf("decoded %#v", m)
	}
}
