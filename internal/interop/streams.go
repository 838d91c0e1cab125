package interop

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// Pkt is a packet as framemd5 gives it, without its times: its size and
// hash.
type Pkt struct{ Size, Hash string }

// Streams maps a stream index to its packets with data, in order.
type Streams map[int][]Pkt

// Count is the number of packets of every stream.
func (s Streams) Count() int {
	n := 0
	for _, ps := range s {
		n += len(ps)
	}
	return n
}

// FileStreams returns a media file's packets with data by stream, as
// FFmpeg reads it (video streams first), with the bitstream filter bsf
// applied to video when it is not empty.
func FileStreams(t testing.TB, ff Tool, file, bsf string) Streams {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "error", "-i", file, "-map", "0:v?", "-map", "0:a?", "-c", "copy"}
	if bsf != "" {
		args = append(args, "-bsf:v", bsf)
	}
	out := Run(t, 2*time.Minute, ff, append(args, "-f", "framemd5", "-")...)
	return ParseStreams(t, Lines(out))
}

// FrameMD5Streams reads a framemd5 file FFmpeg wrote.
func FrameMD5Streams(t testing.TB, path string) Streams {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ParseStreams(t, Lines(b))
}

// ParseStreams parses framemd5 lines, keeping the packets with data.
func ParseStreams(t testing.TB, lines []string) Streams {
	t.Helper()
	out := Streams{}
	for _, l := range WithData(lines) {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, ",")
		if len(f) < 6 {
			t.Fatalf("framemd5 line %q", l)
		}
		var s int
		fmt.Sscan(strings.TrimSpace(f[0]), &s)
		out[s] = append(out[s], Pkt{strings.TrimSpace(f[4]), strings.TrimSpace(f[5])})
	}
	return out
}

// SameStreams fails t unless got holds each stream of want, all of its
// packets in order, as one of its streams (matched by the first packet),
// and no other stream. over names the way got was read, for the message.
func SameStreams(t testing.TB, want, got Streams, over string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d streams read over %s, %d in the source", len(got), over, len(want))
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
			t.Fatalf("no stream read over %s starts with source stream %d's first packet", over, ws)
		}
		used[match] = true
		if gp := got[match]; !slices.Equal(gp, wp) {
			i := 0
			for i < len(gp) && i < len(wp) && gp[i] == wp[i] {
				i++
			}
			t.Fatalf("stream %d: %d packets over %s, %d in the source; first difference at %d", ws, len(gp), over, len(wp), i)
		}
	}
}
