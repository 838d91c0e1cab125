package fmp4_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/fmp4"
	"github.com/ertmp/rtmp/internal/interop"
)

// A golden case: FFmpeg makes an FLV file now; we turn it into fMP4; FFmpeg
// and ffprobe read both, and must see the same streams and the same packets.
type goldenCase struct {
	name  string
	tool  func(t testing.TB, prog string) interop.Tool
	args  string // FFmpeg input and codec options, before "-t N out.flv"
	codec []string
	// srcFilter, when set, is a bitstream filter FFmpeg applies to the
	// source's packets before hashing them: what ISOBMFF stores differs from
	// FLV by design there (AV1 drops temporal delimiters).
	srcFilter string
}

func ffmpeg51(t testing.TB, prog string) interop.Tool { return interop.Path(t, prog) }

const (
	lavfiV = "-f lavfi -i testsrc2=size=320x180:rate=25"
	lavfiA = "-f lavfi -i sine=frequency=440:sample_rate=48000"
)

var goldenCases = []goldenCase{
	{name: "h264_aac", tool: ffmpeg51, args: lavfiV + " -f lavfi -i sine=frequency=440:sample_rate=44100 -c:v libx264 -preset veryfast -g 25 -bf 2 -pix_fmt yuv420p -c:a aac -b:a 64k", codec: []string{"h264", "aac"}},
	{name: "mp3", tool: ffmpeg51, args: "-f lavfi -i sine=sample_rate=44100 -c:a libmp3lame", codec: []string{"mp3"}},
	{name: "mp3_22050_mono", tool: ffmpeg51, args: "-f lavfi -i sine=sample_rate=22050 -ac 1 -c:a libmp3lame", codec: []string{"mp3"}},
	{name: "hevc", tool: interop.FFmpeg7, args: lavfiV + " -c:v libx265 -g 25 -x265-params log-level=error", codec: []string{"hevc"}},
	{name: "av1", tool: interop.FFmpeg7, args: lavfiV + " -c:v libsvtav1 -g 25", codec: []string{"av1"}, srcFilter: "filter_units=remove_types=2"},
	{name: "vp9", tool: interop.FFmpeg7, args: lavfiV + " -c:v libvpx-vp9 -g 25 -deadline realtime", codec: []string{"vp9"}},
	{name: "opus", tool: interop.FFmpeg9, args: lavfiA + " -c:a libopus", codec: []string{"opus"}},
	{name: "opus_51", tool: interop.FFmpeg9, args: lavfiA + " -ac 6 -c:a libopus", codec: []string{"opus"}},
	{name: "flac", tool: interop.FFmpeg9, args: lavfiA + " -c:a flac", codec: []string{"flac"}},
	{name: "flac_96k_6ch_s24", tool: interop.FFmpeg9, args: "-f lavfi -i sine=sample_rate=96000 -ac 6 -sample_fmt s32 -c:a flac", codec: []string{"flac"}},
	{name: "ac3", tool: interop.FFmpeg9, args: lavfiA + " -ac 6 -c:a ac3", codec: []string{"ac3"}},
	{name: "eac3", tool: interop.FFmpeg9, args: lavfiA + " -c:a eac3", codec: []string{"eac3"}},
	{name: "multitrack", tool: interop.FFmpeg9, args: lavfiV + " " + lavfiA + " -f lavfi -i sine=frequency=880:sample_rate=48000 -map 0:v -map 0:v -map 1:a -map 2:a -c:v:0 libx264 -c:v:1 libx265 -x265-params log-level=error -s:v:1 160x90 -c:a:0 aac -c:a:1 libopus -g 25 -pix_fmt yuv420p", codec: []string{"h264", "hevc", "aac", "opus"}},
}

