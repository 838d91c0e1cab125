package codecinfo

import (
	"errors"
	"io"
	"testing"
)

func TestVPConfigLayouts(t *testing.T) {
	tests := []struct {
		name  string
		codec string
		in    []byte
		want  Video
	}{
		{
			name: "version 1 bare", codec: "vp09",
			in:   []byte{3, 41, 0xc6, 1, 1, 1, 0, 0},
			want: Video{Codec: "vp9", Profile: "Profile 3", Level: 41, BitDepth: 12, ChromaFormat: "4:4:4"},
		},
		{
			name: "version 0", codec: "vp9",
			in:   []byte{0, 0, 0, 0, 2, 31, 0xa2, 0x20, 0, 0},
			want: Video{Codec: "vp9", Profile: "Profile 2", Level: 31, BitDepth: 10, ChromaFormat: "4:2:2"},
		},
		{
			name: "vp8 with init data", codec: "vp8",
			in:   []byte{1, 0, 0, 0, 0, 10, 0x82, 2, 2, 2, 0, 2, 0xaa, 0xbb},
			want: Video{Codec: "vp8", Profile: "0", Level: 10, BitDepth: 8, ChromaFormat: "4:2:0"},
		},
	}
	for _, tt := range tests {
		got, err := ParseVPConfig(tt.in, tt.codec)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v\nwant %+v", tt.name, got, err, tt.want)
		}
	}
	errs := []struct {
		name  string
		codec string
		in    []byte
		want  error
	}{
		{"codec av1", "av1", []byte{1, 0, 0, 0, 0, 10, 0x82, 2, 2, 2, 0, 0}, ErrUnsupported},
		{"chromaSubsampling 4", "vp9", []byte{1, 0, 0, 0, 0, 10, 0x88, 2, 2, 2, 0, 0}, ErrInvalid},
		{"bitDepth 9", "vp9", []byte{1, 0, 0, 0, 0, 10, 0x92, 2, 2, 2, 0, 0}, ErrInvalid},
		{"init data cut", "vp9", []byte{1, 0, 0, 0, 0, 10, 0x82, 2, 2, 2, 0, 2, 0}, io.ErrUnexpectedEOF},
	}
	for _, tt := range errs {
		if _, err := ParseVPConfig(tt.in, tt.codec); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestVP9HandMade(t *testing.T) {
	key := func(profile int, cs int, sx, sy bool) []byte {
		w := (&bitWriter{}).u(2, 2).u(1, uint64(profile&1)).u(1, uint64(profile>>1))
		if profile == 3 {
			w.u(1, 0)
		}
		w.u(1, 0).u(1, 0).u(1, 1).u(1, 0).u(24, 0x498342)
		if profile >= 2 {
			w.u(1, 1) // 12-bit
		}
		w.u(3, uint64(cs))
		if cs != 7 {
			w.u(1, 0)
			if profile == 1 || profile == 3 {
				w.flag(sx).flag(sy).u(1, 0)
			}
		} else if profile == 1 || profile == 3 {
			w.u(1, 0)
		}
		return w.u(16, 1279).u(16, 719).raw()
	}
	tests := []struct {
		name string
		in   []byte
		want Video
	}{
		{"profile 3 4:4:0", key(3, 2, false, true),
			Video{Codec: "vp9", Width: 1280, Height: 720, Profile: "Profile 3", BitDepth: 12, ChromaFormat: "4:4:0"}},
		{"profile 1 RGB", key(1, 7, false, false),
			Video{Codec: "vp9", Width: 1280, Height: 720, Profile: "Profile 1", BitDepth: 8, ChromaFormat: "4:4:4"}},
		{"profile 1 4:2:2", key(1, 1, true, false),
			Video{Codec: "vp9", Width: 1280, Height: 720, Profile: "Profile 1", BitDepth: 8, ChromaFormat: "4:2:2"}},
	}
	for _, tt := range tests {
		got, err := ParseVP9Keyframe(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v\nwant %+v", tt.name, got, err, tt.want)
		}
	}
	inter := []byte{0x86, 0x00, 0x40} // marker 2, profile 0, not shown-existing, frame_type 1
	if _, err := ParseVP9Keyframe(inter); !errors.Is(err, ErrNotKeyframe) {
		t.Errorf("inter frame: err %v, want ErrNotKeyframe", err)
	}
	if _, err := ParseVP9Keyframe([]byte{0x88}); !errors.Is(err, ErrNotKeyframe) {
		t.Errorf("show_existing_frame: err %v, want ErrNotKeyframe", err)
	}
	if _, err := ParseVP9Keyframe([]byte{0x40, 0, 0}); !errors.Is(err, ErrInvalid) {
		t.Errorf("frame_marker 1: err %v, want ErrInvalid", err)
	}
	if _, err := ParseVP9Keyframe([]byte{0x82, 0x49, 0x83, 0x43, 0, 0, 0, 0, 0}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad sync code: err %v, want ErrInvalid", err)
	}
}

func TestVP8Errors(t *testing.T) {
	if _, err := ParseVP8Keyframe([]byte{0x91, 0x77, 0x00}); !errors.Is(err, ErrNotKeyframe) {
		t.Errorf("inter frame: err %v, want ErrNotKeyframe", err)
	}
	if _, err := ParseVP8Keyframe([]byte{0x90, 0x77, 0x00, 0x9d, 0x01, 0x2b, 0x41, 0x01, 0xf3, 0x00}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad start code: err %v, want ErrInvalid", err)
	}
	if _, err := ParseVP8Keyframe([]byte{0x90, 0x77, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0xc0, 0xf3, 0x00}); !errors.Is(err, ErrInvalid) {
		t.Errorf("width 0 with scale bits: err %v, want ErrInvalid", err)
	}
}
