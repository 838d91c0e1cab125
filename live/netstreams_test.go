package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/message"
)

// Several NetStreams per connection through the hub: each publish of one
// client connection is its own stream.

// Our client publishes two different files as two streams over one
// connection; an FFmpeg player of each receives its own stream's packets,
// byte-exact from its first key frame to the end.
func TestInteropTwoStreamsOneClientConnection(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	srcA := media10s(t, ffmpeg)
	srcB := filepath.Join(dir, "b.flv")
	interop.Run(t, 2*time.Minute, ffmpeg, strings.Fields("-hide_banner -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=30 -f lavfi -i sine=frequency=880:sample_rate=48000 -t 10 -c:v libx264 -preset veryfast -g 30 -pix_fmt yuv420p -c:a aac -b:a 96k "+srcB)...)
	sh := startHub(t, Config{})
	base := "rtmp://" + sh.addr + "/live/"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := rtmp.DialPublish(ctx, base+"a", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.Publish(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if a.Conn() != b.Conn() {
		t.Fatal("two connections")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, c := range []struct {
		p   *rtmp.Publisher
		src string
	}{{a, srcA}, {b, srcB}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- interop.PublishFLV(c.p, c.src)
		}()
	}
	sh.waitStream(t, "a", func(si StreamInfo) bool { return si.Publishing && si.Packets > 0 })
	sh.waitStream(t, "b", func(si StreamInfo) bool { return si.Publishing && si.Packets > 0 })
	outA, outB := filepath.Join(dir, "outa.flv"), filepath.Join(dir, "outb.flv")
	pa := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i "+base+"a -c copy -f flv "+outA)...)
	pb := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i "+base+"b -c copy -f flv "+outB)...)
	wg.Wait()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("publishing: %v", err)
		}
	}
	// Each stream ends on its own: b first, then a.
	b.Close()
	if err := pb.Wait(15 * time.Second); err != nil {
		t.Fatalf("player b: %v\n%s", err, pb.Output)
	}
	a.Close()
	if err := pa.Wait(15 * time.Second); err != nil {
		t.Fatalf("player a: %v\n%s", err, pa.Output)
	}
	for _, c := range []struct{ name, src, out string }{{"a", srcA, outA}, {"b", srcB, outB}} {
		src, got := frameMD5(t, ffmpeg, c.src), frameMD5(t, ffmpeg, c.out)
		j := sameTail(t, src, got, c.name)
		t.Logf("stream %s: %d packets, equal to the source's from packet %d", c.name, len(got), j)
	}
}

// 1000 publishes on one client connection into the hub: each is answered;
// past the server's cap with a refusal, and with no cap each becomes its
// own stream of the hub.
func TestHubThousandPublishesOneConnection(t *testing.T) {
	const n = 1000
	for _, c := range []struct {
		name   string
		max    int
		starts int
	}{
		{"default cap", 0, rtmp.DefaultMaxStreamsPerConn},
		{"no cap", -1, n},
	} {
		t.Run(c.name, func(t *testing.T) {
			sh := startHubServer(t, Config{}, &rtmp.Server{MaxStreamsPerConn: c.max})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			first, err := rtmp.DialPublish(ctx, "rtmp://"+sh.addr+"/live/s0", nil)
			if err != nil {
				t.Fatal(err)
			}
			pubs := []*rtmp.Publisher{first}
			refused := 0
			start := time.Now()
			for i := 1; i < n; i++ {
				p, err := first.Publish(ctx, fmt.Sprint("s", i))
				var se *rtmp.StatusError
				switch {
				case err == nil:
					pubs = append(pubs, p)
				case errors.As(err, &se) && se.Code == message.CodePublishBadName:
					refused++
				default:
					t.Fatalf("publish %d: %v", i, err)
				}
			}
			t.Logf("%d publishes on one connection in %v: %d started, %d refused", n, time.Since(start).Round(time.Millisecond), len(pubs), refused)
			if len(pubs) != c.starts || refused != n-c.starts {
				t.Fatalf("%d started, %d refused; want %d and %d", len(pubs), refused, c.starts, n-c.starts)
			}
			publishing := 0
			for _, si := range sh.hub.Streams() {
				if si.Publishing {
					publishing++
				}
			}
			if publishing != c.starts {
				t.Fatalf("the hub has %d streams publishing, want %d", publishing, c.starts)
			}
			for _, p := range pubs {
				p.Close()
			}
			deadline := time.Now().Add(10 * time.Second)
			for len(sh.hub.Streams()) > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if s := sh.hub.Streams(); len(s) > 0 {
				t.Fatalf("%d streams left after every publisher closed", len(s))
			}
		})
	}
}

// Two players on one client connection: ending one of them (an operator's
// kick) ends that stream alone with StreamEOF and NetStream.Play.Stop; the
// other keeps receiving its stream on the same connection.
func TestHubKickOnePlayerOfTwoOnOneConnection(t *testing.T) {
	sh := startHub(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pubs := map[string]*Publication{}
	for _, name := range []string{"a", "b"} {
		p, err := sh.hub.Publish(ctx, Key{App: "live", Name: name}, PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		p.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcSeq()})
		p.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcFrame(true, 0)})
		p.Flush()
		pubs[name] = p
	}
	pa, err := rtmp.DialPlay(ctx, "rtmp://"+sh.addr+"/live/a", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pa.Close()
	pb, err := pa.Play(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if pa.Conn() != pb.Conn() {
		t.Fatal("two connections")
	}
	var idA uint64
	for _, si := range sh.hub.Sessions() {
		if si.Kind == "play" && si.Key.Name == "a" {
			idA = si.ID
		}
	}
	if idA == 0 {
		t.Fatalf("no play session of a in %+v", sh.hub.Sessions())
	}
	if err := sh.hub.Kick(idA); err != nil {
		t.Fatal(err)
	}
	// Player a reads to its end.
	for {
		_, err := pa.ReadPacket()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("player a ended with %v, want io.EOF (its stream ended)", err)
			}
			break
		}
	}
	// Player b gets what its publisher sends after the kick.
	go func() {
		for n := uint32(1); ctx.Err() == nil; n++ {
			pubs["b"].Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: n * 33, Payload: avcFrame(false, n)})
			pubs["b"].Flush()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	got := make(chan error, 1)
	go func() {
		n := 0
		for n < 20 {
			pk, err := pb.ReadPacket()
			if err != nil {
				got <- fmt.Errorf("player b after a was kicked: %w (after %d packets)", err, n)
				return
			}
			if pk.Type == message.TypeVideo && len(pk.Payload) == 9 && pk.Payload[0] == 0x27 {
				n++
			}
		}
		got <- nil
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("player b received no packets after a was kicked")
	}
}
