package flv

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// lit is literal text inside wire bytes built by wb.
type lit string

// wb joins hex strings, literal text and byte slices.
func wb(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch x := p.(type) {
		case string:
			out = append(out, hx(x)...)
		case lit:
			out = append(out, x...)
		case []byte:
			out = append(out, x...)
		default:
			panic("wb: bad part")
		}
	}
	return out
}

var (
	testIV     = hx("000102030405060708090a0b0c0d0e0f")
	testCipher = hx("8f3a51c2e4d70b96a1fe2c5d3b7e9014 55aa33cc0f1e2d3c4b5a69788796a5b4") // two AES blocks
)

func iv16(b []byte) (iv [IVSize]byte) {
	copy(iv[:], b)
	return iv
}

// encryptedGolden is the one table of filtered tag bodies (FLV 10.1 §E.4.1
// and Annex F.3): it drives the decode test, the encode test and the fuzz
// seeds. The bytes follow the field tables of §F.3.1 (EncryptionTagHeader:
// NumFilters UI8, FilterName STRING, Length UI24) and §F.3.2
// (EncryptionFilterParams: IV UI8[16]; SelectiveEncryptionFilterParams:
// EncryptedAU UB[1], Reserved UB[7], IV UI8[16] if EncryptedAU), after the
// tag header in clear that §E.4.1 puts first.
var encryptedGolden = []struct {
	name string
	typ  TagType
	wire []byte
	tag  EncryptedTag
}{
	{"§F.3.2 EncryptionFilterParams: AAC raw, AudioTagHeader in clear (§E.4.2.1)", TagAudio,
		wb("af 01", "01", lit("Encryption"), "00", "000010", testIV, testCipher),
		EncryptedTag{Header: hx("af01"), FilterName: FilterEncryption, Params: FilterParams{Encrypted: true, IV: iv16(testIV)}, Body: testCipher}},
	{"§F.3.2 SelectiveEncryptionFilterParams, EncryptedAU 1: AVC key frame, VideoTagHeader in clear (§E.4.3.1)", TagVideo,
		wb("17 01 000000", "01", lit("SE"), "00", "000011", "80", testIV, testCipher[:16]),
		EncryptedTag{Header: hx("17 01 000000"), FilterName: FilterSE, Params: FilterParams{Encrypted: true, IV: iv16(testIV)}, Body: testCipher[:16]}},
	{"§F.3.2 SelectiveEncryptionFilterParams, EncryptedAU 0: no IV, the body is plain text", TagVideo,
		wb("27 01 000028", "01", lit("SE"), "00", "000001", "00", "00000003 419a21"),
		EncryptedTag{Header: hx("27 01 000028"), FilterName: FilterSE, Params: FilterParams{}, Body: hx("00000003 419a21")}},
	{"§F.3.2 SE reserved bits kept: MP3, one-byte AudioTagHeader", TagAudio,
		wb("2f", "01", lit("SE"), "00", "000011", "ff", testIV, testCipher),
		EncryptedTag{Header: hx("2f"), FilterName: FilterSE, Params: FilterParams{Encrypted: true, Reserved: 0x7f, IV: iv16(testIV)}, Body: testCipher}},
	{"§E.4.1 script data has no tag header: the EncryptionTagHeader comes first", TagScript,
		wb("01", lit("Encryption"), "00", "000010", testIV, testCipher),
		EncryptedTag{Header: []byte{}, FilterName: FilterEncryption, Params: FilterParams{Encrypted: true, IV: iv16(testIV)}, Body: testCipher}},
	{"§E.4.3.1 legacy AVC command frame: AVC header in clear, the command UI8 in the body", TagVideo,
		wb("57 00 000000", "01", lit("SE"), "00", "000001", "00", "00"),
		EncryptedTag{Header: hx("57 00 000000"), FilterName: FilterSE, Body: hx("00")}},
	{"§E.4.3.1 Sorenson H.263: one-byte VideoTagHeader", TagVideo,
		wb("22", "01", lit("Encryption"), "00", "000010", testIV, testCipher[:16]),
		EncryptedTag{Header: hx("22"), FilterName: FilterEncryption, Params: FilterParams{Encrypted: true, IV: iv16(testIV)}, Body: testCipher[:16]}},
	{"§F.3.3 an empty encrypted body", TagAudio,
		wb("af 01", "01", lit("Encryption"), "00", "000010", testIV),
		EncryptedTag{Header: hx("af01"), FilterName: FilterEncryption, Params: FilterParams{Encrypted: true, IV: iv16(testIV)}, Body: []byte{}}},
	{"E-RTMPv2 hvc1 CodedFrames: ExVideoTagHeader and composition time in clear, as legacy AVC's", TagVideo,
		wb("91 68766331 000021", "01", lit("SE"), "00", "000011", "80", testIV, testCipher),
		EncryptedTag{Header: hx("91 68766331 000021"), FilterName: FilterSE, Params: FilterParams{Encrypted: true, IV: iv16(testIV)}, Body: testCipher}},
	{"E-RTMPv2 av01 SequenceStart: ExVideoTagHeader in clear", TagVideo,
		wb("90 61763031", "01", lit("SE"), "00", "000001", "00", "81000c00"),
		EncryptedTag{Header: hx("90 61763031"), FilterName: FilterSE, Body: hx("81000c00")}},
	{"E-RTMPv2 av01 multitrack: header up to the multitrack type and FourCC", TagVideo,
		wb("96 01 61763031", "01", lit("SE"), "00", "000001", "00", "00 000004 0a0b0c0d"),
		EncryptedTag{Header: hx("96 01 61763031"), FilterName: FilterSE, Body: hx("00 000004 0a0b0c0d")}},
	{"E-RTMPv2 Opus CodedFrames: ExAudioTagHeader in clear", TagAudio,
		wb("91 4f707573", "01", lit("Encryption"), "00", "000010", testIV, testCipher[:16]),
		EncryptedTag{Header: hx("91 4f707573"), FilterName: FilterEncryption, Params: FilterParams{Encrypted: true, IV: iv16(testIV)}, Body: testCipher[:16]}},
	{"§F.3.1 a filter name Annex F does not define keeps its parameters raw", TagScript,
		wb("01", lit("XOR"), "00", "000002", "abcd", "0102"),
		EncryptedTag{Header: []byte{}, FilterName: "XOR", Params: FilterParams{Raw: hx("abcd")}, Body: hx("0102")}},
}

