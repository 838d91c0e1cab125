package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	rtmp "github.com/ertmp/rtmp"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/probe"
)

const probeSchema = `The -json output is one object:

  source        string   the file probed
  format        object   {version, has_audio, has_video, size}: the FLV header and file size
  duration      number   seconds from the first to the last audio/video timestamp
  tags          object   tag counts by type: "audio", "video", "script", "script-amf3", ...
  streams       array    one entry per audio or video track, in order of appearance:
    index         number   position in this list
    type          string   "audio" or "video"
    track_id      number   Enhanced RTMP track id (0 when not multitrack)
    multitrack    bool     the track arrived in Multitrack tags
    codec         string   h264 hevc vvc av1 vp9 vp8 aac mp3 opus flac ac3 eac3, or a legacy
                           one (flv1 flashsv flashsv2 vp6f vp6a pcm_u8 pcm_s16le adpcm_swf
                           nellymoser pcm_alaw pcm_mulaw speex), or an unknown FourCC
    fourcc        string   the Enhanced RTMP FourCC, when there is one
    legacy_id     number   FLV 10.1 CodecID or SoundFormat of a legacy stream
    width, height number   picture size from the sequence header (or a key frame)
    profile, level, bit_depth, sample_rate, channels: codec parameters where known
    hdr_metadata  bool     a colorInfo Metadata packet was seen
    packets       number   coded frames (what a demuxer returns as packets)
    key_frames    number   coded key frames
    bytes         number   payload bytes
    packet_types  object   tag counts by packet type name
    first_timestamp_ms, last_timestamp_ms: number
  metadata      object   the last onMetaData, keys in order
  errors        array    tags that did not parse
`

func probeCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON (schema below)")
	maxTag := fs.Int("max-tag-size", flv.DefaultMaxTagSize, "largest tag accepted, in bytes")
	dur := fs.Duration("t", 3*time.Second, "for a URL: how much media time to look at")
	timeout := fs.Duration("timeout", 10*time.Second, "for a URL: time allowed to connect and start playing")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: ertmp probe [-json] FILE.flv | rtmp://host/app/stream\n\nReports each stream or track of an FLV file or RTMP stream (played for -t): codec,\npicture size, track ids, tag counts by type and packet type, duration and metadata.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s", probeSchema)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	var rep *probe.Report
	var err error
	if u, perr := rtmp.ParseURL(fs.Arg(0)); perr == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		rep, err = probeURL(ctx, u.String(), *dur, *timeout)
	} else {
		rep, err = probeFile(fs.Arg(0), *maxTag)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ertmp probe: %v\n", err)
		if rep == nil {
			return 1
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "ertmp probe: %v\n", err)
			return 1
		}
	} else {
		printReport(stdout, rep)
	}
	if err != nil {
		return 1
	}
	return 0
}

// probeFile reads a whole file. A file cut short still gives the report of
// what was read, with the error.
func probeFile(name string, maxTag int) (*probe.Report, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := flv.NewReader(f)
	r.MaxTagSize = maxTag
	h, err := r.ReadHeader()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := probe.New(name)
	p.SetFormat(h, st.Size())
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			return p.Report(), nil
		}
		if err != nil {
			return p.Report(), fmt.Errorf("%s at byte %d: %w", name, r.Offset(), err)
		}
		p.Add(tag.Type, tag.Timestamp, tag.Data)
	}
}

func printReport(w io.Writer, r *probe.Report) {
	fmt.Fprintf(w, "%s\n", r.Source)
	if r.Format != nil {
		fmt.Fprintf(w, "  format: FLV version %d, %d bytes, header flags audio=%v video=%v\n", r.Format.Version, r.Format.Size, r.Format.HasAudio, r.Format.HasVideo)
	}
	fmt.Fprintf(w, "  duration: %.3f s\n", r.Duration)
	fmt.Fprintf(w, "  tags: %s\n", counts(r.Tags))
	for _, s := range r.Streams {
		var b strings.Builder
		fmt.Fprintf(&b, "  stream %d: %s %s", s.Index, s.Type, s.Codec)
		if s.FourCC != "" {
			fmt.Fprintf(&b, " (%s)", s.FourCC)
		}
		if s.Multitrack || s.TrackID != 0 {
			fmt.Fprintf(&b, ", track %d", s.TrackID)
		}
		if s.Width > 0 {
			fmt.Fprintf(&b, ", %dx%d", s.Width, s.Height)
		}
		if s.Profile != "" {
			fmt.Fprintf(&b, ", %s", s.Profile)
		}
		if s.SampleRate > 0 {
			fmt.Fprintf(&b, ", %d Hz", s.SampleRate)
		}
		if s.Channels > 0 {
			fmt.Fprintf(&b, ", %d ch", s.Channels)
		}
		if s.HDR {
			b.WriteString(", HDR metadata")
		}
		fmt.Fprintf(&b, "\n    %d packets (%d key), %d bytes, %d-%d ms; %s\n", s.Packets, s.KeyFrames, s.Bytes, s.FirstTime, s.LastTime, counts(s.PacketTypes))
		io.WriteString(w, b.String())
	}
	if len(r.Metadata) > 0 {
		fmt.Fprintf(w, "  metadata:\n")
		for _, p := range r.Metadata {
			v, _ := json.Marshal(p.Value)
			fmt.Fprintf(w, "    %s: %s\n", p.Key, v)
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
