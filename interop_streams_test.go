package rtmp_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/internal/interop"
)

// nginx-rtmp serves one stream per connection: it answers every
// createStream with stream id 1. Our client's second Publish or Play on
// such a connection fails with ErrStreamIDInUse, without touching the
// first stream, which FFmpeg then plays from nginx intact.
func TestInteropNginxOneStreamPerConnection(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	addr := interop.NginxRTMP(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "a.flv")
	interop.H264AAC(t, ffmpeg, src, 8) // long enough for a slow FFmpeg start to find 1.5 s after a key frame
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := "rtmp://" + addr + "/live/"
	pa, err := rtmp.DialPublish(ctx, base+"a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pa.Publish(ctx, "b"); !errors.Is(err, rtmp.ErrStreamIDInUse) {
		t.Fatalf("second publish on nginx: %v, want ErrStreamIDInUse", err)
	}
	x, err := rtmp.DialPlay(ctx, base+"a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Play(ctx, "b"); !errors.Is(err, rtmp.ErrStreamIDInUse) {
		t.Fatalf("second play on nginx: %v, want ErrStreamIDInUse", err)
	}
	x.Close()
	out := filepath.Join(dir, "out.flv")
	published := make(chan error, 1)
	go func() { published <- interop.PublishFLV(pa, src) }()
	// nginx answers StreamNotFound before the stream exists: FFmpeg starts
	// once media flows (a few tags written), and stops after 1.5 s of it.
	for start := pa.Conn().BytesWritten(); pa.Conn().BytesWritten() < start+20000; {
		if ctx.Err() != nil {
			t.Fatal("the publisher sent nothing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	interop.Run(t, 30*time.Second, ffmpeg, "-hide_banner", "-loglevel", "error", "-i", base+"a", "-t", "1.5", "-c", "copy", "-f", "flv", out)
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	pa.Close()
	want, got := interop.Packets(t, ffmpeg, src), interop.Packets(t, ffmpeg, out)
	at, err := interop.RunOf(want, got)
	if err != nil || len(got) < len(want)/16 {
		t.Fatalf("played %d of %d packets: %v", len(got), len(want), err)
	}
	t.Logf("the first stream through nginx: %d packets of %d, a run of the source's from %v", len(got), len(want), at)
}
