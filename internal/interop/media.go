package interop

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ertmp/rtmp/flv"
)

// MediaTags returns an FLV file's audio and video tags as "type ts hex"
// lines, for an exact comparison of what a relay delivered.
func MediaTags(t testing.TB, path string) []string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := flv.NewReader(bytes.NewReader(src))
	var out []string
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if tag.Type == flv.TagAudio || tag.Type == flv.TagVideo {
			out = append(out, fmt.Sprintf("%v %d %x", tag.Type, tag.Timestamp, tag.Data))
		}
	}
}

// SameMediaTags fails t unless two FLV files hold the same audio and video
// tags, bytes and timestamps, in the same order.
func SameMediaTags(t testing.TB, want, got string) {
	t.Helper()
	a, b := MediaTags(t, want), MediaTags(t, got)
	if len(a) == 0 {
		t.Fatal("no media tags in the source")
	}
	for i := range a {
		if i >= len(b) {
			t.Fatalf("only %d of %d tags arrived", len(b), len(a))
		}
		if a[i] != b[i] {
			t.Fatalf("tag %d differs:\n%.120s\n%.120s", i, a[i], b[i])
		}
	}
	if len(b) != len(a) {
		t.Fatalf("%d tags arrived, %d sent", len(b), len(a))
	}
}

// WithData drops the framemd5 lines of empty packets (the size is the
// fifth field): FFmpeg's demuxer emits them for some configuration tags,
// differently for a file and an RTMP input.
func WithData(lines []string) []string {
	var out []string
	for _, l := range lines {
		if f := strings.Split(l, ","); len(f) >= 6 && strings.TrimSpace(f[4]) == "0" {
			continue
		}
		out = append(out, l)
	}
	return out
}

// SameHashes fails t unless two files have the same per-packet hashes
// (packets with data), as FFmpeg reads them.
func SameHashes(t testing.TB, ffmpeg Tool, want, got string) {
	t.Helper()
	a := WithData(FrameMD5(t, ffmpeg, want))
	b := WithData(FrameMD5(t, ffmpeg, got))
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		n := 0
		for n < len(a) && n < len(b) && a[n] == b[n] {
			n++
		}
		t.Fatalf("per-packet hashes differ: %d and %d packets, first difference at %d", len(a), len(b), n)
	}
}
