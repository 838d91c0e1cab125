package hls

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
)

// A codec case: a test file FFmpeg made (testdata/ffmpeg), published over
// RTMP by the FFmpeg that wrote it and read back over HLS by the same.
type codecCase struct {
	file     string
	tool     func(t testing.TB, prog string) interop.Tool
	enhanced string // -rtmp_enhanced_codecs
	// srcFilter is applied to the source's video before hashing: ISOBMFF
	// stores AV1 without temporal delimiters.
	srcFilter string
	codecs    []string // the CODECS prefixes the master must name
}

func ffmpeg51(t testing.TB, prog string) interop.Tool { return interop.Path(t, prog) }

var codecCases = []codecCase{
	{file: "h264_aac.flv", tool: ffmpeg51, codecs: []string{"avc1.", "mp4a.40.2"}},
	{file: "hevc.flv", tool: interop.FFmpeg7, enhanced: "hvc1", codecs: []string{"hvc1.1."}},
	{file: "av1.flv", tool: interop.FFmpeg7, enhanced: "av01", srcFilter: "filter_units=remove_types=2", codecs: []string{"av01.0."}},
	{file: "vp9.flv", tool: interop.FFmpeg7, enhanced: "vp09", codecs: []string{"vp09.00."}},
	{file: "opus.flv", tool: interop.FFmpeg9, enhanced: "Opus", codecs: []string{"opus"}},
	{file: "flac.flv", tool: interop.FFmpeg9, enhanced: "fLaC", codecs: []string{"fLaC"}},
	{file: "ac3.flv", tool: interop.FFmpeg9, enhanced: "ac-3", codecs: []string{"ac-3"}},
	{file: "eac3.flv", tool: interop.FFmpeg9, enhanced: "ec-3", codecs: []string{"ec-3"}},
}

// Every codec FFmpeg 7 and 9 publish over Enhanced RTMP (and H.264/AAC
// from FFmpeg 5.1): FFmpeg publishes the test file in real time, FFmpeg
// reads the stream's HLS from its start to EXT-X-ENDLIST, and each
// stream's packets are the source's, byte for byte. Meanwhile the media
// playlists are polled and checked against the rules (checkMedia), and
// every segment starts with a sync sample.
func TestInteropCodecs(t *testing.T) {
	for _, c := range codecCases {
		name := strings.TrimSuffix(c.file, ".flv")
		t.Run(name, func(t *testing.T) {
			ff := c.tool(t, "ffmpeg")
			src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg", c.file)
			e := startEnv(t, Options{Segment: time.Second, Part: 300 * time.Millisecond}, live.Config{})
			pub := e.publishWhenWatched(t, ff, name, src, c.enhanced)
			master := e.master(t, name)
			if len(master.variants) == 0 {
				t.Fatal("no variant")
			}
			codecs := master.variants[0].attrs["CODECS"]
			for _, want := range c.codecs {
				if !strings.Contains(codecs, want) {
					t.Errorf("CODECS=%q lacks %q", codecs, want)
				}
			}
			out := filepath.Join(t.TempDir(), "hls.md5")
			reader := interop.Start(t, ff, strings.Fields("-hide_banner -loglevel error -live_start_index 0 -i "+e.base+"/live/"+name+"/index.m3u8 -map 0 -c copy -f framemd5 "+out)...)
			polls := e.pollUntil(t, name, reader, 60*time.Second)
			if err := pub.Wait(30 * time.Second); err != nil {
				t.Fatalf("publisher: %v\n%s", err, pub.Output)
			}
			got := hashFile(t, out)
			want := packets(t, ff, src, c.srcFilter)
			samePackets(t, want, got)
			t.Logf("%s: master CODECS=%s; %d playlist polls checked; %d packets equal", name, codecs, polls, count(got))
		})
	}
}

