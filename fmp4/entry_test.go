package fmp4_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ertmp/rtmp/codecinfo"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/fmp4"
)

// h decodes hex, ignoring spaces.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Configurations as FLV carries them, cut from streams FFmpeg made (the same
// vectors as codecinfo/testdata), and the sample entry each becomes.
var (
	avcRecord  = h("01 64 00 1f ff e1 00 1a 67 64 00 1f ac d9 40 50 05 bb 01 10 00 00 03 00 10 00 00 03 03 20 f1 83 19 60 01 00 06 68 eb e3 cb 22 c0 fd f8 f8 00")
	hevcRecord = h("0101600000009000000000003ff000fcfdf8f800000f0320000100184001" +
		"0c01ffff01600000030090000003000003003f959809210001002c420101" +
		"01600000030090000003000003003fa005120171c9265959a4932bc05a02" +
		"000003000200000300321022000100074401c172b42240")
	av1Record  = h("81010c000a0b0000000cc5036900be0010")
	vp9Record  = h("01 000000 00 15 82 02 02 02 0000") // vpcC version 1, flags 0, then the record
	vp9Key     = h("8249834200281016960638241c184a1007387fd9fa3e8fe7766f6dfcff78cfc3f61fbee7f1fdc97a7fc3f13bd7f3c8ffbdf9bf57a7f4de93e57c2fd3")
	vp9Inter   = h("86 00 40 92 f0 71 40 00 00 18 70 c9")
	aacConfig  = h("12 10") // LC, 44.1 kHz, stereo
	opusHead6  = h("4f70 7573 4865 6164 01 06 3801 80bb0000 0000 01 04 02 00 04 01 02 03 05")
	opusHead2  = h("4f70 7573 4865 6164 01 02 3801 80bb0000 0000 00")
	flacInfo   = h("0400 0400 0000 0000 1098 0ac4 42f0 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000") // 44.1 kHz 16-bit stereo
	mp3Frame   = h("fff3 40c4 0013 3062 843f 4f18 000b d6db")                                              // MPEG-2 Layer III, 22.05 kHz mono, 32 kb/s
	mp3Frame44 = h("fffb 9064 0000 0000")                                                                  // MPEG-1 Layer III, 44.1 kHz joint stereo, 128 kb/s
	ac3Frame   = h("0b77 b50b 1e40 ebf8 403e ff99 ff08 41fc")                                              // 48 kHz 3/2+LFE, 448 kb/s
	eac3Frame  = append(h("0b77 037f 3f87 c000 20f8 2000 0200 4000"), make([]byte, 1792-16)...)            // one 1792-byte syncframe, 48 kHz 3/2+LFE
)

