package interop

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// H264AAC makes an FLV file of the given length with FFmpeg: H.264 video
// (testsrc2, 320x180 at 25 fps, a key frame every second, B-frames) and
// AAC audio (a 440 Hz sine at 44.1 kHz). Small enough to make on the spot.
func H264AAC(t testing.TB, ffmpeg Tool, file string, seconds int) {
	t.Helper()
	Run(t, time.Minute, ffmpeg, strings.Fields(fmt.Sprintf("-hide_banner -loglevel error -y "+
		"-f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 -t %d "+
		"-c:v libx264 -preset veryfast -g 25 -bf 2 -pix_fmt yuv420p -c:a aac -b:a 64k %s", seconds, file))...)
}

// Packet is one line of FFmpeg's framemd5 without its timestamps: the
// stream, size and hash of a packet (and its duration), what stays the
// same when a relay or a player rebases time.
type Packet struct {
	Stream, Size, Duration, Hash string
}

// Packets returns a file's packets with data (see FrameMD5 and WithData),
// without their timestamps: video is stream 0, audio stream 1 (or 0 with
// no video), whatever their order in the file.
func Packets(t testing.TB, ffmpeg Tool, file string) []Packet {
	t.Helper()
	var out []Packet
	lines := Lines(Run(t, 2*time.Minute, ffmpeg, "-hide_banner", "-loglevel", "error", "-i", file, "-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "framemd5", "-"))
	for _, l := range WithData(lines) {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, ",")
		if len(f) != 6 {
			t.Fatalf("framemd5 line %q", l)
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		out = append(out, Packet{Stream: f[0], Duration: f[3], Size: f[4], Hash: f[5]})
	}
	return out
}

// RunOf reports where got occurs in src as one contiguous run of packets,
// comparing each stream on its own (a player may start one stream a few
// packets before the other): for each stream of got, the index in src's
// packets of that stream where got's packets of the stream begin, or an
// error naming the first packet that breaks the run.
func RunOf(src, got []Packet) (map[string]int, error) {
	split := func(ps []Packet) map[string][]Packet {
		m := map[string][]Packet{}
		for _, p := range ps {
			m[p.Stream] = append(m[p.Stream], p)
		}
		return m
	}
	s, g := split(src), split(got)
	at := map[string]int{}
	for st, gp := range g {
		sp := s[st]
		j := -1
		for i := range sp {
			if sp[i] == gp[0] && i+len(gp) <= len(sp) && equalPackets(sp[i:i+len(gp)], gp) {
				j = i
				break
			}
		}
		if j < 0 {
			// Name the first packet that fails, from the best start.
			best, n := -1, -1
			for i := range sp {
				k := 0
				for k < len(gp) && i+k < len(sp) && sp[i+k] == gp[k] {
					k++
				}
				if k > n {
					best, n = i, k
				}
			}
			return at, fmt.Errorf("stream %s: %d packets; at most %d in a row match the source (from its packet %d of %d)", st, len(gp), n, best, len(sp))
		}
		at[st] = j
	}
	return at, nil
}

func equalPackets(a, b []Packet) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Lines splits a tool's output into its non-empty lines, trimmed.
func Lines(out []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
