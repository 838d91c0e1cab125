package codecinfo

import (
	"errors"
	"io"
	"strings"
	"testing"
)

var videoParsers = []struct {
	prefix string // testdata vectors that seed this parser
	parse  func([]byte) (Video, error)
}{
	{"avc_", ParseAVCConfig},
	{"avcsps_", ParseAVCSPS},
	{"hevc_", ParseHEVCConfig},
	{"hevcsps_", ParseHEVCSPS},
	{"av1_", ParseAV1Config},
	{"av1seq_", ParseAV1SequenceHeader},
	{"vp9_", func(b []byte) (Video, error) { return ParseVPConfig(b, "vp9") }},
	{"vp8_", func(b []byte) (Video, error) { return ParseVPConfig(b, "vp8") }},
	{"vp9frame_", ParseVP9Keyframe},
	{"vp8frame", ParseVP8Keyframe},
	{"vvc_", ParseVVCConfig},
}

var audioParsers = []struct {
	prefix string
	parse  func([]byte) (Audio, error)
}{
	{"aac_", ParseAACConfig},
	{"opus_", ParseOpusHead},
	{"flac_", ParseFLACConfig},
	{"ac3_", ParseAC3Frame},
	{"eac3_", ParseEAC3Frame},
	{"mp3_", ParseMP3Frame},
	{"mp2_", ParseMP3Frame},
}

// checkErr fails unless err is nil or wraps one of the package's errors.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrInvalid) ||
		errors.Is(err, ErrUnsupported) || errors.Is(err, ErrNotKeyframe) {
		return
	}
	t.Fatalf("error wraps nothing callers can test for: %v", err)
}

func FuzzVideo(f *testing.F) {
	for _, v := range loadVectors(f) {
		for i, p := range videoParsers {
			if strings.HasPrefix(v.name, p.prefix) {
				f.Add(uint8(i), v.data)
			}
		}
	}
	f.Add(uint8(10), vvcRecord())
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		p := videoParsers[int(which)%len(videoParsers)]
		v, err := p.parse(b)
		checkErr(t, err)
		if err != nil {
			if v != (Video{}) {
				t.Fatalf("error %v with a result %+v", err, v)
			}
			return
		}
		if v.Codec == "" || v.Width < 0 || v.Height < 0 || v.Width > maxDimension || v.Height > maxDimension {
			t.Fatalf("implausible result %+v", v)
		}
		if v.BitDepth < 0 || v.BitDepth > 16 {
			t.Fatalf("bit depth %d", v.BitDepth)
		}
	})
}

func FuzzAudio(f *testing.F) {
	for _, v := range loadVectors(f) {
		for i, p := range audioParsers {
			if strings.HasPrefix(v.name, p.prefix) {
				f.Add(uint8(i), v.data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		p := audioParsers[int(which)%len(audioParsers)]
		a, err := p.parse(b)
		checkErr(t, err)
		if err != nil {
			if a != (Audio{}) {
				t.Fatalf("error %v with a result %+v", err, a)
			}
			return
		}
		if a.Codec == "" || a.SampleRate <= 0 || a.SampleRate >= 1<<24 || a.Channels < 0 || a.Channels > 255 {
			t.Fatalf("implausible result %+v", a)
		}
	})
}
