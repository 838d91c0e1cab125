package live

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
)

var (
	ertmpOnce sync.Once
	ertmpPath string
	ertmpErr  error
)

// ertmpTool builds cmd/ertmp once for the tests that run it as a peer.
func ertmpTool(t *testing.T) interop.Tool {
	t.Helper()
	ertmpOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ertmp-bin")
		if err != nil {
			ertmpErr = err
			return
		}
		ertmpPath = filepath.Join(dir, "ertmp")
		out, err := exec.Command("go", "build", "-o", ertmpPath, "github.com/ertmp/rtmp/cmd/ertmp").CombinedOutput()
		if err != nil {
			ertmpErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if ertmpErr != nil {
		t.Fatal(ertmpErr)
	}
	return interop.Program("ertmp", ertmpPath)
}

// playFirstErtmp starts `ertmp play` on a stream not yet published, so it
// gets the stream from its start; the hub holds it until the publish.
func playFirstErtmp(t *testing.T, sh *serverHub, name, out string) *interop.Process {
	t.Helper()
	pl := interop.Start(t, ertmpTool(t), "play", "rtmp://"+sh.addr+"/live/"+name, "-o", out)
	sh.waitStream(t, name, func(StreamInfo) bool { return true }) // awaited by the player
	return pl
}

// The Enhanced RTMP samples (AV1, Opus, HDR metadata) relay byte-exact from
// `ertmp publish` through the hub to `ertmp play`.
func TestInteropEFLVRelayByteExact(t *testing.T) {
	ertmp := ertmpTool(t)
	files, _ := filepath.Glob(filepath.Join(interop.ModuleRoot(t), "testdata/eflv/*.flv"))
	if len(files) != 3 {
		t.Fatalf("%d sample files", len(files))
	}
	for _, src := range files {
		t.Run(filepath.Base(src), func(t *testing.T) {
			sh := startHub(t, Config{})
			name := strings.TrimSuffix(filepath.Base(src), ".flv")
			out := filepath.Join(t.TempDir(), "played.flv")
			pl := playFirstErtmp(t, sh, name, out)
			interop.Run(t, time.Minute, ertmp, "publish", src, "rtmp://"+sh.addr+"/live/"+name)
			if err := pl.Wait(20 * time.Second); err != nil {
				t.Fatalf("ertmp play: %v\n%s", err, pl.Output)
			}
			interop.SameMediaTags(t, src, out)
		})
	}
}

// A multitrack publish from FFmpeg 9 reaches a multitrack-capable player
// (`ertmp play`, which advertises multitrack and every FourCC) whole: every
// tag as FFmpeg 9 sends it (its own remux of the file is the reference).
func TestInteropMultitrackWhole(t *testing.T) {
	ff9 := interop.FFmpeg9(t, "ffmpeg")
	src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/multitrack.flv")
	ref := filepath.Join(t.TempDir(), "ref.flv")
	interop.Run(t, time.Minute, ff9, strings.Fields("-hide_banner -loglevel error -i "+src+" -map 0 -c copy -f flv "+ref)...)
	sh := startHub(t, Config{})
	out := filepath.Join(t.TempDir(), "played.flv")
	pl := playFirstErtmp(t, sh, "multi", out)
	interop.Run(t, time.Minute, ff9, strings.Fields("-hide_banner -loglevel error -i "+src+" -map 0 -c copy -rtmp_enhanced_codecs hvc1,avc1,Opus,mp4a -f flv rtmp://"+sh.addr+"/live/multi")...)
	if err := pl.Wait(20 * time.Second); err != nil {
		t.Fatalf("ertmp play: %v\n%s", err, pl.Output)
	}
	interop.SameMediaTags(t, ref, out)
}

// enhancedCopy rewrites an H.264/AAC FLV file's media tags as Enhanced RTMP
// avc1 and mp4a tags.
func enhancedCopy(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	r := flv.NewReader(bytes.NewReader(b))
	h, _ := r.ReadHeader()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, _ := flv.NewWriter(f, h)
	defer w.Flush()
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tag.Type {
		case flv.TagVideo:
			var v flv.VideoTag
			v.Unmarshal(tag.Data)
			pt := map[flv.AVCPacketType]flv.VideoPacketType{flv.AVCSequenceHeader: flv.VideoSequenceStart, flv.AVCNALU: flv.VideoCodedFrames, flv.AVCEndOfSequence: flv.VideoSequenceEnd}[v.AVCPacketType]
			e := flv.VideoTag{Enhanced: true, FrameType: v.FrameType, PacketType: pt, FourCC: flv.FourCCAVC, CompositionTime: v.CompositionTime, Data: v.Data}
			tag.Data, _ = e.Append(nil)
		case flv.TagAudio:
			var a flv.AudioTag
			a.Unmarshal(tag.Data)
			pt := flv.AudioCodedFrames
			if a.AACPacketType == flv.AACSequenceHeader {
				pt = flv.AudioSequenceStart
			}
			e := flv.AudioTag{SoundFormat: flv.SoundExHeader, PacketType: pt, FourCC: flv.FourCCAAC, Data: a.Data}
			tag.Data, _ = e.Append(nil)
		}
		w.WriteTag(tag)
	}
}

