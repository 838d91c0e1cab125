package rtmp_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/message"
)

// serve starts a Server with h on loopback and returns its rtmp:// base URL.
func serve(t *testing.T, h rtmp.HandlerFunc) string {
	t.Helper()
	return serveServer(t, &rtmp.Server{Handler: h})
}

// serveServer serves s on loopback (with Enhanced RTMP capabilities when
// it has none) and returns its rtmp:// base URL.
func serveServer(t *testing.T, s *rtmp.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.Capabilities == nil {
		s.Capabilities = &rtmp.Capabilities{FourCCList: []string{"*"}, CapsEx: message.CapsExMultitrack | message.CapsExModEx | message.CapsExReconnect}
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return "rtmp://" + ln.Addr().String()
}

// recorder accepts one publisher and writes what it reads to an FLV file;
// done gets the ReadPacket error that ended it (nil for a clean io.EOF).
func recorder(t *testing.T, path string, done chan<- error) rtmp.HandlerFunc {
	return func(r *rtmp.Request) {
		if r.Kind != rtmp.KindPublish {
			r.Reject("", "publish only")
			return
		}
		ps, err := r.AcceptPublish()
		if err != nil {
			done <- err
			return
		}
		done <- writeFLV(path, ps)
	}
}

func writeFLV(path string, ps *rtmp.PublishSession) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := flv.NewWriter(f, flv.NewHeader(true, true))
	if err != nil {
		return err
	}
	for {
		pk, err := ps.ReadPacket()
		if err == io.EOF {
			return w.Flush()
		}
		if err != nil {
			w.Flush()
			return err
		}
		switch pk.Type {
		case message.TypeAudio, message.TypeVideo:
			w.WriteTag(flv.Tag{Type: flv.TagType(pk.Type), Timestamp: pk.Timestamp, Data: pk.Payload})
		case message.TypeDataAMF0:
			d, err := message.UnmarshalData(pk.Type, pk.Payload)
			if err != nil || !d.IsSetDataFrame() {
				continue
			}
			body, err := d.Unwrap().AppendPayload(nil)
			if err != nil {
				return err
			}
			w.WriteTag(flv.Tag{Type: flv.TagScript, Timestamp: pk.Timestamp, Data: body})
		}
	}
}

// player accepts one player and sends it every tag of an FLV file.
func player(t *testing.T, path string, done chan<- error) rtmp.HandlerFunc {
	return func(r *rtmp.Request) {
		if r.Kind != rtmp.KindPlay {
			r.Reject("", "play only")
			return
		}
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			done <- err
			return
		}
		done <- playFLV(path, ps)
	}
}

func playFLV(path string, ps *rtmp.PlaySession) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fr := flv.NewReader(bytes.NewReader(src))
	for {
		tag, err := fr.ReadTag()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tag.Type {
		case flv.TagAudio, flv.TagVideo:
			err = ps.WritePacket(rtmp.Packet{Type: message.Type(tag.Type), Timestamp: tag.Timestamp, Payload: bytes.Clone(tag.Data)})
		case flv.TagScript:
			var d message.Data
			if d, err = message.UnmarshalData(message.TypeDataAMF0, tag.Data); err == nil {
				err = ps.WriteMetadata(tag.Timestamp, d)
			}
		}
		if err != nil {
			return err
		}
	}
	if err := ps.Flush(); err != nil {
		return err
	}
	return ps.Close()
}

func ffargs(s string) []string { return strings.Fields(s) }

func TestInteropFFmpegPublish(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/h264_aac.flv")
	out := filepath.Join(t.TempDir(), "out.flv")
	done := make(chan error, 1)
	base := serve(t, recorder(t, out, done))
	interop.Run(t, time.Minute, ffmpeg, ffargs("-hide_banner -loglevel error -i "+src+" -c copy -f flv "+base+"/live/key")...)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("publish session: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the publish session did not end")
	}
	interop.SameHashes(t, ffmpeg, src, out)
}

func TestInteropFFmpegPlay(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/h264_aac.flv")
	out := filepath.Join(t.TempDir(), "out.flv")
	done := make(chan error, 1)
	base := serve(t, player(t, src, done))
	interop.Run(t, time.Minute, ffmpeg, ffargs("-hide_banner -loglevel error -i "+base+"/live/key -c copy -f flv "+out)...)
	if err := <-done; err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("play session: %v", err)
	}
	interop.SameHashes(t, ffmpeg, src, out)
}

// publishAndCompare has a peer publish src (with extra output flags) and
// checks that the publish session read exactly the tags the same FFmpeg
// writes when it remuxes src to a file: FFmpeg rebuilds some tags (its
// colorInfo, for one) rather than copying them, so its own file output is
// the reference for what it sends.
func publishAndCompare(t *testing.T, ffmpeg interop.Tool, src, flags string) string {
	t.Helper()
	ref := filepath.Join(t.TempDir(), "ref.flv")
	interop.Run(t, 2*time.Minute, ffmpeg, ffargs("-hide_banner -loglevel error -i "+src+" -map 0 -c copy -f flv "+ref)...)
	out := filepath.Join(t.TempDir(), "out.flv")
	done := make(chan error, 1)
	base := serve(t, recorder(t, out, done))
	interop.Run(t, 2*time.Minute, ffmpeg, ffargs("-hide_banner -loglevel error -i "+src+" -map 0 -c copy "+flags+" -f flv "+base+"/live/key")...)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("publish session: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the publish session did not end")
	}
	interop.SameMediaTags(t, ref, out)
	return out
}