func TestEncryptedGolden(t *testing.T) {
	for _, tc := range encryptedGolden {
		t.Run(tc.name, func(t *testing.T) {
			var e EncryptedTag
			if err := e.Unmarshal(tc.typ, tc.wire); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(e, tc.tag) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", e, tc.tag)
			}
			if e.Encrypted() != (tc.tag.FilterName != FilterSE || tc.tag.Params.Encrypted) {
				t.Fatalf("Encrypted() = %v", e.Encrypted())
			}
			enc, err := tc.tag.Append([]byte{0xee})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc[1:], tc.wire) || enc[0] != 0xee {
				t.Fatalf("encoded % x\nwant        % x", enc[1:], tc.wire)
			}
			if n := tc.tag.Size(); n != len(tc.wire) {
				t.Fatalf("Size() = %d, want %d", n, len(tc.wire))
			}
			// The header in clear parses as the tag header it is.
			switch tc.typ {
			case TagAudio:
				var a AudioTag
				if err := a.Unmarshal(e.Header); err != nil || len(a.Data) != 0 {
					t.Fatalf("header as audio: %v, %d bytes left", err, len(a.Data))
				}
			case TagVideo:
				var v VideoTag
				if e.Header[0] != 0x57 { // a legacy command frame's UI8 is in the body
					if err := v.Unmarshal(e.Header); err != nil || len(v.Data) != 0 {
						t.Fatalf("header as video: %v, %d bytes left", err, len(v.Data))
					}
				}
			}
		})
	}
}

