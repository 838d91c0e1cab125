package fmp4_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/ertmp/rtmp/fmp4"
)

// box returns the bytes of a box (ISO/IEC 14496-12 §4.2: size(32) type(32)
// body), its body the concatenation of parts.
func box(typ string, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

func leaf(typ string, body []byte) fmp4.Box {
	return fmp4.Box{Type: boxType(typ), Head: body, Body: body}
}

func container(typ string, head []byte, kids ...fmp4.Box) fmp4.Box {
	if kids == nil {
		kids = []fmp4.Box{}
	}
	return fmp4.Box{Type: boxType(typ), Head: head, Children: kids}
}

var visualHead = bytes.Repeat([]byte{0}, 78)

// The box reader's {name, bytes, value} table: ParseBoxes of wire gives
// value, Append of value gives wire back (unless decodeOnly: a size 0 or a
// largesize is read, and written back in the normal form), and the wire
// bytes seed FuzzParseBoxes.
var boxTable = []struct {
	name       string
	wire       []byte
	value      []fmp4.Box
	decodeOnly bool
}{
	{"empty input", nil, nil, false},
	{"leaf", box("free", []byte("abc")), []fmp4.Box{leaf("free", []byte("abc"))}, false},
	{"empty leaf", box("skip"), []fmp4.Box{leaf("skip", []byte{})}, false},
	{"two boxes", append(box("ftyp", []byte("iso6\x00\x00\x00\x00")), box("free")...),
		[]fmp4.Box{leaf("ftyp", []byte("iso6\x00\x00\x00\x00")), leaf("free", []byte{})}, false},
	{"empty container", box("moov"), []fmp4.Box{container("moov", []byte{})}, false},
	{"nested containers", box("moov", box("trak", box("tkhd", []byte{1, 2}), box("mdia"))),
		[]fmp4.Box{container("moov", []byte{}, container("trak", []byte{}, leaf("tkhd", []byte{1, 2}), container("mdia", []byte{})))}, false},
	// stsd: version, flags and entry_count, then sample entries, whose
	// fixed fields precede their own child boxes (§8.5.2, §12.1.3).
	{"stsd and a sample entry", box("stsd", h("00000000 00000001"), box("avc1", visualHead, box("avcC", []byte{1}))),
		[]fmp4.Box{container("stsd", h("00000000 00000001"), container("avc1", visualHead, leaf("avcC", []byte{1})))}, false},
	{"audio sample entry", box("stsd", h("00000000 00000001"), box("mp4a", make([]byte, 28), box("esds", []byte{0}))),
		[]fmp4.Box{container("stsd", h("00000000 00000001"), container("mp4a", make([]byte, 28), leaf("esds", []byte{0})))}, false},
	// A sample entry type outside stsd is only a name.
	{"avc1 outside stsd", box("avc1", []byte{9}), []fmp4.Box{leaf("avc1", []byte{9})}, false},
	{"uuid", box("uuid", bytes.Repeat([]byte{7}, 17)), []fmp4.Box{leaf("uuid", bytes.Repeat([]byte{7}, 17))}, false},
	// size 1: a 64-bit largesize follows the type.
	{"largesize", append(h("00000001 6d646174 0000000000000012"), 0xaa, 0xbb),
		[]fmp4.Box{leaf("mdat", []byte{0xaa, 0xbb})}, true},
	// size 0: the box runs to the end of the file.
	{"size 0", append(box("free"), h("00000000 6d646174 0102")...),
		[]fmp4.Box{leaf("free", []byte{}), leaf("mdat", []byte{1, 2})}, true},
}

func TestParseBoxesTable(t *testing.T) {
	for _, c := range boxTable {
		t.Run(c.name, func(t *testing.T) {
			got, err := fmp4.ParseBoxes(c.wire)
			if err != nil {
				t.Fatal(err)
			}
			if !sameBoxes(got, c.value) {
				t.Fatalf("got %+v\nwant %+v", got, c.value)
			}
			var enc []byte
			for i := range c.value {
				if enc, err = c.value[i].Append(enc); err != nil {
					t.Fatal(err)
				}
			}
			if !c.decodeOnly && !bytes.Equal(enc, c.wire) {
				t.Fatalf("Append: % x\nwant % x", enc, c.wire)
			}
			again, err := fmp4.ParseBoxes(enc)
			if err != nil || !sameBoxes(again, c.value) {
				t.Fatalf("re-parse: %v %+v", err, again)
			}
		})
	}
}

// sameBoxes compares type, head and children; Body is the whole body as
// read, which a value built by hand leaves empty for containers.
func sameBoxes(a, b []fmp4.Box) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || !bytes.Equal(a[i].Head, b[i].Head) || (a[i].Children == nil) != (b[i].Children == nil) {
			return false
		}
		if a[i].Children == nil && b[i].Body != nil && !bytes.Equal(a[i].Body, b[i].Body) {
			return false
		}
		if !sameBoxes(a[i].Children, b[i].Children) {
			return false
		}
	}
	return true
}