// A publisher sending Enhanced RTMP avc1 and mp4a reaches a legacy player
// (FFmpeg 5.1, which declares no Enhanced RTMP) as legacy AVC and AAC: the
// packets it saves equal the original legacy file's.
func TestInteropEnhancedToLegacyPlayer(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/h264_aac.flv")
	enh := filepath.Join(t.TempDir(), "enhanced.flv")
	enhancedCopy(t, src, enh)
	sh := startHub(t, Config{})
	out := filepath.Join(t.TempDir(), "legacy.flv")
	pl := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i rtmp://"+sh.addr+"/live/enh -map 0:v -map 0:a -c copy -f flv "+out)...)
	sh.waitStream(t, "enh", func(StreamInfo) bool { return true })
	interop.Run(t, time.Minute, ertmpTool(t), "publish", enh, "rtmp://"+sh.addr+"/live/enh")
	if err := pl.Wait(30 * time.Second); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, pl.Output)
	}
	want := interop.FrameMD5(t, ffmpeg, src)
	got := interop.FrameMD5(t, ffmpeg, out)
	if len(want) == 0 || strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("the legacy player's %d packets differ from the source's %d", len(got), len(want))
	}
}

// GStreamer's rtmp2src, an independent player, plays from the hub: the
// audio and video packets it saves are the source's, in order. It leaves
// out the stream's final audio frame (it ends at the unpublish without
// saving it; FFmpeg and ertmp play players get it, see the other tests).
func TestInteropGStreamerPlayer(t *testing.T) {
	gst := interop.Path(t, "gst-launch-1.0")
	ffmpeg := interop.FFmpeg(t)
	src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/h264_aac.flv")
	sh := startHub(t, Config{})
	out := filepath.Join(t.TempDir(), "gst.flv")
	pl := interop.Start(t, gst, "-q", "-e", "rtmp2src", "location=rtmp://"+sh.addr+"/live/gst", "!", "filesink", "location="+out)
	sh.waitStream(t, "gst", func(StreamInfo) bool { return true }) // awaited by the player
	interop.Run(t, time.Minute, ertmpTool(t), "publish", src, "rtmp://"+sh.addr+"/live/gst")
	// rtmp2src keeps waiting after the unpublish; -e turns Ctrl-C into a
	// clean end of stream.
	time.Sleep(time.Second)
	pl.Interrupt()
	if err := pl.Wait(10 * time.Second); err != nil {
		t.Logf("gst-launch: %v", err)
	}
	hashes := func(file string) []string {
		out := interop.Run(t, time.Minute, ffmpeg, "-hide_banner", "-loglevel", "error", "-i", file, "-map", "0:v", "-map", "0:a", "-c", "copy", "-f", "framemd5", "-")
		var lines []string
		for _, l := range strings.Split(string(out), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		return interop.WithData(lines)
	}
	// Per stream, size and hash in order (the files' timestamp bases
	// differ: FFmpeg derives B-frame DTS from each file's start).
	perStream := func(lines []string) map[string][]string {
		m := map[string][]string{}
		for _, l := range lines {
			f := strings.Split(l, ",")
			s := strings.TrimSpace(f[0])
			m[s] = append(m[s], strings.TrimSpace(f[4])+" "+strings.TrimSpace(f[5]))
		}
		return m
	}
	want, got := perStream(hashes(src)), perStream(hashes(out))
	if len(want) != 2 {
		t.Fatalf("source streams %d", len(want))
	}
	for s, w := range want {
		g := got[s]
		n := 0
		for n < len(w) && n < len(g) && w[n] == g[n] {
			n++
		}
		if n != len(g) || len(g) < len(w)-1 {
			t.Errorf("stream %s: rtmp2src saved %d packets, the source has %d; the first %d agree", s, len(g), len(w), n)
		}
	}
}
