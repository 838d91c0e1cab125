package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/internal/probe"
)

func probeJSON(t *testing.T, file string) *probe.Report {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run([]string{"probe", "-json", file}, &out, &errb); code != 0 {
		t.Fatalf("ertmp probe -json %s: exit %d: %s", file, code, errb.String())
	}
	var r probe.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("probe -json output is not the documented JSON: %v\n%s", err, out.String())
	}
	return &r
}

type ffStream struct {
	Index     int    `json:"index"`
	CodecType string `json:"codec_type"`
	CodecName string `json:"codec_name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	// Packets and Bytes count the packets with data, from -show_packets.
	Packets int
	Bytes   int64
}

func ffprobeStreams(t *testing.T, tool interop.Tool, file string) []ffStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := tool.Command(ctx, "-v", "error", "-show_streams", "-show_packets", "-show_entries",
		"stream=index,codec_type,codec_name,width,height:packet=stream_index,size", "-of", "json", file)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v", tool.Name, file, err)
	}
	var res struct {
		Streams []ffStream
		Packets []struct {
			StreamIndex int    `json:"stream_index"`
			Size        string `json:"size"`
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Packets {
		n, _ := strconv.Atoi(p.Size)
		for i := range res.Streams {
			if res.Streams[i].Index == p.StreamIndex && n > 0 {
				res.Streams[i].Packets++
				res.Streams[i].Bytes += int64(n)
			}
		}
	}
	return res.Streams
}

// compareWithFFprobe matches every ffprobe stream with a probe stream of the
// same type and codec and checks packet counts and picture sizes.
func compareWithFFprobe(t *testing.T, r *probe.Report, ff []ffStream) {
	t.Helper()
	if len(ff) != len(r.Streams) {
		t.Fatalf("ffprobe finds %d streams, ertmp probe %d: %+v vs %+v", len(ff), len(r.Streams), ff, r.Streams)
	}
	used := map[int]bool{}
	for _, f := range ff {
		var s *probe.Stream
		for _, c := range r.Streams {
			if !used[c.Index] && c.Type == f.CodecType && c.Codec == f.CodecName {
				s = c
				break
			}
		}
		if s == nil {
			t.Errorf("ffprobe's %s %s stream has no match in %+v", f.CodecType, f.CodecName, r.Streams)
			continue
		}
		used[s.Index] = true
		// FFmpeg's demuxer also returns empty packets for some
		// configuration tags, and none for an empty frame: only packets
		// with data are compared.
		if f.Packets != s.Packets || f.Bytes != s.PacketBytes {
			t.Errorf("%s %s: ffprobe reads %d packets of %d bytes, ertmp probe %d of %d", f.CodecType, f.CodecName, f.Packets, f.Bytes, s.Packets, s.PacketBytes)
		}
		if f.CodecType == "video" && f.Width > 0 && (f.Width != s.Width || f.Height != s.Height) {
			t.Errorf("%s: ffprobe says %dx%d, ertmp probe %dx%d", f.CodecName, f.Width, f.Height, s.Width, s.Height)
		}
	}
}

func testFiles(t *testing.T) []string {
	var files []string
	for _, g := range []string{"../../testdata/eflv/*.flv", "../../testdata/ffmpeg/*.flv"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if len(files) < 15 {
		t.Fatalf("found %d test files", len(files))
	}
	return files
}

// ertmp probe -json and FFmpeg 9's ffprobe (which knows every codec here)
// find the same streams, codecs, packet counts and picture sizes.
func TestProbeMatchesFFprobe9(t *testing.T) {
	ffprobe := interop.FFmpeg9(t, "ffprobe")
	for _, f := range testFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			compareWithFFprobe(t, probeJSON(t, f), ffprobeStreams(t, ffprobe, f))
		})
	}
}

// The same against Debian 12's ffprobe 5.1 for the legacy files it reads.
func TestProbeMatchesFFprobe51(t *testing.T) {
	ffprobe := interop.FFprobe(t)
	for _, f := range testFiles(t) {
		base := filepath.Base(f)
		switch base {
		case "h264_aac.flv", "flv1_mp3.flv", "flashsv_adpcm.flv", "flashsv2_speex.flv", "nelly.flv", "alaw.flv", "mulaw.flv", "pcm.flv":
		default:
			continue
		}
		t.Run(base, func(t *testing.T) {
			compareWithFFprobe(t, probeJSON(t, f), ffprobeStreams(t, ffprobe, f))
		})
	}
}

// Files made now by each FFmpeg, not only the committed ones.
func TestProbeFreshFiles(t *testing.T) {
	dir := t.TempDir()
	type job struct {
		tool interop.Tool
		name string
		args string
	}
	v := "-f lavfi -i testsrc2=size=256x144:rate=25"
	a := "-f lavfi -i sine=sample_rate=48000"
	jobs := []job{
		{interop.FFmpeg(t), "h264.flv", v + " " + a + " -t 1 -c:v libx264 -pix_fmt yuv420p -c:a aac"},
		{interop.FFmpeg7(t, "ffmpeg"), "hevc.flv", v + " -t 1 -c:v libx265 -x265-params log-level=error"},
		{interop.FFmpeg7(t, "ffmpeg"), "vp9.flv", v + " -t 1 -c:v libvpx-vp9"},
		{interop.FFmpeg9(t, "ffmpeg"), "eac3.flv", a + " -t 1 -c:a eac3"},
		{interop.FFmpeg9(t, "ffmpeg"), "multi.flv", v + " " + a + " -t 1 -map 0:v -map 0:v -map 1:a -map 1:a -c:v:0 libx264 -c:v:1 libx265 -x265-params log-level=error -s:v:1 128x72 -c:a:0 aac -c:a:1 libopus -pix_fmt yuv420p"},
	}
	ffprobe := interop.FFmpeg9(t, "ffprobe")
	for _, j := range jobs {
		out := filepath.Join(dir, j.name)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := j.tool.Command(ctx, append([]string{"-hide_banner", "-loglevel", "error", "-y"}, append(strings.Fields(j.args), out)...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			cancel()
			t.Fatalf("%s %s: %v\n%s", j.tool.Name, j.name, err, b)
		}
		cancel()
		if st, err := os.Stat(out); err != nil || st.Size() == 0 {
			t.Fatalf("%s: no output", j.name)
		}
		t.Run(j.name, func(t *testing.T) {
			compareWithFFprobe(t, probeJSON(t, out), ffprobeStreams(t, ffprobe, out))
		})
	}
}

func TestProbeHelpShowsSchema(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"probe", "-h"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"streams", "packet_types", "track_id", "metadata"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("probe -h does not document %q", want)
		}
	}
}

func TestProbeBadFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.flv")
	os.WriteFile(bad, []byte("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00\x09\x00\x10\x00"), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"probe", bad}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(errb.String(), "truncated") {
		t.Errorf("stderr %q does not say truncated", errb.String())
	}
	if code := run([]string{"probe", filepath.Join(dir, "missing.flv")}, &out, &errb); code != 1 {
		t.Fatalf("missing file: exit %d, want 1", code)
	}
}