// TestGoldenFFmpeg checks every codec against FFmpeg's reading of the
// output, in both layouts: one track per fragment (CMAF) and all tracks in
// one fragment. FMP4_KEEP=DIR keeps the FLV and MP4 files in DIR.
func TestGoldenFFmpeg(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("FMP4_KEEP"); d != "" {
		dir = d
	}
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			ffmpeg, ffprobe := c.tool(t, "ffmpeg"), c.tool(t, "ffprobe")
			src := filepath.Join(dir, c.name+".flv")
			args := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, strings.Fields(c.args)...)
			interop.Run(t, 2*time.Minute, ffmpeg, append(args, "-t", "3", src)...)
			flvBytes, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			want := probeStreams(t, ffprobe, src)
			wantPackets := frameMD5(t, ffmpeg, src, c.srcFilter)
			for _, multi := range []bool{false, true} {
				layout := "cmaf"
				if multi {
					layout = "multiplexed"
				}
				mp4, stats := remuxFLV(t, flvBytes, multi)
				out := filepath.Join(dir, c.name+"-"+layout+".mp4")
				if err := os.WriteFile(out, mp4, 0o644); err != nil {
					t.Fatal(err)
				}
				got := probeStreams(t, ffprobe, out)
				checkStreams(t, layout, c.codec, want, got)
				checkFragments(t, layout, mp4, stats)
				gotPackets := frameMD5(t, ffmpeg, out, "")
				checkPackets(t, layout, wantPackets, gotPackets)
				t.Logf("%s: %d tracks, %d fragments, %d bytes; ffprobe: %s; %d packets match the FLV's", layout, stats.tracks, stats.fragments, len(mp4), got, countPackets(gotPackets))
				if multi {
					continue
				}
				// FFmpeg 5.1 reads every one of these codecs in MP4 too.
				if c.tool(t, "ffmpeg").Name != "ffmpeg" {
					old := frameMD5(t, interop.FFmpeg(t), out, "")
					checkPackets(t, layout+" read by FFmpeg 5.1", wantPackets, old)
				}
			}
		})
	}
}

type remuxStats struct {
	tracks, fragments int
	// samples holds what went into each track, by track ID.
	samples map[uint32][]srcSample
}

// srcSample is a sample as the FLV gave it.
type srcSample struct {
	fmp4.Sample
	ended bool // EndAt gave its end: it was the last of its fragment
}

