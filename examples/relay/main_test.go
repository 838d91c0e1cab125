package main

import (
	"net"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/internal/interop"
)

// FFmpeg publishes through the relay to an FFmpeg player that joined first:
// the player saves every packet of the source.
func TestRelayFFmpeg(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &rtmp.Server{Handler: newRelay()}
	go srv.Serve(ln)
	defer srv.Close()
	url := "rtmp://" + ln.Addr().String() + "/live/key"
	src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/h264_aac.flv")
	out := filepath.Join(t.TempDir(), "out.flv")

	player := interop.Start(t, ffmpeg, "-hide_banner", "-loglevel", "error", "-i", url, "-c", "copy", "-f", "flv", out)
	time.Sleep(300 * time.Millisecond) // the player is waiting for the publisher
	interop.Run(t, time.Minute, ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy", "-f", "flv", url)
	if err := player.Wait(20 * time.Second); err != nil {
		t.Fatalf("player: %v\n%s", err, player.Output.String())
	}
	want := interop.FrameMD5(t, ffmpeg, src)
	got := interop.FrameMD5(t, ffmpeg, out)
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("relayed packets differ: %d sent, %d received", len(want), len(got))
	}
}
