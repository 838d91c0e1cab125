package probe

import (
	"io"
	"os"
	"testing"

	"github.com/ertmp/rtmp/flv"
)

func probeFile(t *testing.T, name string) *Report {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := flv.NewReader(f)
	p := New(name)
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			return p.Report()
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Add(tag.Type, tag.Timestamp, tag.Data)
	}
}

// The expected figures are what ffprobe (FFmpeg 9) reports for these files:
// codec, size, and packets with data.
func TestProbeKnownFiles(t *testing.T) {
	type want struct {
		typ, codec string
		track      int
		w, h       int
		rate, ch   int
		packets    int
	}
	tests := map[string][]want{
		"../../testdata/ffmpeg/multitrack.flv": {
			{"video", "h264", 0, 320, 180, 0, 0, 50},
			{"video", "hevc", 1, 160, 90, 0, 0, 50},
			{"audio", "aac", 0, 0, 0, 48000, 1, 95},
			{"audio", "opus", 1, 0, 0, 48000, 1, 101},
		},
		"../../testdata/eflv/testsrc.flv": {
			{"video", "av1", 0, 980, 540, 0, 0, 300},
			{"audio", "opus", 0, 0, 0, 48000, 1, 501},
		},
		"../../testdata/ffmpeg/flv1_mp3.flv": {
			{"video", "flv1", 0, 320, 180, 0, 0, 50},
			{"audio", "mp3", 0, 0, 0, 44100, 1, 78},
		},
		"../../testdata/ffmpeg/ac3.flv": {{"audio", "ac3", 0, 0, 0, 48000, 6, 63}},
	}
	for file, wants := range tests {
		r := probeFile(t, file)
		if len(r.Errors) > 0 {
			t.Errorf("%s: errors %v", file, r.Errors)
		}
		if len(r.Streams) != len(wants) {
			t.Fatalf("%s: %d streams, want %d", file, len(r.Streams), len(wants))
		}
		for _, w := range wants {
			var s *Stream
			for _, c := range r.Streams {
				if c.Type == w.typ && c.TrackID == w.track {
					s = c
				}
			}
			if s == nil {
				t.Errorf("%s: no %s track %d", file, w.typ, w.track)
				continue
			}
			got := want{s.Type, s.Codec, s.TrackID, s.Width, s.Height, s.SampleRate, s.Channels, s.Packets}
			if got != w {
				t.Errorf("%s: got %+v, want %+v", file, got, w)
			}
		}
	}
}

// A tag that does not parse is reported and the probe goes on.
func TestProbeReportsBadTags(t *testing.T) {
	p := New("x")
	p.Add(flv.TagVideo, 0, []byte{0x17, 0x01})
	p.Add(flv.TagAudio, 0, []byte{0xAF})
	p.Add(flv.TagScript, 0, []byte{0x00})
	p.Add(flv.TagVideo, 40, []byte{0x17, 0x01, 0, 0, 0, 0xAA})
	r := p.Report()
	if len(r.Errors) != 3 {
		t.Fatalf("errors = %v, want 3", r.Errors)
	}
	if len(r.Streams) != 1 || r.Streams[0].Packets != 1 {
		t.Fatalf("streams = %+v", r.Streams)
	}
}
