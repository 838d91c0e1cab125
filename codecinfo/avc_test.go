package codecinfo

import (
	"errors"
	"testing"
)

// avcSPS holds the fields a hand-made SPS varies.
type avcSPS struct {
	profile, constraints, level int
	chroma                      int // written only for the High profiles
	separate                    bool
	depth                       int
	scalingLists                int // how many lists are present, each with deltas
	poc                         int
	wmbs, hmap                  int // minus1 values
	frameMBsOnly                bool
	crop                        [4]int // left, right, top, bottom; nil crop if all 0
}

func (s avcSPS) nal() []byte {
	w := &bitWriter{}
	w.u(8, 0x67)
	w.u(8, uint64(s.profile)).u(8, uint64(s.constraints)).u(8, uint64(s.level))
	w.ue(0)
	switch s.profile {
	case 100, 110, 122, 244:
		w.ue(uint64(s.chroma))
		if s.chroma == 3 {
			w.flag(s.separate)
		}
		w.ue(uint64(s.depth - 8)).ue(uint64(s.depth - 8))
		w.u(1, 0)
		w.flag(s.scalingLists > 0)
		if s.scalingLists > 0 {
			n := 8
			if s.chroma == 3 {
				n = 12
			}
			for i := 0; i < n; i++ {
				present := i < s.scalingLists
				w.flag(present)
				if !present {
					continue
				}
				size := 16
				if i >= 6 {
					size = 64
				}
				for j := 0; j < size; j++ {
					w.se(int64(j%7 - 3)) // never reaches nextScale 0
				}
			}
		}
	}
	w.ue(2) // log2_max_frame_num_minus4
	w.ue(uint64(s.poc))
	switch s.poc {
	case 0:
		w.ue(3)
	case 1:
		w.u(1, 0).se(-1).se(2).ue(2).se(5).se(-5)
	}
	w.ue(4).u(1, 0)
	w.ue(uint64(s.wmbs)).ue(uint64(s.hmap))
	w.flag(s.frameMBsOnly)
	if !s.frameMBsOnly {
		w.u(1, 1)
	}
	w.u(1, 1)
	if s.crop != [4]int{} {
		w.u(1, 1)
		for _, c := range s.crop {
			w.ue(uint64(c))
		}
	} else {
		w.u(1, 0)
	}
	w.u(1, 0) // vui_parameters_present_flag
	return w.bytes()
}

// TestAVCSPSHandMade covers SPS syntax x264 does not produce. The sizes follow
// H.264 §7.4.2.1.1 equations 7-18 to 7-21.
func TestAVCSPSHandMade(t *testing.T) {
	tests := []struct {
		name string
		sps  avcSPS
		want Video
	}{
		{
			// 12 scaling lists (6 of 64 entries), separate colour planes: crop
			// units are 1 luma sample across and 2 down (fields).
			name: "444 separate planes, 12 scaling lists, fields",
			sps: avcSPS{profile: 244, level: 40, chroma: 3, separate: true, depth: 8, scalingLists: 12,
				poc: 1, wmbs: 19, hmap: 8, crop: [4]int{3, 2, 1, 2}},
			want: Video{Codec: "h264", Width: 320 - 5, Height: 288 - 6, Profile: "High 4:4:4 Predictive",
				Level: 40, BitDepth: 8, ChromaFormat: "4:4:4"},
		},
		{
			// 4:2:2 fields: crop units 2 across, 1 * 2 down.
			name: "422 intra fields",
			sps: avcSPS{profile: 122, constraints: 0x10, level: 41, chroma: 2, depth: 10, scalingLists: 3,
				poc: 0, wmbs: 119, hmap: 33, crop: [4]int{0, 0, 0, 4}},
			want: Video{Codec: "h264", Width: 1920, Height: 1088 - 8, Profile: "High 4:2:2 Intra",
				Level: 41, BitDepth: 10, ChromaFormat: "4:2:2"},
		},
		{
			// 4:2:0 frames: crop units 2 and 2. 1080p the usual way.
			name: "main 1080p",
			sps: avcSPS{profile: 77, level: 40, poc: 2, wmbs: 119, hmap: 67, frameMBsOnly: true,
				crop: [4]int{0, 0, 0, 4}},
			want: Video{Codec: "h264", Width: 1920, Height: 1080, Profile: "Main",
				Level: 40, BitDepth: 8, ChromaFormat: "4:2:0"},
		},
		{
			name: "constrained baseline",
			sps:  avcSPS{profile: 66, constraints: 0xc0, level: 30, poc: 2, wmbs: 39, hmap: 29, frameMBsOnly: true},
			want: Video{Codec: "h264", Width: 640, Height: 480, Profile: "Constrained Baseline",
				Level: 30, BitDepth: 8, ChromaFormat: "4:2:0"},
		},
		{
			name: "monochrome",
			sps:  avcSPS{profile: 100, level: 30, chroma: 0, depth: 8, poc: 0, wmbs: 9, hmap: 9, frameMBsOnly: true, crop: [4]int{1, 0, 0, 3}},
			want: Video{Codec: "h264", Width: 159, Height: 157, Profile: "High",
				Level: 30, BitDepth: 8, ChromaFormat: "4:0:0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nal := tt.sps.nal()
			got, err := ParseAVCSPS(nal)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			// The same SPS inside a record.
			rec := append([]byte{1, nal[1], nal[2], nal[3], 0xff, 0xe1, 0, byte(len(nal))}, nal...)
			rec = append(rec, 0)
			got, err = ParseAVCConfig(rec)
			if err != nil || got != tt.want {
				t.Errorf("in a record: got %+v, %v", got, err)
			}
		})
	}
}

func TestAVCErrors(t *testing.T) {
	good := avcSPS{profile: 100, level: 30, chroma: 1, depth: 8, wmbs: 9, hmap: 9, frameMBsOnly: true}
	tooMuchCrop := good
	tooMuchCrop.crop = [4]int{40, 40, 0, 0}
	badChroma := good
	badChroma.chroma = 4
	badDepth := good
	badDepth.depth = 15
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"crop wider than the picture", tooMuchCrop.nal(), ErrInvalid},
		{"chroma_format_idc 4", badChroma.nal(), ErrInvalid},
		{"bit depth 15", badDepth.nal(), ErrInvalid},
		{"a PPS", []byte{0x68, 0xee, 0x3c, 0x80}, ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := ParseAVCSPS(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := ParseAVCConfig([]byte{2, 100, 0, 30, 0xff, 0xe0, 0}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("record version 2: err %v, want ErrUnsupported", err)
	}
}

func TestAVCConfigWithoutSPS(t *testing.T) {
	got, err := ParseAVCConfig([]byte{1, 100, 0, 31, 0xff, 0xe0, 0})
	want := Video{Codec: "h264", Profile: "High", Level: 31}
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
}