func TestParseBoxesErrors(t *testing.T) {
	deep := box("free")
	for i := 0; i < fmp4.MaxDepth; i++ {
		deep = box("moov", deep)
	}
	okDeep := box("free")
	for i := 0; i < fmp4.MaxDepth-1; i++ {
		okDeep = box("moov", okDeep)
	}
	if _, err := fmp4.ParseBoxes(okDeep); err != nil {
		t.Fatalf("%d levels: %v", fmp4.MaxDepth, err)
	}
	for _, c := range []struct {
		name string
		wire []byte
		want error
	}{
		{"short header", h("00000010 6d6f6f"), io.ErrUnexpectedEOF},
		{"size below the header", h("00000004 66726565"), fmp4.ErrInvalid},
		{"size past the end", h("00000010 66726565 00"), io.ErrUnexpectedEOF},
		{"largesize cut", h("00000001 66726565 0000"), io.ErrUnexpectedEOF},
		{"largesize below its header", h("00000001 66726565 000000000000000f"), fmp4.ErrInvalid},
		{"largesize past the end", h("00000001 66726565 ffffffffffffffff"), io.ErrUnexpectedEOF},
		{"child past its container", append(h("00000010 6d6f6f76 00000010 66726565"), 0, 0, 0, 0, 0, 0, 0, 0), io.ErrUnexpectedEOF},
		{"garbage in a container", box("moov", []byte{1, 2, 3}), io.ErrUnexpectedEOF},
		{"stsd shorter than its head", box("stsd", []byte{0, 0, 0, 0}), io.ErrUnexpectedEOF},
		{"sample entry shorter than its head", box("stsd", h("00000000 00000001"), box("mp4a", make([]byte, 27))), io.ErrUnexpectedEOF},
		{"too deep", deep, fmp4.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := fmp4.ParseBoxes(c.wire); !errors.Is(err, c.want) {
				t.Fatalf("%v, want %v", err, c.want)
			}
		})
	}
}

// StartBox and EndBox write §4.2's header and fill the size in afterwards;
// StartFullBox adds version and flags.
func TestBoxWriter(t *testing.T) {
	typ, ok := fmp4.MakeBoxType("styp")
	if !ok || typ.String() != "styp" {
		t.Fatalf("MakeBoxType: %v %v", typ, ok)
	}
	if _, ok := fmp4.MakeBoxType("abc"); ok {
		t.Fatal("a three-letter type")
	}
	if s := fmp4.BoxType(0x01020304).String(); s != "0x1020304" {
		t.Fatalf("unprintable type: %s", s)
	}
	b := []byte{0xff}
	b, at := fmp4.StartBox(b, typ)
	b = append(b, "msdh"...)
	b, at2 := fmp4.StartFullBox(b, boxType("prft"), 1, 0x18)
	b = append(b, 0xaa)
	fmp4.EndBox(b, at2)
	fmp4.EndBox(b, at)
	want := append([]byte{0xff}, h("00000019 73747970 6d736468 0000000d 70726674 01000018 aa")...)
	if !bytes.Equal(b, want) {
		t.Fatalf("% x\nwant % x", b, want)
	}
}

func TestFind(t *testing.T) {
	boxes, err := fmp4.ParseBoxes(box("moov", box("trak", box("mdia", box("mdhd", []byte{5})))))
	if err != nil {
		t.Fatal(err)
	}
	if m := boxes[0].Find("trak/mdia/mdhd"); m == nil || !bytes.Equal(m.Body, []byte{5}) {
		t.Fatalf("Find: %+v", m)
	}
	for _, p := range []string{"trak/mdia/stbl", "trak/xx", "mvex", "trak/mdia/mdhd/deeper"} {
		if m := boxes[0].Find(p); m != nil {
			t.Fatalf("Find(%q) = %+v", p, m)
		}
	}
	if !boxes[0].IsContainer() || boxes[0].Find("trak/mdia/mdhd").IsContainer() {
		t.Fatal("IsContainer")
	}
}