// The {name, bytes, value} table of sample entries: what NewTrack makes of
// a configuration, as the configuration box inside the sample entry
// (golden bytes checked by hand against the spec sections NewTrack cites,
// and against FFmpeg's mp4 muxer by TestConfigBoxesMatchFFmpeg).
var entryTable = []struct {
	name          string
	codec         flv.FourCC
	config, frame []byte
	entry, box    string // sample entry and configuration box types
	body          []byte // the configuration box body
	timescale     uint32
	info          string // Track.Video or Track.Audio, as codecinfo prints it
}{
	{"avc1", flv.FourCCAVC, avcRecord, nil, "avc1", "avcC", avcRecord, 90000, "h264 High@31 1280x720 4:2:0 8-bit"},
	{"hvc1", flv.FourCCHEVC, hevcRecord, nil, "hvc1", "hvcC", hevcRecord, 90000, "hevc Main@63 Main tier 642x362 4:2:0 8-bit"},
	{"av01", flv.FourCCAV1, av1Record, nil, "av01", "av1C", av1Record, 90000, "av1 Main@1 Main tier 642x362 4:2:0 8-bit"},
	{"vp09", flv.FourCCVP9, vp9Record, vp9Key, "vp09", "vpcC", vp9Record, 90000, "vp9 Profile 0@21 642x362 4:2:0 8-bit"},
	// A bare record gets the FullBox version 1 and flags in front.
	{"vp09 bare record", flv.FourCCVP9, vp9Record[4:], vp9Key, "vp09", "vpcC", vp9Record, 90000, "vp9 Profile 0@21 642x362 4:2:0 8-bit"},
	// ISO/IEC 14496-1 §7.2.6.5: ES_Descriptor(3) 25 bytes, ES_ID 0, flags 0;
	// DecoderConfigDescriptor(4) 17 bytes, 0x40 audio ISO/IEC 14496-3,
	// streamType 5 <<2 | reserved 1, no buffer size or bit rates;
	// DecSpecificInfo(5) the ASC; SLConfigDescriptor(6) predefined 2.
	{"mp4a AAC", flv.FourCCAAC, aacConfig, nil, "mp4a", "esds",
		h("00000000 03 19 0000 00 04 11 40 15 000000 00000000 00000000 05 02 1210 06 01 02"), 44100, "aac LC 44100 Hz 2 ch"},
	// No DecSpecificInfo; 0x69 is ISO/IEC 13818-3 (22.05 kHz), the bit rate
	// from the frame header.
	{"mp4a MP3 MPEG-2", flv.FourCCMP3, nil, mp3Frame, "mp4a", "esds",
		h("00000000 03 15 0000 00 04 0d 69 15 000000 00007d00 00007d00 06 01 02"), 22050, "mp3 22050 Hz 1 ch 32000 b/s"},
	{"mp4a MP3 MPEG-1", flv.FourCCMP3, nil, mp3Frame44, "mp4a", "esds",
		h("00000000 03 15 0000 00 04 0d 6b 15 000000 0001f400 0001f400 06 01 02"), 44100, "mp3 44100 Hz 2 ch 128000 b/s"},
	// Opus-ISOBMFF §4.3.2: the OpusHead fields big-endian, version 0.
	{"Opus 5.1", flv.FourCCOpus, opusHead6, nil, "Opus", "dOps",
		h("00 06 0138 0000bb80 0000 01 04 02 00 04 01 02 03 05"), 48000, "opus 48000 Hz 6 ch"},
	{"Opus stereo", flv.FourCCOpus, opusHead2, nil, "Opus", "dOps", h("00 02 0138 0000bb80 0000 00"), 48000, "opus 48000 Hz 2 ch"},
	// An empty sequence start is mono or stereo: the TOC's s bit says which.
	{"Opus empty config", flv.FourCCOpus, nil, h("fc ff fe"), "Opus", "dOps", h("00 02 0000 0000bb80 0000 00"), 48000, "opus 48000 Hz 2 ch"},
	// FLAC-ISOBMFF §3.3.2: FullBox, then the STREAMINFO block flagged last.
	{"fLaC STREAMINFO", flv.FourCCFLAC, flacInfo, nil, "fLaC", "dfLa", append(h("00000000 80 000022"), flacInfo...), 44100, "flac 44100 Hz 2 ch 16-bit"},
	{"fLaC block", flv.FourCCFLAC, append(h("00 000022"), flacInfo...), nil, "fLaC", "dfLa", append(h("00000000 80 000022"), flacInfo...), 44100, "flac 44100 Hz 2 ch 16-bit"},
	// "fLaC", STREAMINFO, a VORBIS_COMMENT and a last PADDING: the padding
	// goes, the comment becomes the last block.
	{"fLaC stream header", flv.FourCCFLAC, append(append(append(h("664c6143 00 000022"), flacInfo...), h("04 000002 abcd")...), h("81 000003 000000")...), nil,
		"fLaC", "dfLa", append(append(h("00000000 00 000022"), flacInfo...), h("84 000002 abcd")...), 44100, "flac 44100 Hz 2 ch 16-bit"},
	// ETSI TS 102 366 §F.4: fscod 0, bsid 8, bsmod 0, acmod 7, lfeon 1,
	// bit_rate_code 15 (448 kb/s), 5 reserved bits.
	{"ac-3", flv.FourCCAC3, nil, ac3Frame, "ac-3", "dac3", h("10 3d e0"), 48000, "ac3 48000 Hz 6 ch 448000 b/s"},
	// §F.6: data_rate 448, num_ind_sub 0; fscod 0, bsid 16, acmod 7, lfeon 1,
	// no dependent substream.
	{"ec-3", flv.FourCCEAC3, nil, eac3Frame, "ec-3", "dec3", h("0e 00 20 0f 00"), 48000, "eac3 48000 Hz 6 ch 448000 b/s"},
}

