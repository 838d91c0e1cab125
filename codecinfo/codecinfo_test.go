package codecinfo

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// vector is one file under testdata and what ffprobe said about the stream it
// was cut from (testdata/ffprobe.txt, written by testdata/gen.sh).
type vector struct {
	name  string
	data  []byte
	probe map[string]string
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "ffprobe.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "|")
		v := vector{name: fields[0], probe: map[string]string{}}
		for _, kv := range fields[1:] {
			k, val, _ := strings.Cut(kv, "=")
			v.probe[k] = val
		}
		v.data, err = os.ReadFile(filepath.Join("testdata", v.name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 40 {
		t.Fatalf("only %d vectors in ffprobe.txt", len(vs))
	}
	return vs
}

// parser picks the parser for a vector by its name's prefix. frame is true for
// inputs that are cut from a coded frame, where only the header is read and so
// a cut input may still parse.
type parser struct {
	prefix string
	frame  bool
	video  func([]byte) (Video, error)
	audio  func([]byte) (Audio, error)
}

var parsers = []parser{
	{prefix: "avcsps_", video: ParseAVCSPS},
	{prefix: "avc_", video: ParseAVCConfig},
	{prefix: "hevc_", video: ParseHEVCConfig},
	{prefix: "av1_", video: ParseAV1Config},
	{prefix: "vp9frame_", frame: true, video: ParseVP9Keyframe},
	{prefix: "vp9_", video: func(b []byte) (Video, error) { return ParseVPConfig(b, "vp9") }},
	{prefix: "vp8frame", frame: true, video: ParseVP8Keyframe},
	{prefix: "aac_", audio: ParseAACConfig},
	{prefix: "opus_", audio: ParseOpusHead},
	{prefix: "flac_", audio: ParseFLACConfig},
	{prefix: "ac3_", frame: true, audio: ParseAC3Frame},
	{prefix: "eac3_", frame: true, audio: ParseEAC3Frame},
	{prefix: "mp3_", frame: true, audio: ParseMP3Frame},
	{prefix: "mp2_", frame: true, audio: ParseMP3Frame},
}

func parserFor(t testing.TB, name string) parser {
	for _, p := range parsers {
		if strings.HasPrefix(name, p.prefix) {
			return p
		}
	}
	t.Fatalf("%s: no parser for this name", name)
	return parser{}
}

// pixFmts maps ffprobe's pix_fmt to bit depth and chroma format.
var pixFmts = map[string]struct {
	depth  int
	chroma string
}{
	"yuv420p":     {8, "4:2:0"},
	"yuvj420p":    {8, "4:2:0"},
	"yuv420p10le": {10, "4:2:0"},
	"yuv422p10le": {10, "4:2:2"},
	"yuv444p":     {8, "4:4:4"},
	"gbrp":        {8, "4:4:4"},
}

// chromaOverride lists vectors where ffprobe's pix_fmt is not the coded chroma
// format, and why.
var chromaOverride = map[string]string{
	// FFmpeg's H.264 decoder outputs chroma_format_idc 0 as yuvj420p with
	// grey chroma unless asked for gray; the SPS says 4:0:0.
	"avc_high_gray": "4:0:0",
}

func probeInt(t *testing.T, v vector, key string) int {
	t.Helper()
	n, err := strconv.Atoi(v.probe[key])
	if err != nil {
		t.Fatalf("ffprobe.txt: %s: %s=%q", v.name, key, v.probe[key])
	}
	return n
}

// TestFFprobeVectors checks every parser against what ffprobe reported for the
// stream each testdata vector was cut from.
func TestFFprobeVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			p := parserFor(t, v.name)
			wantProfile := v.probe["profile"]
			if wantProfile == "unknown" {
				wantProfile = ""
			}
			if p.video != nil {
				got, err := p.video(v.data)
				if err != nil {
					t.Fatal(err)
				}
				want := Video{
					Codec:   v.probe["codec_name"],
					Width:   probeInt(t, v, "width"),
					Height:  probeInt(t, v, "height"),
					Profile: wantProfile,
					Level:   probeInt(t, v, "level"),
				}
				pf, ok := pixFmts[v.probe["pix_fmt"]]
				if !ok {
					t.Fatalf("pix_fmt %q not in the table", v.probe["pix_fmt"])
				}
				want.BitDepth, want.ChromaFormat = pf.depth, pf.chroma
				if c, ok := chromaOverride[v.name]; ok {
					want.ChromaFormat = c
				}
				if strings.HasPrefix(v.name, "vp9_") { // vpcC carries no size
					want.Width, want.Height = 0, 0
				}
				if want.Level < 0 { // ffprobe: unknown
					want.Level = got.Level
				}
				want.Tier = got.Tier // ffprobe does not print the tier
				if got != want {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
				return
			}
			got, err := p.audio(v.data)
			if err != nil {
				t.Fatal(err)
			}
			want := Audio{
				Codec:      v.probe["codec_name"],
				SampleRate: probeInt(t, v, "sample_rate"),
				Channels:   probeInt(t, v, "channels"),
				Profile:    wantProfile,
			}
			if want.Codec == "flac" {
				want.BitDepth = probeInt(t, v, "bits_per_raw_sample")
			}
			switch want.Codec {
			case "ac3", "eac3", "mp3", "mp2": // the frame header gives the rate
				want.BitRate = probeInt(t, v, "bit_rate")
			}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestTruncated feeds every parser every proper prefix of every vector. A
// prefix must fail with io.ErrUnexpectedEOF, except where the structure has no
// length of its own: a frame parser reads only the header at the front, and an
// AudioSpecificConfig may end early. Those may succeed, but then with the
// result the whole vector gives.
func TestTruncated(t *testing.T) {
	for _, v := range loadVectors(t) {
		p := parserFor(t, v.name)
		var full any
		if p.video != nil {
			full, _ = p.video(v.data)
		} else {
			full, _ = p.audio(v.data)
		}
		lenient := p.frame || strings.HasPrefix(v.name, "aac_")
		// Two prefixes are complete records of their own: an avcC without the
		// High profile fields (x264's vectors have no SPS extensions, so those
		// are the last 4 bytes) and an av1C without configOBUs.
		boundary := -1
		switch {
		case strings.HasPrefix(v.name, "avc_") && v.probe["profile"] != "Main" && !strings.Contains(v.probe["profile"], "Baseline"):
			boundary = len(v.data) - 4
		case strings.HasPrefix(v.name, "av1_"):
			boundary = 4
		}
		for n := 0; n < len(v.data); n++ {
			if n == boundary {
				continue
			}
			cut := append([]byte(nil), v.data[:n]...) // no spare capacity to read into
			var got any
			var err error
			if p.video != nil {
				got, err = p.video(cut)
			} else {
				got, err = p.audio(cut)
			}
			switch {
			case err == nil && !lenient:
				t.Errorf("%s[:%d]: no error, got %+v", v.name, n, got)
			case err == nil && got != full:
				t.Errorf("%s[:%d]: got %+v, the whole vector gives %+v", v.name, n, got, full)
			case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
				t.Errorf("%s[:%d]: %v, want io.ErrUnexpectedEOF", v.name, n, err)
			}
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, v := range loadVectors(t) {
		p := parserFor(t, v.name)
		allocs := testing.AllocsPerRun(20, func() {
			if p.video != nil {
				p.video(v.data)
			} else {
				p.audio(v.data)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per parse", v.name, allocs)
		}
	}
}
