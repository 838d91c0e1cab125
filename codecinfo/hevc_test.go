package codecinfo

import (
	"errors"
	"testing"
)

type hevcSPS struct {
	subLayers     int  // sps_max_sub_layers_minus1
	subPresent    bool // sub_layer_profile_present_flag and level flag for each
	profile, tier int
	compat        uint32
	level         int
	chroma        int
	separate      bool
	w, h          int
	win           [4]int
	depth         int
}

// nal writes an SPS NAL unit through bit_depth_chroma_minus8 (H.265 §7.3.2.2.1).
func (s hevcSPS) nal() []byte {
	w := &bitWriter{}
	w.u(16, 33<<9|1) // nal_unit_type 33, layer 0, temporal id plus1 1
	w.u(4, 0).u(3, uint64(s.subLayers)).u(1, 1)
	w.u(2, 0).u(1, uint64(s.tier)).u(5, uint64(s.profile)).u(32, uint64(s.compat))
	w.u(48, 0x9000_0000_0000).u(8, uint64(s.level))
	for i := 0; i < s.subLayers; i++ {
		w.flag(s.subPresent).flag(s.subPresent)
	}
	if s.subLayers > 0 {
		w.u(2*(8-s.subLayers), 0)
	}
	for i := 0; i < s.subLayers; i++ {
		if s.subPresent {
			w.u(88, 0).u(8, 90)
		}
	}
	w.ue(0).ue(uint64(s.chroma))
	if s.chroma == 3 {
		w.flag(s.separate)
	}
	w.ue(uint64(s.w)).ue(uint64(s.h))
	w.flag(s.win != [4]int{})
	if s.win != [4]int{} {
		for _, o := range s.win {
			w.ue(uint64(o))
		}
	}
	w.ue(uint64(s.depth - 8)).ue(uint64(s.depth - 8))
	return w.bytes()
}

func TestHEVCSPSHandMade(t *testing.T) {
	tests := []struct {
		name string
		sps  hevcSPS
		want Video
	}{
		{
			name: "sub-layer profile and level present, 4:2:2 window",
			sps: hevcSPS{subLayers: 3, subPresent: true, profile: 4, tier: 1, level: 153, chroma: 2,
				w: 1920, h: 1088, win: [4]int{1, 2, 0, 8}, depth: 10},
			want: Video{Codec: "hevc", Width: 1920 - 6, Height: 1080, Profile: "Rext", Level: 153,
				Tier: "High", BitDepth: 10, ChromaFormat: "4:2:2"},
		},
		{
			name: "separate colour planes: window in luma samples",
			sps: hevcSPS{subLayers: 6, profile: 4, level: 120, chroma: 3, separate: true,
				w: 640, h: 480, win: [4]int{1, 1, 1, 1}, depth: 12},
			want: Video{Codec: "hevc", Width: 638, Height: 478, Profile: "Rext", Level: 120,
				Tier: "Main", BitDepth: 12, ChromaFormat: "4:4:4"},
		},
		{
			name: "profile from the compatibility flags",
			sps:  hevcSPS{profile: 0, compat: 1 << (31 - 2), level: 93, chroma: 1, w: 1280, h: 720, depth: 10},
			want: Video{Codec: "hevc", Width: 1280, Height: 720, Profile: "Main 10", Level: 93,
				Tier: "Main", BitDepth: 10, ChromaFormat: "4:2:0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHEVCSPS(tt.sps.nal())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHEVCConfigWithoutSPS(t *testing.T) {
	rec := []byte{
		1, 0x22, 0x20, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 150, 0xf0, 0, 0xfc,
		0xfe, 0xfa, 0xfa, 0, 0, 0x0f, 1, // chroma 2, bit depths 10, one array
		0x20, 0, 1, 0, 2, 0x40, 0x01, // a VPS array with one 2-byte NAL unit
	}
	got, err := ParseHEVCConfig(rec)
	want := Video{Codec: "hevc", Profile: "Main 10", Level: 150, Tier: "High", BitDepth: 10, ChromaFormat: "4:2:2"}
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	rec[0] = 0
	if _, err := ParseHEVCConfig(rec); !errors.Is(err, ErrUnsupported) {
		t.Errorf("version 0: err %v, want ErrUnsupported", err)
	}
}

func TestHEVCErrors(t *testing.T) {
	crop := hevcSPS{chroma: 1, w: 64, h: 64, win: [4]int{16, 16, 0, 0}, depth: 8}
	if _, err := ParseHEVCSPS(crop.nal()); !errors.Is(err, ErrInvalid) {
		t.Errorf("window as wide as the picture: err %v, want ErrInvalid", err)
	}
	if _, err := ParseHEVCSPS([]byte{0x44, 0x01, 0xc1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a PPS: err %v, want ErrInvalid", err)
	}
	layer1 := crop.nal()
	layer1[1] |= 1 << 3
	if _, err := ParseHEVCSPS(layer1); !errors.Is(err, ErrUnsupported) {
		t.Errorf("layer 1 SPS: err %v, want ErrUnsupported", err)
	}
}
