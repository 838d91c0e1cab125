package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/message"
)

func media(t *testing.T, name string) string {
	return filepath.Join(interop.ModuleRoot(t), "testdata", "ffmpeg", name)
}

func runErtmp(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("ertmp %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// ertmp publish to nginx-rtmp; FFmpeg pulls from nginx-rtmp: equal hashes
// (from the key frame nginx starts the player at). FFmpeg plays with
// -rtmp_live live: with its default ("any", play start -2) it stalls after
// one frame on nginx-rtmp 1.2.2, whoever publishes.
func TestPublishToNginx(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	addr := interop.NginxRTMP(t)
	url := "rtmp://" + addr + "/live/ertmp"
	out := filepath.Join(t.TempDir(), "pulled.flv")
	src, err := os.ReadFile(media(t, "h264_aac.flv"))
	if err != nil {
		t.Fatal(err)
	}
	published := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := publishFile(ctx, src, url, nil, true, 4, 10*time.Second, io.Discard)
		published <- err
	}()
	// Start FFmpeg once media flows through nginx: a FFmpeg player that
	// arrives before the publish stalls on nginx-rtmp 1.2.2.
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		n, err := playTo(ctx, url, "", 100*time.Millisecond, 2*time.Second, io.Discard)
		cancel()
		if err == nil && n > 0 {
			break
		}
		if i > 100 {
			t.Fatalf("no media through nginx: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	player := interop.Start(t, ffmpeg, "-hide_banner", "-loglevel", "error", "-analyzeduration", "1000000", "-rtmp_live", "live", "-i", url, "-c", "copy", "-f", "flv", out)
	// Stop the player like Ctrl-C while the stream is still live: after an
	// unpublish FFmpeg waits for the stream to return and ignores SIGINT.
	time.Sleep(4 * time.Second)
	player.Interrupt()
	if err := player.Wait(10 * time.Second); err != nil {
		t.Logf("player: %v\n%s", err, player.Output.String())
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	want := interop.WithData(interop.FrameMD5(t, ffmpeg, media(t, "h264_aac.flv")))
	got := interop.WithData(interop.FrameMD5(t, ffmpeg, out))
	if len(got) < 100 {
		t.Fatalf("only %d packets pulled", len(got))
	}
	// Four loops of the file were sent: the pulled packets, by stream, are
	// runs of the source's, looping.
	checkLooped(t, want, got)
}

// checkLooped checks that each stream's packets in got (size and hash)
// follow the source's order, wrapping around at its end.
func checkLooped(t *testing.T, want, got []string) {
	t.Helper()
	w, g := perStream(want), perStream(got)
	for s, gs := range g {
		ws := w[s]
		at := -1
		for i := range ws {
			if ws[i] == gs[0] {
				at = i
				break
			}
		}
		if at < 0 {
			t.Fatalf("stream %s: the first pulled packet is not in the source", s)
		}
		for i, k := range gs {
			if ws[(at+i)%len(ws)] != k {
				t.Fatalf("stream %s: pulled packet %d differs from the source", s, i)
			}
		}
	}
}

func perStream(ls []string) map[string][]string {
	m := map[string][]string{}
	for _, l := range ls {
		f := strings.Split(l, ",")
		s := strings.TrimSpace(f[0])
		m[s] = append(m[s], strings.TrimSpace(f[4])+" "+strings.TrimSpace(f[5]))
	}
	return m
}

// FFmpeg publishes to nginx-rtmp; ertmp play saves it: equal hashes.
func TestPlayFromNginx(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	addr := interop.NginxRTMP(t)
	url := "rtmp://" + addr + "/live/ff"
	out := filepath.Join(t.TempDir(), "played.flv")
	publisher := interop.Start(t, ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-i", media(t, "h264_aac.flv"), "-c", "copy", "-f", "flv", url)
	// Play once the stream exists (nginx answers StreamNotFound before).
	var err error
	for i := 0; i < 50; i++ {
		var n int
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		n, err = playTo(ctx, url, out, 0, 5*time.Second, io.Discard)
		cancel()
		if err == nil && n > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	publisher.Wait(20 * time.Second)
	// nginx starts a late player at the next key frame; the source file has
	// one every second. Compare from the played file's first packet on.
	want := interop.WithData(interop.FrameMD5(t, ffmpeg, media(t, "h264_aac.flv")))
	got := interop.WithData(interop.FrameMD5(t, ffmpeg, out))
	if len(got) < 20 {
		t.Fatalf("only %d packets played", len(got))
	}
	checkLooped(t, want, got)
}

// ffmpegListen starts FFmpeg as a one-shot RTMP server saving what it
// receives, and returns its URL.
func ffmpegListen(t *testing.T, ffmpeg interop.Tool, out string) (string, *interop.Process) {
	port := interop.FreePort(t)
	url := "rtmp://127.0.0.1:" + strconv.Itoa(port) + "/live/x"
	p := interop.Start(t, ffmpeg, "-hide_banner", "-loglevel", "error", "-listen", "1", "-i", url, "-map", "0", "-c", "copy", "-f", "flv", out)
	return url, p
}

// publishRetry publishes a file, retrying while the server is not up yet.
func publishRetry(t *testing.T, file, url string) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err = publishFile(ctx, src, url, nil, false, 1, 5*time.Second, io.Discard)
		cancel()
		if err == nil {
			return
		}
		if i > 100 || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("publish to %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The client against FFmpeg 5.1 as a server.
func TestPublishToFFmpegListen(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	out := filepath.Join(t.TempDir(), "got.flv")
	url, p := ffmpegListen(t, ffmpeg, out)
	publishRetry(t, media(t, "h264_aac.flv"), url)
	if err := p.Wait(20 * time.Second); err != nil {
		t.Fatalf("ffmpeg -listen: %v\n%s", err, p.Output.String())
	}
	interop.SameHashes(t, ffmpeg, media(t, "h264_aac.flv"), out)
}

// ertmp publish of FFmpeg 9's Opus, FLAC and AC-3 files into FFmpeg 9 as a
// server: what it saves equals the source, packet by packet.
func TestPublishEnhancedAudioToFFmpeg9(t *testing.T) {
	ff9 := interop.FFmpeg9(t, "ffmpeg")
	for _, f := range []string{"opus.flv", "flac.flv", "ac3.flv", "eac3.flv"} {
		t.Run(f, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "got.flv")
			url, p := ffmpegListen(t, ff9, out)
			publishRetry(t, media(t, f), url)
			if err := p.Wait(30 * time.Second); err != nil {
				t.Fatalf("ffmpeg9 -listen: %v\n%s", err, p.Output.String())
			}
			interop.SameHashes(t, ff9, media(t, f), out)
		})
	}
}

// ertmp probe rtmp://... finds what ertmp probe FILE finds.
func TestProbeURL(t *testing.T) {
	src := media(t, "multitrack.flv")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &rtmp.Server{Handler: rtmp.HandlerFunc(func(r *rtmp.Request) {
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			return
		}
		b, _ := os.ReadFile(src)
		fr := flv.NewReader(bytes.NewReader(b))
		for {
			tag, err := fr.ReadTag()
			if err != nil {
				break
			}
			if tag.Type == flv.TagScript {
				d, _ := message.UnmarshalData(message.TypeDataAMF0, tag.Data)
				ps.WriteMetadata(tag.Timestamp, d)
				continue
			}
			ps.WritePacket(rtmp.Packet{Type: message.Type(tag.Type), Timestamp: tag.Timestamp, Payload: bytes.Clone(tag.Data)})
		}
		ps.Flush()
		ps.Close()
	})}
	go srv.Serve(ln)
	defer srv.Close()
	fromURL := probeJSON(t, "rtmp://"+ln.Addr().String()+"/live/m")
	fromFile := probeJSON(t, src)
	if len(fromURL.Streams) != len(fromFile.Streams) {
		t.Fatalf("%d streams over RTMP, %d in the file", len(fromURL.Streams), len(fromFile.Streams))
	}
	for i, s := range fromFile.Streams {
		u := fromURL.Streams[i]
		if u.Codec != s.Codec || u.TrackID != s.TrackID || u.Width != s.Width || u.Packets != s.Packets {
			t.Errorf("stream %d: %s track %d width %d, %d packets over RTMP; %s track %d width %d, %d in the file", i, u.Codec, u.TrackID, u.Width, u.Packets, s.Codec, s.TrackID, s.Width, s.Packets)
		}
	}
	if len(fromURL.Metadata) == 0 {
		t.Error("no metadata over RTMP")
	}
}

// Errors a user meets have readable messages.
func TestClientErrorsAgainstNginx(t *testing.T) {
	addr := interop.NginxRTMP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := rtmp.DialPublish(ctx, "rtmp://"+addr+"/nope/key", nil)
	if err == nil || !strings.Contains(err.Error(), "application") {
		t.Fatalf("wrong app: %v", err)
	}
	var se *rtmp.StatusError
	if errors.As(err, &se) {
		t.Logf("wrong app: %v", err)
	}
}
