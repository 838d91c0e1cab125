package httpapi_test

import (
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
)

// Every codec FFmpeg 7 and 9 publish over Enhanced RTMP, and H.264/AAC
// from FFmpeg 5.1: FFmpeg watches /live/NAME.flv?enhanced=1 from before
// the publish, FFmpeg publishes the test file in real time, and the
// viewer's packets are the source's, byte for byte, stream by stream.
func TestInteropFLVCodecs(t *testing.T) {
	ffmpeg51 := func(t testing.TB, prog string) interop.Tool { return interop.Path(t, prog) }
	for _, c := range []struct {
		file     string
		tool     func(t testing.TB, prog string) interop.Tool
		enhanced string // -rtmp_enhanced_codecs
	}{
		{"h264_aac.flv", ffmpeg51, ""},
		{"hevc.flv", interop.FFmpeg7, "hvc1"},
		{"av1.flv", interop.FFmpeg7, "av01"},
		{"vp9.flv", interop.FFmpeg7, "vp09"},
		{"opus.flv", interop.FFmpeg9, "Opus"},
		{"flac.flv", interop.FFmpeg9, "fLaC"},
		{"ac3.flv", interop.FFmpeg9, "ac-3"},
		{"eac3.flv", interop.FFmpeg9, "ec-3"},
	} {
		name := strings.TrimSuffix(c.file, ".flv")
		t.Run(name, func(t *testing.T) {
			ff := c.tool(t, "ffmpeg")
			src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg", c.file)
			hub := live.NewHub(live.Config{Logger: logTo(t), PlayWait: 30 * time.Second})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &rtmp.Server{Handler: hub, Logger: logTo(t)}
			go srv.Serve(ln)
			web := httptest.NewServer(httpapi.NewFLV(hub, httpapi.FLVOptions{Logger: logTo(t)}))
			t.Cleanup(func() {
				web.CloseClientConnections()
				web.Close()
				srv.Close()
			})
			out := filepath.Join(t.TempDir(), "flv.md5")
			viewer := interop.Start(t, ff, strings.Fields("-hide_banner -loglevel error -i "+web.URL+"/live/"+name+".flv?enhanced=1 -map 0 -c copy -f framemd5 "+out)...)
			eventually(t, "the viewer waits for the stream", func() bool {
				for _, si := range hub.Streams() {
					if si.Name == name && si.Subscribers > 0 {
						return true
					}
				}
				return false
			})
			flags := ""
			if c.enhanced != "" {
				flags = "-rtmp_enhanced_codecs " + c.enhanced
			}
			pub := interop.Start(t, ff, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -map 0 -c copy "+flags+" -f flv rtmp://"+ln.Addr().String()+"/live/"+name)...)
			if err := pub.Wait(time.Minute); err != nil {
				t.Fatalf("publisher: %v\n%s", err, pub.Output)
			}
			if err := viewer.Wait(30 * time.Second); err != nil {
				t.Fatalf("viewer: %v\n%s", err, viewer.Output)
			}
			want, got := interop.FileStreams(t, ff, src, ""), interop.FrameMD5Streams(t, out)
			interop.SameStreams(t, want, got, "HTTP-FLV")
			t.Logf("%s: %d packets in %d streams equal over HTTP-FLV", name, got.Count(), len(got))
		})
	}
}
