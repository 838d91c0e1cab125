package codecinfo

import (
	"errors"
	"io"
	"testing"
)

type av1Seq struct {
	profile      int
	ops          []int // seq_level_idx per operating point
	tier         bool  // seq_tier for levels above 7
	delay        bool  // initial_display_delay_present_flag, set for every op
	w, h         int
	highBitdepth bool
	twelveBit    bool
	mono         bool
	sx, sy       bool
}

// payload writes a sequence header OBU payload (AV1 §5.5) with timing info
// absent, through color_config().
func (s av1Seq) payload() []byte {
	w := &bitWriter{}
	w.u(3, uint64(s.profile)).u(1, 0).u(1, 0) // not still, not reduced
	w.u(1, 0)                                 // timing_info_present_flag
	w.flag(s.delay)
	w.u(5, uint64(len(s.ops)-1))
	for _, l := range s.ops {
		w.u(12, 0x101).u(5, uint64(l))
		if l > 7 {
			w.flag(s.tier)
		}
		if s.delay {
			w.u(1, 1).u(4, 9)
		}
	}
	w.u(4, 15).u(4, 15).u(16, uint64(s.w-1)).u(16, uint64(s.h-1))
	w.u(1, 0)     // frame_id_numbers_present_flag
	w.u(3, 0b111) // 128x128, filter intra, intra edge
	w.u(4, 0)     // compound and motion tools
	w.u(1, 1)     // enable_order_hint
	w.u(2, 0b11)  // jnt comp, ref frame mvs
	w.u(1, 1)     // seq_choose_screen_content_tools
	w.u(1, 0)     // seq_choose_integer_mv = 0
	w.u(1, 1)     // seq_force_integer_mv
	w.u(3, 6)     // order_hint_bits_minus_1
	w.u(3, 0b011) // superres, cdef, restoration
	w.flag(s.highBitdepth)
	if s.profile == 2 && s.highBitdepth {
		w.flag(s.twelveBit)
	}
	if s.profile != 1 {
		w.flag(s.mono)
	}
	w.u(1, 1).u(8, 9).u(8, 16).u(8, 9) // BT.2020 primaries, PQ, BT.2020 NCL
	if s.mono {
		w.u(1, 0)
		return w.raw()
	}
	w.u(1, 0) // color_range
	if s.profile == 2 && s.twelveBit {
		w.flag(s.sx)
		if s.sx {
			w.flag(s.sy)
		}
	}
	w.u(1, 0) // separate_uv_delta_q
	return w.raw()
}

func av1Record(obus ...[]byte) []byte {
	rec := []byte{0x81, 0, 0, 0}
	for _, o := range obus {
		rec = append(rec, o...)
	}
	return rec
}

// obu frames a payload: with a size field unless sized is false, with an
// extension header if ext.
func obu(typ int, ext, sized bool, payload []byte) []byte {
	h := byte(typ << 3)
	if ext {
		h |= 0x04
	}
	if sized {
		h |= 0x02
	}
	b := []byte{h}
	if ext {
		b = append(b, 0x20) // temporal_id 1
	}
	if sized {
		n := len(payload)
		for {
			c := byte(n & 0x7f)
			n >>= 7
			if n == 0 {
				b = append(b, c)
				break
			}
			b = append(b, c|0x80)
		}
	}
	return append(b, payload...)
}

func TestAV1HandMade(t *testing.T) {
	tests := []struct {
		name string
		seq  av1Seq
		want Video
	}{
		{
			name: "professional 12-bit 4:2:2, high tier, two operating points",
			seq: av1Seq{profile: 2, ops: []int{13, 5}, tier: true, delay: true, w: 3840, h: 2160,
				highBitdepth: true, twelveBit: true, sx: true},
			want: Video{Codec: "av1", Width: 3840, Height: 2160, Profile: "Professional", Level: 13,
				Tier: "High", BitDepth: 12, ChromaFormat: "4:2:2"},
		},
		{
			name: "professional 10-bit is 4:2:2",
			seq:  av1Seq{profile: 2, ops: []int{8}, w: 1920, h: 1080, highBitdepth: true},
			want: Video{Codec: "av1", Width: 1920, Height: 1080, Profile: "Professional", Level: 8,
				Tier: "Main", BitDepth: 10, ChromaFormat: "4:2:2"},
		},
		{
			name: "monochrome",
			seq:  av1Seq{profile: 0, ops: []int{4}, w: 1000, h: 999, mono: true},
			want: Video{Codec: "av1", Width: 1000, Height: 999, Profile: "Main", Level: 4,
				Tier: "Main", BitDepth: 8, ChromaFormat: "4:0:0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.seq.payload()
			for _, rec := range [][]byte{
				av1Record(obu(1, false, true, p)),
				// A temporal delimiter first, an extension header, and a last OBU
				// without a size field.
				av1Record(obu(2, false, true, nil), obu(1, true, true, p), obu(15, false, false, []byte{1, 2, 3})),
				av1Record(obu(1, false, false, p)),
			} {
				got, err := ParseAV1Config(rec)
				if err != nil {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Errorf("got  %+v\nwant %+v", got, tt.want)
				}
			}
		})
	}
}

func TestAV1RecordOnly(t *testing.T) {
	// seq_profile 2, seq_level_idx_0 12, tier 1, high_bitdepth, twelve_bit,
	// subsampling_x only.
	got, err := ParseAV1Config([]byte{0x81, 0x4c, 0xe8, 0x00})
	want := Video{Codec: "av1", Profile: "Professional", Level: 12, Tier: "High", BitDepth: 12, ChromaFormat: "4:2:2"}
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	// Other OBUs only: still the record's values.
	got, err = ParseAV1Config(av1Record(obu(5, false, true, []byte{0xff})))
	if err != nil || got.Width != 0 || got.Profile != "Main" {
		t.Fatalf("metadata OBU only: got %+v, %v", got, err)
	}
}

func TestAV1Errors(t *testing.T) {
	seq := av1Seq{profile: 0, ops: []int{4}, w: 64, h: 64}.payload()
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"marker byte", []byte{0x01, 0, 0, 0}, ErrUnsupported},
		{"forbidden bit", av1Record([]byte{0x8a, 0}), ErrInvalid},
		{"leb128 of 9 bytes", av1Record([]byte{0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0}), ErrInvalid},
		{"leb128 above 2^32-1", av1Record([]byte{0x0a, 0x80, 0x80, 0x80, 0x80, 0x10}), ErrInvalid},
		{"obu size past the end", av1Record([]byte{0x0a, 0x7f, 0}), io.ErrUnexpectedEOF},
		{"seq_profile 3", av1Record(obu(1, false, true, append([]byte{seq[0] | 0x60}, seq[1:]...))), ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := ParseAV1Config(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}
