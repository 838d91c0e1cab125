package codecinfo

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ertmp/rtmp/flv"
)

// The FourCC entry points reach the parser of their codec: the same result
// for every test vector, and ErrUnsupported for codecs they do not read.
func TestByFourCC(t *testing.T) {
	video := map[string]struct {
		f     flv.FourCC
		parse func(flv.FourCC, []byte) (Video, error)
	}{
		"avc_": {flv.FourCCAVC, ParseVideoConfig}, "hevc_": {flv.FourCCHEVC, ParseVideoConfig},
		"av1_": {flv.FourCCAV1, ParseVideoConfig}, "vp9_": {flv.FourCCVP9, ParseVideoConfig},
		"vp9frame_": {flv.FourCCVP9, ParseVideoKeyframe}, "vp8frame": {flv.FourCCVP8, ParseVideoKeyframe},
	}
	audio := map[string]struct {
		f     flv.FourCC
		parse func(flv.FourCC, []byte) (Audio, error)
	}{
		"aac_": {flv.FourCCAAC, ParseAudioConfig}, "opus_": {flv.FourCCOpus, ParseAudioConfig},
		"flac_": {flv.FourCCFLAC, ParseAudioConfig}, "ac3_": {flv.FourCCAC3, ParseAudioFrame},
		"eac3_": {flv.FourCCEAC3, ParseAudioFrame}, "mp3_": {flv.FourCCMP3, ParseAudioFrame},
	}
	n := 0
	for _, vec := range loadVectors(t) {
		p := parserFor(t, vec.name)
		if d, ok := video[p.prefix]; ok {
			want, werr := p.video(vec.data)
			got, err := d.parse(d.f, vec.data)
			if !reflect.DeepEqual(got, want) || (err == nil) != (werr == nil) {
				t.Errorf("%s: by FourCC %v, %v; directly %v, %v", vec.name, got, err, want, werr)
			}
			n++
		}
		if d, ok := audio[p.prefix]; ok {
			want, werr := p.audio(vec.data)
			got, err := d.parse(d.f, vec.data)
			if !reflect.DeepEqual(got, want) || (err == nil) != (werr == nil) {
				t.Errorf("%s: by FourCC %v, %v; directly %v, %v", vec.name, got, err, want, werr)
			}
			n++
		}
	}
	if n < 30 {
		t.Fatalf("only %d vectors went through the FourCC entry points", n)
	}
	for _, err := range []error{
		func() error { _, err := ParseVideoConfig(flv.FourCCOpus, []byte{1}); return err }(),
		func() error { _, err := ParseVideoKeyframe(flv.FourCCAVC, []byte{1}); return err }(),
		func() error { _, err := ParseAudioConfig(flv.FourCCMP3, []byte{1}); return err }(),
		func() error { _, err := ParseAudioFrame(flv.FourCC(0x61626364), []byte{1}); return err }(),
	} {
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("err = %v, want ErrUnsupported", err)
		}
	}
}