func TestSampleEntries(t *testing.T) {
	for _, c := range entryTable {
		t.Run(c.name, func(t *testing.T) {
			config, frame := bytes.Clone(c.config), bytes.Clone(c.frame)
			tr, err := fmp4.NewTrack(7, c.codec, config, frame)
			if err != nil {
				t.Fatal(err)
			}
			// NewTrack copies what it keeps.
			for i := range config {
				config[i] = 0xee
			}
			for i := range frame {
				frame[i] = 0xee
			}
			if tr.Timescale != c.timescale || tr.ID != 7 || tr.Codec != c.codec {
				t.Fatalf("track %d %v timescale %d", tr.ID, tr.Codec, tr.Timescale)
			}
			info := tr.Audio.String()
			if tr.IsVideo() {
				info = tr.Video.String()
			}
			if info != c.info {
				t.Errorf("info %q, want %q", info, c.info)
			}
			init, err := fmp4.AppendInit(nil, tr)
			if err != nil {
				t.Fatal(err)
			}
			boxes, err := fmp4.ParseBoxes(init)
			if err != nil {
				t.Fatal(err)
			}
			if len(boxes) != 2 || boxes[0].Type.String() != "ftyp" || boxes[1].Type.String() != "moov" {
				t.Fatalf("init segment: %v", boxes)
			}
			stsd := boxes[1].Find("trak/mdia/minf/stbl/stsd")
			if stsd == nil || len(stsd.Children) != 1 {
				t.Fatal("no stsd with one entry")
			}
			e := stsd.Children[0]
			if e.Type.String() != c.entry || len(e.Children) != 1 || e.Children[0].Type.String() != c.box {
				t.Fatalf("sample entry %v with %v", e.Type, e.Children)
			}
			if got := e.Children[0].Body; !bytes.Equal(got, c.body) {
				t.Fatalf("%s\n got % x\nwant % x", c.box, got, c.body)
			}
			checkEntryHead(t, tr, e.Head)
		})
	}
}

// checkEntryHead checks the fixed fields of a sample entry
// (ISO/IEC 14496-12 §12.1.3.2, §12.2.3.2).
func checkEntryHead(t *testing.T, tr *fmp4.Track, head []byte) {
	t.Helper()
	if !bytes.Equal(head[:8], []byte{0, 0, 0, 0, 0, 0, 0, 1}) {
		t.Fatalf("reserved and data_reference_index: % x", head[:8])
	}
	if tr.IsVideo() {
		if len(head) != 78 {
			t.Fatalf("VisualSampleEntry of %d bytes", len(head))
		}
		w, hh := int(head[24])<<8|int(head[25]), int(head[26])<<8|int(head[27])
		if w != tr.Video.Width || hh != tr.Video.Height {
			t.Fatalf("entry size %dx%d, track %dx%d", w, hh, tr.Video.Width, tr.Video.Height)
		}
		return
	}
	if len(head) != 28 {
		t.Fatalf("AudioSampleEntry of %d bytes", len(head))
	}
	ch := int(head[16])<<8 | int(head[17])
	rate := int(be32(head[24:]) >> 16)
	if ch != tr.Audio.Channels || rate != tr.Audio.SampleRate {
		t.Fatalf("entry %d ch %d Hz, track %d ch %d Hz", ch, rate, tr.Audio.Channels, tr.Audio.SampleRate)
	}
}