func TestEncryptedBad(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  TagType
		wire []byte
		want error
	}{
		{"§F.3.1 NumFilters 2", TagScript, wb("02", lit("SE"), "00", "000001", "00"), ErrFilter},
		{"§F.3.1 NumFilters 0", TagScript, wb("00", lit("SE"), "00", "000001", "00"), ErrFilter},
		{"§F.3.1 empty FilterName", TagScript, wb("01", "00", "000000"), ErrFilter},
		{"FilterName without its NUL", TagScript, wb("01", lit("Encryption")), io.ErrUnexpectedEOF},
		{"cut in Length", TagScript, wb("01", lit("SE"), "00", "0000"), io.ErrUnexpectedEOF},
		{"Length past the end", TagScript, wb("01", lit("SE"), "00", "000011", "80", testIV[:8]), io.ErrUnexpectedEOF},
		{"Length of 16 MiB - 1", TagScript, wb("01", lit("SE"), "00", "ffffff", "80"), io.ErrUnexpectedEOF},
		{"§F.3.2 Encryption params of 15 bytes", TagScript, wb("01", lit("Encryption"), "00", "00000f", testIV[:15]), ErrFilter},
		{"§F.3.2 Encryption params of 17 bytes", TagScript, wb("01", lit("Encryption"), "00", "000011", testIV, "00"), ErrFilter},
		{"§F.3.2 SE EncryptedAU 1 without its IV", TagScript, wb("01", lit("SE"), "00", "000001", "80", testIV), ErrFilter},
		{"§F.3.2 SE EncryptedAU 0 with an IV", TagScript, wb("01", lit("SE"), "00", "000011", "00", testIV), ErrFilter},
		{"§F.3.2 SE with no params", TagScript, wb("01", lit("SE"), "00", "000000", "aa"), ErrFilter},
		{"no EncryptionTagHeader after the header", TagVideo, hx("17 01 000000"), io.ErrUnexpectedEOF},
		{"AVC header cut", TagVideo, hx("17 01"), io.ErrUnexpectedEOF},
		{"AAC header cut", TagAudio, hx("af"), io.ErrUnexpectedEOF},
		{"empty audio", TagAudio, nil, io.ErrUnexpectedEOF},
		{"empty video", TagVideo, nil, io.ErrUnexpectedEOF},
		{"enhanced video FourCC cut", TagVideo, hx("91 6876"), io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e EncryptedTag
			if err := e.Unmarshal(tc.typ, tc.wire); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestEncryptedAppendRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		tag  EncryptedTag
	}{
		{"empty filter name", EncryptedTag{}},
		{"NUL in the filter name", EncryptedTag{FilterName: "S\x00E"}},
		{"Encryption filter, not encrypted", EncryptedTag{FilterName: FilterEncryption}},
		{"SE reserved bits above 7 bits", EncryptedTag{FilterName: FilterSE, Params: FilterParams{Reserved: 0x80}}},
		{"raw parameters with SE", EncryptedTag{FilterName: FilterSE, Params: FilterParams{Raw: hx("00")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte{1, 2, 3}
			out, err := tc.tag.Append(dst)
			if !errors.Is(err, ErrFilter) || !bytes.Equal(out, dst) {
				t.Fatalf("Append = % x, %v; want dst unchanged and ErrFilter", out, err)
			}
		})
	}
}

func TestEncryptedUnmarshalAllocs(t *testing.T) {
	wire := encryptedGolden[1].wire
	var e EncryptedTag
	if n := testing.AllocsPerRun(100, func() { e.Unmarshal(TagVideo, wire) }); n != 0 {
		t.Fatalf("Unmarshal allocates %v times", n)
	}
}

// An encrypted file written to disk reads back with the Filter bit, and each
// filtered tag's body parses; unfiltered tags give ErrNotFiltered.
func TestEncryptedFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "encrypted.flv")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f, NewHeader(true, true))
	if err != nil {
		t.Fatal(err)
	}
	// §F.4: onMetaData stays in clear; audio and video are filtered (§F.3,
	// version 2: "every audio and video packet should have the FLVTAG.Filter
	// bit set").
	meta, _ := (&Metadata{Duration: 1}).ScriptData().Append(nil)
	if err := w.WriteTag(Tag{Type: TagScript, Data: meta}); err != nil {
		t.Fatal(err)
	}
	var media []EncryptedTag
	for i, tc := range encryptedGolden {
		if tc.typ == TagScript {
			continue
		}
		media = append(media, tc.tag)
		if err := w.WriteTag(Tag{Type: tc.typ, Filter: true, Timestamp: uint32(i * 40), Data: tc.wire}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(src))
	tag, err := r.ReadTag()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tag.Encryption(); !errors.Is(err, ErrNotFiltered) || tag.Filter {
		t.Fatalf("onMetaData: Filter %v, Encryption err %v", tag.Filter, err)
	}
	for i := 0; ; i++ {
		tag, err := r.ReadTag()
		if err == io.EOF {
			if i != len(media) {
				t.Fatalf("read %d filtered tags, want %d", i, len(media))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		e, err := tag.Encryption()
		if err != nil || !tag.Filter {
			t.Fatalf("tag %d: Filter %v, %v", i, tag.Filter, err)
		}
		if !reflect.DeepEqual(e, media[i]) {
			t.Fatalf("tag %d:\n%+v\nwant\n%+v", i, e, media[i])
		}
	}
}