// publishWhenWatched starts a master playlist request for live/NAME (it
// starts the muxer, which waits for the publisher), then FFmpeg's publish
// of src in real time.
func (e *env) publishWhenWatched(t *testing.T, ff interop.Tool, name, src, enhanced string) *interop.Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	go e.tryGet(ctx, "/live/"+name+"/index.m3u8")
	e.waitSubscriber(t, live.Key{App: "live", Name: name})
	flags := ""
	if enhanced != "" {
		flags = "-rtmp_enhanced_codecs " + enhanced
	}
	return interop.Start(t, ff, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -map 0 -c copy "+flags+" -f flv rtmp://"+e.rtmp+"/live/"+name)...)
}

// master fetches and parses live/NAME's master playlist.
func (e *env) master(t *testing.T, name string) *playlist {
	t.Helper()
	code, b := e.get(t, "/live/"+name+"/index.m3u8")
	if code != 200 {
		t.Fatalf("master playlist: %d %s", code, b)
	}
	t.Logf("master playlist:\n%s", b)
	return parsePlaylist(t, b)
}

// pollUntil checks every media playlist of live/NAME, and the first bytes
// of each new segment, every 100 ms until the process ends (at most d);
// it returns the number of playlists checked.
func (e *env) pollUntil(t *testing.T, name string, p *interop.Process, d time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Wait(d) }()
	_, mb := e.get(t, "/live/"+name+"/index.m3u8")
	m := parsePlaylist(t, mb)
	var uris []string
	for _, v := range m.variants {
		uris = append(uris, v.uri)
	}
	for _, a := range m.media {
		uris = append(uris, a["URI"])
	}
	prev := map[string]*playlist{}
	seen := map[string]bool{}
	n := 0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("FFmpeg reading HLS: %v\n%s", err, p.Output)
			}
			return n
		case <-tick.C:
		}
		for _, u := range uris {
			code, b := e.get(t, "/live/"+name+"/"+u)
			if code != 200 {
				t.Fatalf("%s: %d %s", u, code, b)
			}
			pl := parsePlaylist(t, b)
			checkMedia(t, pl, prev[u], b)
			prev[u] = pl
			n++
			for _, s := range pl.segments {
				if seen[s.uri] {
					continue
				}
				seen[s.uri] = true
				code, sb := e.get(t, "/live/"+name+"/"+s.uri)
				if code != 200 {
					t.Fatalf("%s: %d", s.uri, code)
				}
				if ok, err := firstSampleSync(sb); err != nil || !ok {
					t.Fatalf("segment %s does not start with a sync sample (%v)", s.uri, err)
				}
			}
		}
	}
}

// pkt is a packet as framemd5 gives it, without its times.
type pkt struct{ size, hash string }

// packets returns a file's packets with data, video streams first, by
// stream.
func packets(t *testing.T, ff interop.Tool, file, bsf string) map[int][]pkt {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "error", "-i", file, "-map", "0:v?", "-map", "0:a?", "-c", "copy"}
	if bsf != "" {
		args = append(args, "-bsf:v", bsf)
	}
	out := interop.Run(t, 2*time.Minute, ff, append(args, "-f", "framemd5", "-")...)
	return parseMD5(t, interop.Lines(out))
}

func hashFile(t *testing.T, path string) map[int][]pkt {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseMD5(t, interop.Lines(b))
}

func parseMD5(t *testing.T, lines []string) map[int][]pkt {
	out := map[int][]pkt{}
	for _, l := range interop.WithData(lines) {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, ",")
		if len(f) < 6 {
			t.Fatalf("framemd5 line %q", l)
		}
		var s int
		fmt.Sscan(strings.TrimSpace(f[0]), &s)
		out[s] = append(out[s], pkt{strings.TrimSpace(f[4]), strings.TrimSpace(f[5])})
	}
	return out
}

func count(m map[int][]pkt) int {
	n := 0
	for _, ps := range m {
		n += len(ps)
	}
	return n
}