func TestNewTrackErrors(t *testing.T) {
	for _, c := range []struct {
		name          string
		id            uint32
		codec         flv.FourCC
		config, frame []byte
		want          []error
	}{
		{"track id 0", 0, flv.FourCCAVC, avcRecord, nil, []error{fmp4.ErrInvalid}},
		{"vp08", 1, flv.FourCCVP8, vp9Record, nil, []error{fmp4.ErrUnsupported}},
		{"vvc1", 1, flv.FourCCVVC, nil, nil, []error{fmp4.ErrUnsupported}},
		{"legacy codec", 1, 0, nil, nil, []error{fmp4.ErrUnsupported}},
		{"vp09 without a frame", 1, flv.FourCCVP9, vp9Record, nil, []error{fmp4.ErrNeedFrame}},
		{"vp09 with an inter frame", 1, flv.FourCCVP9, vp9Record, vp9Inter, []error{fmp4.ErrNeedFrame}},
		{"ac-3 without a frame", 1, flv.FourCCAC3, nil, nil, []error{fmp4.ErrNeedFrame}},
		{"ec-3 without a frame", 1, flv.FourCCEAC3, nil, nil, []error{fmp4.ErrNeedFrame}},
		{".mp3 without a frame", 1, flv.FourCCMP3, nil, nil, []error{fmp4.ErrNeedFrame}},
		{"Opus without anything", 1, flv.FourCCOpus, nil, nil, []error{fmp4.ErrNeedFrame}},
		{"avc1 truncated", 1, flv.FourCCAVC, avcRecord[:20], nil, []error{io.ErrUnexpectedEOF}},
		{"avc1 bad version", 1, flv.FourCCAVC, append([]byte{2}, avcRecord[1:]...), nil, []error{fmp4.ErrUnsupported, codecinfo.ErrUnsupported}},
		{"mp4a bad config", 1, flv.FourCCAAC, h("00 00"), nil, []error{fmp4.ErrInvalid, codecinfo.ErrInvalid}},
		{"ac-3 no syncword", 1, flv.FourCCAC3, nil, h("0b 78 b50b 1e40 ebf8"), []error{fmp4.ErrInvalid}},
		{"ec-3 frame cut short", 1, flv.FourCCEAC3, nil, eac3Frame[:100], []error{io.ErrUnexpectedEOF}},
		{"ec-3 dependent first", 1, flv.FourCCEAC3, nil, eac3Syncframes(t, ec3Frame{strmtyp: 1, acmod: 2}), []error{fmp4.ErrInvalid}},
		{"fLaC padding first", 1, flv.FourCCFLAC, append(append(h("664c6143 01 000004 00000000 00 000022"), flacInfo...), nil...), nil, []error{fmp4.ErrInvalid}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, err := fmp4.NewTrack(c.id, c.codec, c.config, c.frame)
			if err == nil {
				t.Fatalf("track %+v, no error", tr)
			}
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("%v is not %v", err, w)
				}
			}
		})
	}
}

// ec3Frame is what eac3Syncframes writes of an E-AC-3 syncframe's bsi.
type ec3Frame struct {
	strmtyp, substreamid, acmod, lfeon int
	chanmap                            int // written when strmtyp is 1 and it is not 0
	size                               int // bytes, even, at least 16
}

// eac3Syncframes writes E-AC-3 syncframes (ATSC A/52 §E.2.2.2): 48 kHz, six
// blocks, bsid 16, no compression gain, the rest zero.
func eac3Syncframes(t testing.TB, frames ...ec3Frame) []byte {
	var out []byte
	for _, f := range frames {
		if f.size == 0 {
			f.size = 64
		}
		var bits []int
		put := func(n, v int) {
			for i := n - 1; i >= 0; i-- {
				bits = append(bits, v>>i&1)
			}
		}
		put(16, 0x0b77)
		put(2, f.strmtyp)
		put(3, f.substreamid)
		put(11, f.size/2-1)
		put(2, 0) // fscod: 48 kHz
		put(2, 3) // numblkscod: 6 blocks
		put(3, f.acmod)
		put(1, f.lfeon)
		put(5, 16) // bsid
		put(5, 0)  // dialnorm
		put(1, 0)  // compre
		if f.acmod == 0 {
			put(5, 0)
			put(1, 0)
		}
		if f.strmtyp == 1 {
			if f.chanmap != 0 {
				put(1, 1)
				put(16, f.chanmap)
			} else {
				put(1, 0)
			}
		}
		b := make([]byte, f.size)
		for i, v := range bits {
			b[i/8] |= byte(v << (7 - i%8))
		}
		out = append(out, b...)
	}
	return out
}

