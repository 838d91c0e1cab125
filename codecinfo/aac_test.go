package codecinfo

import (
	"errors"
	"io"
	"testing"
)

// TestAACHandMade covers AudioSpecificConfig signalling ffmpeg's encoder does
// not produce (ISO/IEC 14496-3 §1.6.2.1, §1.6.5.2, §4.4.1.1). Bits are spelled
// out field by field.
func TestAACHandMade(t *testing.T) {
	tests := []struct {
		name string
		asc  []byte
		want Audio
	}{
		{
			name: "HE-AAC hierarchical",
			// AOT 5, 24000 (6), 2 ch, extension 48000 (3), AOT 2, GA 000
			asc:  (&bitWriter{}).u(5, 5).u(4, 6).u(4, 2).u(4, 3).u(5, 2).u(3, 0).raw(),
			want: Audio{Codec: "aac", SampleRate: 48000, Channels: 2, Profile: "HE-AAC"},
		},
		{
			name: "HE-AACv2 hierarchical",
			asc:  (&bitWriter{}).u(5, 29).u(4, 6).u(4, 1).u(4, 3).u(5, 2).u(3, 0).raw(),
			want: Audio{Codec: "aac", SampleRate: 48000, Channels: 2, Profile: "HE-AACv2"},
		},
		{
			name: "HE-AAC backward compatible",
			// AOT 2, 22050 (7), 2 ch, GA 000, 0x2b7, AOT 5, sbr 1, 44100 (4)
			asc: (&bitWriter{}).u(5, 2).u(4, 7).u(4, 2).u(3, 0).
				u(11, 0x2b7).u(5, 5).u(1, 1).u(4, 4).raw(),
			want: Audio{Codec: "aac", SampleRate: 44100, Channels: 2, Profile: "HE-AAC"},
		},
		{
			name: "HE-AACv2 backward compatible",
			asc: (&bitWriter{}).u(5, 2).u(4, 6).u(4, 1).u(3, 0).
				u(11, 0x2b7).u(5, 5).u(1, 1).u(4, 3).u(11, 0x548).u(1, 1).raw(),
			want: Audio{Codec: "aac", SampleRate: 48000, Channels: 2, Profile: "HE-AACv2"},
		},
		{
			name: "sync extension with sbrPresentFlag 0",
			asc: (&bitWriter{}).u(5, 2).u(4, 6).u(4, 1).u(3, 0).
				u(11, 0x2b7).u(5, 5).u(1, 0).raw(),
			want: Audio{Codec: "aac", SampleRate: 24000, Channels: 1, Profile: "LC"},
		},
		{
			name: "escaped object type 39 (ELD)",
			asc:  (&bitWriter{}).u(5, 31).u(6, 39-32).u(4, 3).u(4, 2).u(8, 0).raw(),
			want: Audio{Codec: "aac", SampleRate: 48000, Channels: 2, Profile: "ELD"},
		},
		{
			name: "explicit sampling frequency",
			asc:  (&bitWriter{}).u(5, 2).u(4, 15).u(24, 12345).u(4, 1).u(3, 0).raw(),
			want: Audio{Codec: "aac", SampleRate: 12345, Channels: 1, Profile: "LC"},
		},
		{
			name: "program config element",
			// channelConfiguration 0, GA 000, then a PCE: front C (SCE) and L/R
			// (CPE), back Ls/Rs (CPE), one LFE.
			asc: (&bitWriter{}).u(5, 2).u(4, 4).u(4, 0).u(3, 0).
				u(4, 0).u(2, 1).u(4, 4).
				u(4, 2).u(4, 0).u(4, 1).u(2, 1).u(3, 0).u(4, 0).
				u(1, 0).u(1, 0).u(1, 0).
				u(1, 0).u(4, 0).u(1, 1).u(4, 1).
				u(1, 1).u(4, 2).
				u(4, 0).
				raw(),
			want: Audio{Codec: "aac", SampleRate: 44100, Channels: 6, Profile: "LC"},
		},
		{
			name: "channelConfiguration 13 (22.2)",
			asc:  (&bitWriter{}).u(5, 2).u(4, 3).u(4, 13).u(3, 0).raw(),
			want: Audio{Codec: "aac", SampleRate: 48000, Channels: 24, Profile: "LC"},
		},
		{
			name: "Main",
			asc:  []byte{0x0a, 0x10},
			want: Audio{Codec: "aac", SampleRate: 44100, Channels: 2, Profile: "Main"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAACConfig(tt.asc)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAACErrors(t *testing.T) {
	tests := []struct {
		name string
		asc  []byte
		want error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"one byte", []byte{0x12}, io.ErrUnexpectedEOF},
		{"samplingFrequencyIndex 13", (&bitWriter{}).u(5, 2).u(4, 13).u(4, 2).u(3, 0).raw(), ErrInvalid},
		{"channelConfiguration 8", (&bitWriter{}).u(5, 2).u(4, 4).u(4, 8).u(3, 0).raw(), ErrInvalid},
		{"object type 0", (&bitWriter{}).u(5, 0).u(4, 4).u(4, 2).u(3, 0).raw(), ErrInvalid},
		{"explicit frequency 0", (&bitWriter{}).u(5, 2).u(4, 15).u(24, 0).u(4, 2).u(3, 0).raw(), ErrInvalid},
		{"cut sync extension", (&bitWriter{}).u(5, 2).u(4, 6).u(4, 1).u(3, 0).u(11, 0x2b7).u(5, 5).raw(), io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		if _, err := ParseAACConfig(tt.asc); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}