// remuxFLV turns an FLV file into init + fragments. Video fragments are cut
// before each key frame, with the end time of the last sample given;
// audio ones every 8 frames (in the CMAF layout), the end time given at
// every other cut so that the codec's frame duration fills the rest.
// multi puts all tracks in one fragment, cut at video key frames (or every
// 8 audio frames with no video).
func remuxFLV(t testing.TB, b []byte, multi bool) ([]byte, remuxStats) {
	t.Helper()
	type state struct {
		config []byte
		track  *fmp4.Track
		cuts   int
	}
	type key struct {
		video bool
		id    uint8
	}
	states := map[key]*state{}
	var tracks []*fmp4.Track
	var frags []byte
	seq := uint32(0)
	stats := remuxStats{samples: map[uint32][]srcSample{}}
	write := func(ts ...*fmp4.Track) {
		t.Helper()
		seq++
		var err error
		if frags, err = fmp4.AppendFragment(frags, seq, ts...); err != nil {
			t.Fatalf("fragment %d: %v", seq, err)
		}
		stats.fragments++
	}
	hasVideo := false
	add := func(k key, tr flv.Track, s fmp4.Sample) {
		t.Helper()
		st := states[k]
		if st == nil {
			st = &state{}
			states[k] = st
		}
		if st.track == nil {
			tk, err := fmp4.NewTrack(uint32(len(tracks)+1), tr.FourCC, st.config, s.Data)
			if err != nil {
				t.Fatalf("track %+v: %v", k, err)
			}
			st.track = tk
			tracks = append(tracks, tk)
		}
		tk := st.track
		n, _ := tk.Pending()
		src := stats.samples[tk.ID]
		end := func() {
			tk.EndAt(s.Time)
			src[len(src)-1].ended = true
		}
		switch {
		case multi && k.video && s.Key && n > 0 && tk == tracks[0]:
			end()
			write(tracks...)
		case multi && !hasVideo && n >= 8:
			write(tracks...)
		case multi:
		case k.video && s.Key && n > 0:
			end()
			write(tk)
		case !k.video && n >= 8:
			if st.cuts%2 == 0 {
				end()
			}
			st.cuts++
			write(tk)
		}
		if err := tk.Add(s); err != nil {
			t.Fatal(err)
		}
		stats.samples[tk.ID] = append(src, srcSample{Sample: s})
	}
	r := flv.NewReader(bytes.NewReader(b))
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ms := int64(tag.Timestamp)
		tag.Data = bytes.Clone(tag.Data) // valid until the next ReadTag; tracks keep samples by reference
		switch tag.Type {
		case flv.TagVideo:
			var v flv.VideoTag
			if err := v.Unmarshal(tag.Data); err != nil {
				t.Fatal(err)
			}
			hasVideo = true
			it := v.Tracks()
			for it.Next() {
				tr := it.Track()
				k := key{true, tr.ID}
				if v.IsSequenceHeader() {
					// FFmpeg repeats some sequence headers at the end of a
					// file (FLAC with its MD5); the first one made the track.
					if states[k] == nil {
						states[k] = &state{config: bytes.Clone(tr.Data)}
					}
					continue
				}
				if s, ok := fmp4.VideoSample(&v, tr, ms); ok {
					add(k, tr, s)
				}
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
		case flv.TagAudio:
			var a flv.AudioTag
			if err := a.Unmarshal(tag.Data); err != nil {
				t.Fatal(err)
			}
			it := a.Tracks()
			for it.Next() {
				tr := it.Track()
				k := key{false, tr.ID}
				if a.IsSequenceHeader() {
					// FFmpeg repeats some sequence headers at the end of a
					// file (FLAC with its MD5); the first one made the track.
					if states[k] == nil {
						states[k] = &state{config: bytes.Clone(tr.Data)}
					}
					continue
				}
				if s, ok := fmp4.AudioSample(&a, tr, ms); ok {
					add(k, tr, s)
				}
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if multi {
		write(tracks...)
	} else {
		for _, tk := range tracks {
			if n, _ := tk.Pending(); n > 0 {
				write(tk)
			}
		}
	}
	init, err := fmp4.AppendInit(nil, tracks...)
	if err != nil {
		t.Fatal(err)
	}
	stats.tracks = len(tracks)
	return append(init, frags...), stats
}

// stream is what ffprobe says of a stream, in the fields fMP4 must keep.
type stream struct {
	Codec      string `json:"codec_name"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	SampleRate string `json:"sample_rate"`
	Channels   int    `json:"channels"`
}

func (s stream) String() string {
	if s.Width != 0 {
		return fmt.Sprintf("%s %dx%d", s.Codec, s.Width, s.Height)
	}
	return fmt.Sprintf("%s %s Hz %d ch", s.Codec, s.SampleRate, s.Channels)
}

type streams []stream

func (ss streams) String() string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, ", ")
}

func probeStreams(t testing.TB, ffprobe interop.Tool, file string) streams {
	t.Helper()
	out := interop.Run(t, time.Minute, ffprobe, "-v", "error", "-show_streams", "-of", "json", file)
	var v struct{ Streams streams }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	return v.Streams
}

// checkStreams wants the same streams, in any order, as ffprobe reads from
// the FLV, and the codecs the case expects.
func checkStreams(t testing.TB, layout string, codecs []string, want, got streams) {
	t.Helper()
	if len(got) != len(want) || len(got) != len(codecs) {
		t.Fatalf("%s: ffprobe reads %d streams (%v) from the MP4, %d (%v) from the FLV, %d expected", layout, len(got), got, len(want), want, len(codecs))
	}
	left := append(streams(nil), want...)
	for _, g := range got {
		i := 0
		for i < len(left) && left[i] != g {
			i++
		}
		if i == len(left) {
			t.Fatalf("%s: MP4 stream %v is not among the FLV's: %v", layout, g, want)
		}
		left = append(left[:i], left[i+1:]...)
	}
	for _, c := range codecs {
		found := false
		for _, g := range got {
			found = found || g.Codec == c
		}
		if !found {
			t.Fatalf("%s: no %s stream in %v", layout, c, got)
		}
	}
}

// packet is one framemd5 line, its times in milliseconds.
type packet struct {
	dts, pts float64
	size     int
	hash     string
}

// frameMD5 returns the packets of each stream of file as FFmpeg reads them,
// keyed by stream index. Times are kept (-copyts) and converted from the
// stream's time base to milliseconds. Empty packets are left out.
func frameMD5(t testing.TB, ffmpeg interop.Tool, file, bsf string) map[int][]packet {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "error", "-copyts", "-i", file, "-map", "0", "-c", "copy"}
	if bsf != "" {
		args = append(args, "-bsf:v", bsf)
	}
	out := interop.Run(t, 2*time.Minute, ffmpeg, append(args, "-f", "framemd5", "-")...)
	tb := map[int]float64{}
	ps := map[int][]packet{}
	for _, l := range interop.Lines(out) {
		if rest, ok := strings.CutPrefix(l, "#tb "); ok {
			var i, num, den int
			if _, err := fmt.Sscanf(rest, "%d: %d/%d", &i, &num, &den); err != nil {
				t.Fatalf("framemd5 line %q: %v", l, err)
			}
			tb[i] = 1000 * float64(num) / float64(den)
			continue
		}
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, ",") // side data may follow the hash
		if len(f) < 6 {
			t.Fatalf("framemd5 line %q", l)
		}
		var n [5]int64
		for i := range n {
			v, err := strconv.ParseInt(strings.TrimSpace(f[i]), 10, 64)
			if err != nil {
				t.Fatalf("framemd5 line %q: %v", l, err)
			}
			n[i] = v
		}
		if n[4] == 0 {
			continue
		}
		s := int(n[0])
		ps[s] = append(ps[s], packet{
			dts: float64(n[1]) * tb[s], pts: float64(n[2]) * tb[s],
			size: int(n[4]), hash: strings.TrimSpace(f[5]),
		})
	}
	return ps
}

func countPackets(m map[int][]packet) int {
	n := 0
	for _, ps := range m {
		n += len(ps)
	}
	return n
}

// checkPackets wants each source stream's packets, same bytes in the same
// order, in one stream of the output, with the same decode and presentation
// times to the millisecond (the MP4 times are rounded to its timescale).
// FFmpeg recomputes audio packet durations from the codec, so durations are
// checked on the boxes (checkFragments).
func checkPackets(t testing.TB, layout string, want, got map[int][]packet) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d streams with packets, %d in the source", layout, len(got), len(want))
	}
	used := map[int]bool{}
	for ws, wp := range want {
		match := -1
		for gs, gp := range got {
			if !used[gs] && len(gp) > 0 && len(wp) > 0 && gp[0].hash == wp[0].hash {
				match = gs
				break
			}
		}
		if match < 0 {
			t.Fatalf("%s: no stream starts with source stream %d's first packet", layout, ws)
		}
		used[match] = true
		gp := got[match]
		if len(gp) != len(wp) {
			t.Fatalf("%s: stream %d has %d packets, the source's %d has %d", layout, match, len(gp), ws, len(wp))
		}
		for i := range wp {
			w, g := wp[i], gp[i]
			if w.hash != g.hash || w.size != g.size {
				t.Fatalf("%s: stream %d packet %d: %d bytes %s, source %d bytes %s", layout, match, i, g.size, g.hash, w.size, w.hash)
			}
			if math.Abs(w.dts-g.dts) > 1 || math.Abs(w.pts-g.pts) > 1 {
				t.Fatalf("%s: stream %d packet %d: dts %.3f pts %.3f ms, source %.3f %.3f", layout, match, i, g.dts, g.pts, w.dts, w.pts)
			}
		}
	}
}

// The sample entries' configuration boxes are the bytes FFmpeg's own MP4
// muxer writes for the same stream, where both follow the same spec text.
func TestConfigBoxesMatchFFmpeg(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		tool func(t testing.TB, prog string) interop.Tool
		args string
		box  string // the configuration box inside the sample entry
	}{
		{"avcC", ffmpeg51, lavfiV + " -c:v libx264 -pix_fmt yuv420p", "avcC"},
		{"esds", ffmpeg51, lavfiA + " -c:a aac", "esds"},
		{"esds_mp3", ffmpeg51, "-f lavfi -i sine=sample_rate=44100 -c:a libmp3lame", "esds"},
		{"esds_mp3_22050", ffmpeg51, "-f lavfi -i sine=sample_rate=22050 -c:a libmp3lame", "esds"},
		{"dOps", interop.FFmpeg9, lavfiA + " -c:a libopus", "dOps"},
		{"dOps_51", interop.FFmpeg9, lavfiA + " -ac 6 -c:a libopus", "dOps"},
		{"dfLa", interop.FFmpeg9, lavfiA + " -c:a flac", "dfLa"},
		{"dac3", interop.FFmpeg9, lavfiA + " -ac 6 -c:a ac3", "dac3"},
		{"dec3", interop.FFmpeg9, lavfiA + " -c:a eac3", "dec3"},
		{"av1C", interop.FFmpeg7, lavfiV + " -c:v libsvtav1", "av1C"},
		{"vpcC", interop.FFmpeg7, lavfiV + " -c:v libvpx-vp9 -deadline realtime", "vpcC"},
		{"hvcC", interop.FFmpeg7, lavfiV + " -c:v libx265 -x265-params log-level=error", "hvcC"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ffmpeg := c.tool(t, "ffmpeg")
			src := filepath.Join(dir, c.name+".flv")
			ref := filepath.Join(dir, c.name+".mp4")
			args := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, strings.Fields(c.args)...)
			interop.Run(t, 2*time.Minute, ffmpeg, append(args, "-t", "1", src)...)
			interop.Run(t, time.Minute, ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", src, "-c", "copy", ref)
			flvBytes, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			refBytes, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			ours, _ := remuxFLV(t, flvBytes, false)
			a, b := configBox(t, ours, c.box), configBox(t, refBytes, c.box)
			switch {
			case bytes.Equal(a, b):
				t.Logf("%s: %d bytes, the same as FFmpeg's: % .32x", c.box, len(a), a)
			case c.box == "esds":
				// FFmpeg writes 4-byte descriptor lengths, the track ID as
				// ES_ID and bit rates: the same stream description.
				oa, da := esdsConfig(t, a)
				ob, db := esdsConfig(t, b)
				if oa != ob || !bytes.Equal(da, db) {
					t.Errorf("esds: objectTypeIndication %#x, decoder specific info % x; FFmpeg's %#x, % x", oa, da, ob, db)
				}
				t.Logf("esds: objectTypeIndication %#x and decoder specific info % x as FFmpeg's", oa, da)
			default:
				t.Errorf("%s differs from FFmpeg's:\n ours   % x\n ffmpeg % x", c.box, a, b)
			}
		})
	}
}

// esdsConfig reads the objectTypeIndication and the decoder specific info
// of an esds body (ISO/IEC 14496-1 §7.2.6.5, §7.2.6.6, §7.2.6.7).
func esdsConfig(t testing.TB, b []byte) (oti byte, dsi []byte) {
	t.Helper()
	b = b[4:] // version, flags
	var walk func(b []byte)
	walk = func(b []byte) {
		for len(b) >= 2 {
			tag := b[0]
			n, i := 0, 1
			for ; i < len(b) && i <= 4; i++ {
				n = n<<7 | int(b[i]&0x7f)
				if b[i]&0x80 == 0 {
					break
				}
			}
			i++
			if i+n > len(b) {
				t.Fatalf("esds descriptor %d of %d bytes, %d left", tag, n, len(b)-i)
			}
			body := b[i : i+n]
			switch tag {
			case 3: // ES_Descriptor: ES_ID, flags (none set here)
				walk(body[3:])
			case 4: // DecoderConfigDescriptor
				oti = body[0]
				walk(body[13:])
			case 5:
				dsi = body
			}
			b = b[i+n:]
		}
	}
	walk(b)
	return oti, dsi
}

// configBox returns the body of the first box named name inside the first
// sample entry of an MP4 file.
func configBox(t testing.TB, file []byte, name string) []byte {
	t.Helper()
	boxes, err := fmp4.ParseBoxes(file)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal(err)
	}
	for _, b := range boxes {
		if b.Type.String() != "moov" {
			continue
		}
		for _, trak := range b.Children {
			stsd := trak.Find("mdia/minf/stbl/stsd")
			if stsd == nil || len(stsd.Children) == 0 {
				continue
			}
			typ, _ := fmp4.MakeBoxType(name)
			if c := stsd.Children[0].Child(typ); c != nil {
				return c.Body
			}
		}
	}
	t.Fatalf("no %s box", name)
	return nil
}

// checkFragments reads the boxes back and wants every track to hold the
// samples the FLV gave, in order, byte for byte: decode times and
// composition offsets are the FLV's milliseconds in the track's timescale,
// rounded; key frames are sync samples and the others not; each sample
// lasts until the next one, exactly within a fragment and where EndAt gave
// the end, and within a millisecond where the codec's frame duration (or
// the previous sample's) stood in for it.
func checkFragments(t testing.TB, layout string, file []byte, stats remuxStats) {
	t.Helper()
	d := decodeFile(t, file)
	if d.fragments != stats.fragments {
		t.Fatalf("%s: %d fragments read back, %d written", layout, d.fragments, stats.fragments)
	}
	for id, src := range stats.samples {
		ts := int64(d.timescale[id])
		scale := func(ms int64) int64 {
			if ms < 0 {
				return -((-ms*ts + 500) / 1000)
			}
			return (ms*ts + 500) / 1000
		}
		got := d.track(id)
		if len(got) != len(src) {
			t.Fatalf("%s: track %d: %d samples read back, %d added", layout, id, len(got), len(src))
		}
		for i, g := range got {
			w := src[i]
			if !bytes.Equal(g.data, w.Data) {
				t.Fatalf("%s: track %d sample %d: %d bytes differ from the %d added", layout, id, i, len(g.data), len(w.Data))
			}
			if int64(g.dts) != scale(w.Time) {
				t.Fatalf("%s: track %d sample %d: dts %d, want %d ms = %d", layout, id, i, g.dts, w.Time, scale(w.Time))
			}
			if int64(g.cto) != scale(int64(w.CompositionTime)) {
				t.Fatalf("%s: track %d sample %d: composition offset %d, want %d ms", layout, id, i, g.cto, w.CompositionTime)
			}
			want := uint32(nonSyncFlags)
			if w.Key {
				want = syncFlags
			}
			if g.flags != want {
				t.Fatalf("%s: track %d sample %d: flags %#08x, want %#08x", layout, id, i, g.flags, want)
			}
			if i+1 == len(got) {
				continue
			}
			gap := int64(got[i+1].dts) - int64(g.dts+uint64(g.dur))
			exact := w.ended || got[i+1].fragment == g.fragment
			if exact && gap != 0 || gap > ts/1000+1 || gap < -(ts/1000+1) {
				t.Fatalf("%s: track %d sample %d (fragment %d, ended %v): dts %d + duration %d, next dts %d", layout, id, i, g.fragment, w.ended, g.dts, g.dur, got[i+1].dts)
			}
		}
		if stats.tracks > 0 && len(got) > 0 && got[0].flags == nonSyncFlags {
			t.Fatalf("%s: track %d starts with a non-sync sample", layout, id)
		}
	}
}