// A 7.1 E-AC-3 sample: a 5.1 independent substream and a dependent one
// carrying Lrs/Rrs (ATSC A/52 Table E.1.4, chanmap bit 6 from the left).
// Unlike the 5.1 case this layout is not checked against FFmpeg, whose
// encoder writes no dependent substreams.
func TestEC3DependentSubstream(t *testing.T) {
	frame := eac3Syncframes(t,
		ec3Frame{strmtyp: 0, acmod: 7, lfeon: 1, size: 768},
		ec3Frame{strmtyp: 1, acmod: 2, chanmap: 1 << (15 - 6), size: 256},
	)
	tr, err := fmp4.NewTrack(1, flv.FourCCEAC3, nil, frame)
	if err != nil {
		t.Fatal(err)
	}
	init, err := fmp4.AppendInit(nil, tr)
	if err != nil {
		t.Fatal(err)
	}
	got := configBox(t, init, "dec3")
	// data_rate (768+256)*8*48000/1536/1000 = 256, num_ind_sub 0; fscod 0,
	// bsid 16, acmod 7, lfeon 1, num_dep_sub 1, chan_loc 0x080 (Lrs/Rrs,
	// the second of nine bits).
	want := h("08 00 20 0f 02 80")
	if !bytes.Equal(got, want) {
		t.Fatalf("dec3 % x, want % x", got, want)
	}
	// Two independent substreams: num_ind_sub 1.
	frame = eac3Syncframes(t, ec3Frame{strmtyp: 0, acmod: 2}, ec3Frame{strmtyp: 0, substreamid: 1, acmod: 1})
	if tr, err = fmp4.NewTrack(1, flv.FourCCEAC3, nil, frame); err != nil {
		t.Fatal(err)
	}
	init, _ = fmp4.AppendInit(nil, tr)
	if got, want = configBox(t, init, "dec3"), h("01 01 20 04 00 20 02 00"); !bytes.Equal(got, want) {
		t.Fatalf("dec3 % x, want % x", got, want)
	}
}

func TestAppendInitErrors(t *testing.T) {
	a, _ := fmp4.NewTrack(1, flv.FourCCAVC, avcRecord, nil)
	b, _ := fmp4.NewTrack(1, flv.FourCCAAC, aacConfig, nil)
	if _, err := fmp4.AppendInit(nil); !errors.Is(err, fmp4.ErrInvalid) {
		t.Errorf("no tracks: %v", err)
	}
	if _, err := fmp4.AppendInit(nil, a, b); !errors.Is(err, fmp4.ErrInvalid) {
		t.Errorf("two tracks with ID 1: %v", err)
	}
	if _, err := fmp4.AppendInit(nil, &fmp4.Track{ID: 2}); !errors.Is(err, fmp4.ErrInvalid) {
		t.Errorf("a track not from NewTrack: %v", err)
	}
	last, _ := fmp4.NewTrack(0xffffffff, flv.FourCCAAC, aacConfig, nil)
	if _, err := fmp4.AppendInit(nil, last); !errors.Is(err, fmp4.ErrInvalid) {
		t.Errorf("track 0xffffffff: %v", err)
	}
}

// Two tracks in one initialization segment: next_track_ID follows the
// largest, and each has its trex.
func TestInitTwoTracks(t *testing.T) {
	v, _ := fmp4.NewTrack(3, flv.FourCCAVC, avcRecord, nil)
	a, _ := fmp4.NewTrack(9, flv.FourCCAAC, aacConfig, nil)
	init, err := fmp4.AppendInit([]byte("prefix"), v, a)
	if err != nil {
		t.Fatal(err)
	}
	if string(init[:6]) != "prefix" {
		t.Fatal("AppendInit did not append")
	}
	d := decodeFile(t, init[6:])
	if d.timescale[3] != 90000 || d.timescale[9] != 44100 {
		t.Fatalf("timescales %v", d.timescale)
	}
	boxes, _ := fmp4.ParseBoxes(init[6:])
	mvhd := boxes[1].Child(boxType("mvhd"))
	if next := be32(mvhd.Body[len(mvhd.Body)-4:]); next != 10 {
		t.Fatalf("next_track_ID %d", next)
	}
	var hdlrs []string
	for _, trak := range boxes[1].Children {
		if hd := trak.Find("mdia/hdlr"); hd != nil {
			hdlrs = append(hdlrs, string(hd.Body[8:12]))
		}
	}
	if strings.Join(hdlrs, ",") != "vide,soun" {
		t.Fatalf("handlers %v", hdlrs)
	}
}
