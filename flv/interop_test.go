package flv_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
)

// Files made now by FFmpeg 5.1, 7.1 and 9 decode tag by tag and encode back
// to the same bytes, and the whole file rewrites byte-exact.
func TestFreshFFmpegFilesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	v := "-f lavfi -i testsrc2=size=192x108:rate=25"
	a := "-f lavfi -i sine=sample_rate=48000"
	jobs := []struct {
		tool interop.Tool
		name string
		args string
	}{
		{interop.FFmpeg(t), "h264_aac.flv", v + " " + a + " -c:v libx264 -bf 2 -pix_fmt yuv420p -c:a aac"},
		{interop.FFmpeg(t), "mp3.flv", a + " -c:a libmp3lame -ar 44100"},
		{interop.FFmpeg7(t, "ffmpeg"), "hevc.flv", v + " -c:v libx265 -x265-params log-level=error"},
		{interop.FFmpeg7(t, "ffmpeg"), "av1.flv", v + " -c:v libsvtav1"},
		{interop.FFmpeg7(t, "ffmpeg"), "vp9.flv", v + " -c:v libvpx-vp9"},
		{interop.FFmpeg9(t, "ffmpeg"), "opus.flv", a + " -c:a libopus"},
		{interop.FFmpeg9(t, "ffmpeg"), "flac.flv", a + " -c:a flac"},
		{interop.FFmpeg9(t, "ffmpeg"), "ac3.flv", a + " -ac 6 -c:a ac3"},
		{interop.FFmpeg9(t, "ffmpeg"), "eac3.flv", a + " -c:a eac3"},
		{interop.FFmpeg9(t, "ffmpeg"), "multitrack.flv", v + " " + a + " -map 0:v -map 0:v -map 1:a -map 1:a -c:v:0 libx264 -c:v:1 libx265 -x265-params log-level=error -s:v:1 96x54 -c:a:0 aac -c:a:1 libopus -pix_fmt yuv420p"},
	}
	for _, j := range jobs {
		t.Run(j.name, func(t *testing.T) {
			out := filepath.Join(dir, j.name)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, strings.Fields(j.args)...)
			args = append(args, "-t", "1", out)
			if b, err := j.tool.Command(ctx, args...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", j.tool.Name, err, b)
			}
			src, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, src)
		})
	}
}

func roundTrip(t *testing.T, src []byte) {
	t.Helper()
	r := flv.NewReader(bytes.NewReader(src))
	h, err := r.ReadHeader()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := flv.NewWriter(&out, h)
	if err != nil {
		t.Fatal(err)
	}
	media := 0
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var enc []byte
		switch tag.Type {
		case flv.TagVideo:
			var v flv.VideoTag
			if err := v.Unmarshal(tag.Data); err != nil {
				t.Fatal(err)
			}
			enc, err = v.Append(nil)
		case flv.TagAudio:
			var a flv.AudioTag
			if err := a.Unmarshal(tag.Data); err != nil {
				t.Fatal(err)
			}
			enc, err = a.Append(nil)
		case flv.TagScript:
			var s flv.ScriptData
			if s, err = flv.ParseScript(tag.Data); err != nil {
				t.Fatal(err)
			}
			enc, err = s.Append(nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		if enc != nil && !bytes.Equal(enc, tag.Data) {
			t.Fatalf("%v tag at %d ms re-encodes differently", tag.Type, tag.Timestamp)
		}
		if tag.Type != flv.TagScript {
			media++
		}
		if err := w.WriteTag(tag); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if media == 0 {
		t.Fatal("no media tags")
	}
	if !bytes.Equal(out.Bytes(), src) {
		t.Fatal("the rewritten file differs")
	}
}

// FFprobe reads the duration Writer.Close patched into onMetaData. A copy
// written through a plain io.Writer keeps the placeholder 0, and FFmpeg
// then falls back to the last tag's timestamp, which misses the length of
// the last frame: so a match with the patched value shows it came from
// the metadata.
func TestFFprobeReadsPatchedDuration(t *testing.T) {
	ffprobe := interop.FFprobe(t)
	src, err := os.ReadFile("../testdata/ffmpeg/h264_aac.flv")
	if err != nil {
		t.Fatal(err)
	}
	tags, err := flv.NewReader(bytes.NewReader(src)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, dst func(*os.File) io.Writer) (*flv.Writer, string) {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w, err := flv.NewWriter(dst(f), flv.NewHeader(true, true))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteMetadata(0, &flv.Metadata{Width: 192, Height: 108}); err != nil {
			t.Fatal(err)
		}
		for _, tag := range tags {
			if tag.Type == flv.TagAudio || tag.Type == flv.TagVideo {
				if err := w.WriteTag(tag); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return w, path
	}
	probe := func(path string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := ffprobe.Command(ctx, "-v", "error", "-show_entries", "format=duration", "-of", "default=noprint_wrappers=1:nokey=1", path).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", ffprobe.Name, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	w, patched := write("patched.flv", func(f *os.File) io.Writer { return f })
	_, unpatched := write("unpatched.flv", func(f *os.File) io.Writer { return struct{ io.Writer }{f} })

	want := strconv.FormatFloat(w.Duration().Seconds(), 'f', 6, 64)
	got, fallback := probe(patched), probe(unpatched)
	t.Logf("Writer.Duration %v; ffprobe: patched file %s s, unpatched %s s", w.Duration(), got, fallback)
	if got != want {
		t.Fatalf("ffprobe reads a duration of %s s, want the patched %s s", got, want)
	}
	if fallback == want {
		t.Fatalf("ffprobe finds %s s without the patch too: the test cannot tell where it came from", fallback)
	}
}