// playAndCompare has a peer play src from a play session and checks its
// per-packet hashes against the source's.
func playAndCompare(t *testing.T, ffmpeg interop.Tool, src string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "played.flv")
	done := make(chan error, 1)
	base := serve(t, player(t, src, done))
	interop.Run(t, 2*time.Minute, ffmpeg, ffargs("-hide_banner -loglevel error -i "+base+"/live/key -c copy -f flv "+out)...)
	<-done
	interop.SameHashes(t, ffmpeg, src, out)
}

func testdata(t *testing.T, name string) string {
	return filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg", name)
}

// FFmpeg 7.1 publishes HEVC, AV1 and VP9, with and without
// -rtmp_enhanced_codecs, and plays them back.
func TestInteropFFmpeg7Enhanced(t *testing.T) {
	ff7 := interop.FFmpeg7(t, "ffmpeg")
	for _, c := range []struct{ file, fourcc string }{{"hevc.flv", "hvc1"}, {"av1.flv", "av01"}, {"vp9.flv", "vp09"}} {
		t.Run(c.file, func(t *testing.T) {
			src := testdata(t, c.file)
			publishAndCompare(t, ff7, src, "-rtmp_enhanced_codecs "+c.fourcc)
			publishAndCompare(t, ff7, src, "")
			playAndCompare(t, ff7, src)
		})
	}
}

// FFmpeg 9 publishes Enhanced RTMP v2 audio and a multitrack stream; the
// single-track ones play back.
func TestInteropFFmpeg9Enhanced(t *testing.T) {
	ff9 := interop.FFmpeg9(t, "ffmpeg")
	for _, c := range []struct{ file, fourcc string }{{"opus.flv", "Opus"}, {"flac.flv", "fLaC"}, {"ac3.flv", "ac-3"}, {"eac3.flv", "ec-3"}, {"multitrack.flv", "hvc1,Opus"}} {
		t.Run(c.file, func(t *testing.T) {
			src := testdata(t, c.file)
			publishAndCompare(t, ff9, src, "-rtmp_enhanced_codecs "+c.fourcc)
			if c.file != "multitrack.flv" { // FFmpeg's RTMP input shows only the first track
				playAndCompare(t, ff9, src)
			}
		})
	}
}

// GStreamer's rtmp2sink, an independent implementation, publishes.
func TestInteropGStreamerPublish(t *testing.T) {
	gst := interop.Path(t, "gst-launch-1.0")
	src := testdata(t, "h264_aac.flv")
	out := filepath.Join(t.TempDir(), "out.flv")
	done := make(chan error, 1)
	base := serve(t, recorder(t, out, done))
	// flvmux re-muxes (its timestamps differ from the source's), so its own
	// file output is the reference for what rtmp2sink sends.
	pipeline := func(sink string) []string {
		return append([]string{"-q"}, ffargs("filesrc location="+src+" ! flvdemux name=d d.video ! queue ! h264parse ! flvmux name=m streamable=true ! "+sink+" d.audio ! queue ! aacparse ! m.")...)
	}
	ref := filepath.Join(t.TempDir(), "ref.flv")
	interop.Run(t, time.Minute, gst, pipeline("filesink location="+ref)...)
	interop.Run(t, time.Minute, gst, pipeline("rtmp2sink location="+base+"/live/gst")...)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("publish session: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the publish session did not end")
	}
	// Every media tag, bytes and timestamp, as rtmp2sink's flvmux made it.
	interop.SameMediaTags(t, ref, out)
}

// A rejected FFmpeg publisher exits with an error within 2 seconds, and the
// server keeps serving others.
func TestInteropRejectedFFmpeg(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	src := testdata(t, "h264_aac.flv")
	out := filepath.Join(t.TempDir(), "out.flv")
	done := make(chan error, 1)
	rejected := make(chan time.Time, 1)
	base := serve(t, func(r *rtmp.Request) {
		if r.StreamName != "good" {
			rejected <- time.Now()
			r.Reject("", "wrong key")
			return
		}
		recorder(t, out, done)(r)
	})
	p := interop.Start(t, ffmpeg, ffargs("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv "+base+"/live/bad")...)
	err := p.Wait(10 * time.Second)
	exited := time.Now()
	if err == nil {
		t.Fatal("ffmpeg exited 0 after being rejected")
	}
	select {
	case at := <-rejected:
		if d := exited.Sub(at); d > 2*time.Second {
			t.Fatalf("ffmpeg took %v after the rejection to give up (%v)", d, err)
		} else {
			t.Logf("ffmpeg gave up %v after the rejection", d)
		}
	default:
		t.Fatal("the server never saw the publish")
	}
	interop.Run(t, time.Minute, ffmpeg, ffargs("-hide_banner -loglevel error -i "+src+" -c copy -f flv "+base+"/live/good")...)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	interop.SameHashes(t, ffmpeg, src, out)
}
