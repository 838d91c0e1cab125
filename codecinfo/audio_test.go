package codecinfo

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func opusHead(channels, family byte, mapping ...byte) []byte {
	b := []byte("OpusHead")
	b = append(b, 1, channels, 0x38, 0x01)
	b = binary.LittleEndian.AppendUint32(b, 44100)
	b = append(b, 0, 0, family)
	return append(b, mapping...)
}

func TestOpusHead(t *testing.T) {
	got, err := ParseOpusHead(opusHead(1, 0))
	if want := (Audio{Codec: "opus", SampleRate: 48000, Channels: 1}); err != nil || got != want {
		t.Errorf("mono: got %+v, %v", got, err)
	}
	got, err = ParseOpusHead(opusHead(8, 1, 5, 3, 0, 6, 1, 2, 3, 4, 5, 7))
	if want := (Audio{Codec: "opus", SampleRate: 48000, Channels: 8}); err != nil || got != want {
		t.Errorf("7.1: got %+v, %v", got, err)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"family 0 with 3 channels", opusHead(3, 0), ErrInvalid},
		{"0 channels", opusHead(0, 0), ErrInvalid},
		{"mapping table cut", opusHead(6, 1, 4, 2, 0, 4, 1, 2), io.ErrUnexpectedEOF},
		{"stream count 0", opusHead(2, 1, 0, 0, 0, 1), ErrInvalid},
		{"magic", append([]byte("OpusTags"), opusHead(2, 0)[8:]...), ErrInvalid},
		{"version 16", append(append([]byte("OpusHead"), 16), opusHead(2, 0)[9:]...), ErrUnsupported},
	}
	for _, tt := range tests {
		if _, err := ParseOpusHead(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}

func streamInfo(rate, channels, depth int) []byte {
	b := []byte{0x10, 0x00, 0x10, 0x00, 0, 0, 0, 0, 0, 0}
	b = binary.BigEndian.AppendUint32(b, uint32(rate)<<12|uint32(channels-1)<<9|uint32(depth-1)<<4)
	return append(b, make([]byte, 20)...)
}

func TestFLACConfig(t *testing.T) {
	want := Audio{Codec: "flac", SampleRate: 192000, Channels: 8, BitDepth: 32}
	si := streamInfo(192000, 8, 32)
	for name, in := range map[string][]byte{
		"bare":           si,
		"block header":   append([]byte{0x80, 0, 0, 34}, si...),
		"stream marker":  append([]byte("fLaC\x00\x00\x00\x22"), si...),
		"more blocks":    append(append([]byte("fLaC\x00\x00\x00\x22"), si...), 0x84, 0, 0, 0),
		"trailing bytes": append(si, 1, 2, 3),
	} {
		got, err := ParseFLACConfig(in)
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v", name, got, err)
		}
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"sample rate 0", streamInfo(0, 2, 16), ErrInvalid},
		{"first block not STREAMINFO", append([]byte("fLaC\x04\x00\x00\x22"), si...), ErrInvalid},
		{"STREAMINFO length 33", append([]byte("fLaC\x00\x00\x00\x21"), si...), ErrInvalid},
		{"cut", append([]byte("fLaC\x00\x00\x00\x22"), si[:20]...), io.ErrUnexpectedEOF},
		{"min block size 8", append([]byte{0, 8, 0, 8}, si[4:]...), ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := ParseFLACConfig(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestAC3HandMade(t *testing.T) {
	frame := func(fscod, frmsizecod, bsid, acmod int, lfe bool) []byte {
		w := (&bitWriter{}).u(16, 0x0b77).u(16, 0).u(2, uint64(fscod)).u(6, uint64(frmsizecod))
		w.u(5, uint64(bsid)).u(3, 0).u(3, uint64(acmod))
		if acmod&1 != 0 && acmod != 1 {
			w.u(2, 0)
		}
		if acmod&4 != 0 {
			w.u(2, 0)
		}
		if acmod == 2 {
			w.u(2, 0)
		}
		return w.flag(lfe).raw()
	}
	tests := []struct {
		name string
		in   []byte
		want Audio
	}{
		{"mono 32 kHz", frame(2, 0, 8, 1, false), Audio{Codec: "ac3", SampleRate: 32000, Channels: 1, BitRate: 32000}},
		{"stereo dsurmod with LFE", frame(1, 37, 6, 2, true), Audio{Codec: "ac3", SampleRate: 44100, Channels: 3, BitRate: 640000}},
		{"3/2 with LFE", frame(0, 30, 8, 7, true), Audio{Codec: "ac3", SampleRate: 48000, Channels: 6, BitRate: 448000}},
		{"2/2 bsid 9 half rate", frame(0, 20, 9, 6, false), Audio{Codec: "ac3", SampleRate: 24000, Channels: 4, BitRate: 96000}},
	}
	for _, tt := range tests {
		got, err := ParseAC3Frame(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v\nwant %+v", tt.name, got, err, tt.want)
		}
	}
	errs := []struct {
		name string
		in   []byte
		want error
	}{
		{"fscod 3", frame(3, 0, 8, 2, false), ErrInvalid},
		{"frmsizecod 38", frame(0, 38, 8, 2, false), ErrInvalid},
		{"bsid 16 is E-AC-3", frame(0, 0, 16, 2, false), ErrInvalid},
		{"syncword", append([]byte{0x0b, 0x78}, frame(0, 0, 8, 2, false)[2:]...), ErrInvalid},
		{"cut", frame(0, 0, 8, 7, true)[:6], io.ErrUnexpectedEOF},
	}
	for _, tt := range errs {
		if _, err := ParseAC3Frame(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestEAC3HandMade(t *testing.T) {
	frame := func(strmtyp, frmsiz, fscod, x, acmod int, lfe bool, bsid int) []byte {
		w := (&bitWriter{}).u(16, 0x0b77).u(2, uint64(strmtyp)).u(3, 0).u(11, uint64(frmsiz))
		w.u(2, uint64(fscod)).u(2, uint64(x)).u(3, uint64(acmod)).flag(lfe).u(5, uint64(bsid))
		return w.raw()
	}
	// fscod 3: fscod2 1 is 22050 Hz with 6 blocks; 384 bytes per 1536 samples.
	got, err := ParseEAC3Frame(frame(0, 191, 3, 1, 2, false, 16))
	if want := (Audio{Codec: "eac3", SampleRate: 22050, Channels: 2, BitRate: 44100}); err != nil || got != want {
		t.Errorf("22050: got %+v, %v", got, err)
	}
	// numblkscod 0: one block of 256 samples; 64 bytes at 48 kHz is 96 kb/s.
	got, err = ParseEAC3Frame(frame(2, 31, 0, 0, 1, true, 16))
	if want := (Audio{Codec: "eac3", SampleRate: 48000, Channels: 2, BitRate: 96000}); err != nil || got != want {
		t.Errorf("one block: got %+v, %v", got, err)
	}
	errs := []struct {
		name string
		in   []byte
		want error
	}{
		{"strmtyp 3", frame(3, 100, 0, 3, 2, false, 16), ErrInvalid},
		{"fscod2 3", frame(0, 100, 3, 3, 2, false, 16), ErrInvalid},
		{"bsid 8 is AC-3", frame(0, 100, 0, 3, 2, false, 8), ErrInvalid},
		{"cut", frame(0, 100, 0, 3, 2, false, 16)[:5], io.ErrUnexpectedEOF},
	}
	for _, tt := range errs {
		if _, err := ParseEAC3Frame(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestMPEGAudioHandMade(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Audio
	}{
		// MPEG-1 Layer I, 448 kb/s, 32 kHz, stereo.
		{"layer I", []byte{0xff, 0xff, 0xe8, 0x00}, Audio{Codec: "mp1", SampleRate: 32000, Channels: 2, BitRate: 448000}},
		// MPEG-2.5 Layer III, free format, 12 kHz, mono.
		{"free format 2.5", []byte{0xff, 0xe3, 0x04, 0xc0}, Audio{Codec: "mp3", SampleRate: 12000, Channels: 1}},
		// MPEG-2 Layer II, 160 kb/s, 16 kHz, joint stereo.
		{"lsf layer II", []byte{0xff, 0xf5, 0xe8, 0x40}, Audio{Codec: "mp2", SampleRate: 16000, Channels: 2, BitRate: 160000}},
	}
	for _, tt := range tests {
		got, err := ParseMP3Frame(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v\nwant %+v", tt.name, got, err, tt.want)
		}
	}
	errs := []struct {
		name string
		in   []byte
	}{
		{"no sync", []byte{0xff, 0x1b, 0x90, 0x00}},
		{"reserved version", []byte{0xff, 0xeb, 0x90, 0x00}},
		{"reserved layer", []byte{0xff, 0xf9, 0x90, 0x00}},
		{"bitrate_index 15", []byte{0xff, 0xfb, 0xf0, 0x00}},
		{"sampling_frequency 3", []byte{0xff, 0xfb, 0x9c, 0x00}},
	}
	for _, tt := range errs {
		if _, err := ParseMP3Frame(tt.in); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", tt.name, err)
		}
	}
}