// samePackets wants each source stream's packets, all of them in order, as
// one stream of got (matched by the first packet), and no other stream.
func samePackets(t *testing.T, want, got map[int][]pkt) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d streams read over HLS, %d in the source", len(got), len(want))
	}
	used := map[int]bool{}
	for ws, wp := range want {
		match := -1
		for gs, gp := range got {
			if !used[gs] && len(gp) > 0 && len(wp) > 0 && gp[0] == wp[0] {
				match = gs
			}
		}
		if match < 0 {
			t.Fatalf("no stream read over HLS starts with source stream %d's first packet %v", ws, wp[0])
		}
		used[match] = true
		if gp := got[match]; !slices.Equal(gp, wp) {
			i := 0
			for i < len(gp) && i < len(wp) && gp[i] == wp[i] {
				i++
			}
			t.Fatalf("stream %d: %d packets over HLS, %d in the source; first difference at %d", ws, len(gp), len(wp), i)
		}
	}
}

// FFmpeg 9 publishes a multitrack stream (H.264 and HEVC video, AAC and
// Opus audio, Enhanced RTMP v2): the master playlist has two variants,
// each with its resolution and codecs, and two audio renditions in one
// group; FFmpeg 9 reads the master (every variant and rendition) and each
// variant's playlist alone, and gets the source's packets.
func TestInteropMultitrack(t *testing.T) {
	ff := interop.FFmpeg9(t, "ffmpeg")
	src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/multitrack.flv")
	e := startEnv(t, Options{Segment: time.Second, Part: 300 * time.Millisecond}, live.Config{})
	pub := e.publishWhenWatched(t, ff, "mt", src, "hvc1,avc1,Opus,mp4a")
	m := e.master(t, "mt")
	if len(m.variants) != 2 || len(m.media) != 2 {
		t.Fatalf("%d variants and %d renditions, want 2 and 2", len(m.variants), len(m.media))
	}
	wantV := []struct{ codec, res string }{{"avc1.", "320x180"}, {"hvc1.", "160x90"}}
	for i, v := range m.variants {
		a := v.attrs
		if !strings.HasPrefix(a["CODECS"], wantV[i].codec) || !strings.Contains(a["CODECS"], "mp4a.40.2") || !strings.Contains(a["CODECS"], "opus") ||
			a["RESOLUTION"] != wantV[i].res || a["AUDIO"] != "audio" || a["BANDWIDTH"] == "" {
			t.Errorf("variant %d: %v", i, a)
		}
	}
	for i, a := range m.media {
		if a["TYPE"] != "AUDIO" || a["GROUP-ID"] != "audio" || a["NAME"] == "" || a["URI"] == "" || (a["DEFAULT"] == "YES") != (i == 0) {
			t.Errorf("rendition %d: %v", i, a)
		}
	}
	dir := t.TempDir()
	all := filepath.Join(dir, "all.md5")
	reader := interop.Start(t, ff, strings.Fields("-hide_banner -loglevel error -live_start_index 0 -i "+e.base+"/live/mt/index.m3u8 -map 0 -c copy -f framemd5 "+all)...)
	polls := e.pollUntil(t, "mt", reader, 60*time.Second)
	if err := pub.Wait(30 * time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.Output)
	}
	want := packets(t, ff, src, "")
	if len(want) != 4 {
		t.Fatalf("the source has %d streams", len(want))
	}
	got := hashFile(t, all)
	samePackets(t, want, got)
	// Each variant's playlist alone, after the end: a player that picked
	// one rendition gets all of its packets.
	for _, u := range []string{m.variants[0].uri, m.variants[1].uri, m.media[0]["URI"], m.media[1]["URI"]} {
		out := filepath.Join(dir, strings.TrimSuffix(u, ".m3u8")+".md5")
		interop.Run(t, time.Minute, ff, strings.Fields("-hide_banner -loglevel error -i "+e.base+"/live/mt/"+u+" -map 0 -c copy -f framemd5 "+out)...)
		one := hashFile(t, out)
		if len(one) != 1 {
			t.Fatalf("%s: %d streams", u, len(one))
		}
		found := false
		for _, w := range want {
			if slices.Equal(w, one[0]) {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s: its %d packets are not one of the source's streams", u, len(one[0]))
		}
	}
	t.Logf("multitrack: 2 variants, 2 audio renditions; %d playlist polls checked; %d packets equal over the master, and each playlist alone", polls, count(got))
}
