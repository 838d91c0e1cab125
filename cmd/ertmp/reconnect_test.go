package main

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

func serveLocal(t *testing.T, h rtmp.HandlerFunc) *rtmp.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rtmp.Server{Handler: h, Capabilities: &rtmp.Capabilities{CapsEx: message.CapsExReconnect}}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	u, _ := rtmp.ParseURL("rtmp://" + ln.Addr().String() + "/live/key")
	return u
}

// ertmp publish follows a ReconnectRequest to the server it names, at the
// next key frame: every tag reaches one server or the other, in order, and
// the new server gets the metadata and sequence headers first (it starts a
// new stream).
func TestPublishFollowsReconnect(t *testing.T) {
	type got struct {
		n        int
		firstKey bool
		// headers counts the sequence headers B got before its first
		// coded frame; meta whether onMetaData came first.
		headers int
		meta    bool
	}
	bDone := make(chan got, 1)
	b := serveLocal(t, func(r *rtmp.Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		var g got
		for {
			pk, err := ps.ReadPacket()
			if err != nil {
				bDone <- g
				return
			}
			if pk.Type == message.TypeDataAMF0 && g.n == 0 {
				g.meta = true
			}
			if pk.IsMedia() {
				var v flv.VideoTag
				var a flv.AudioTag
				switch {
				case pk.Type == message.TypeVideo && v.Unmarshal(pk.Payload) == nil && v.IsSequenceHeader() && g.n == g.headers,
					pk.Type == message.TypeAudio && a.Unmarshal(pk.Payload) == nil && a.IsSequenceHeader() && g.n == g.headers:
					g.headers++
				case g.n == g.headers:
					g.firstKey = pk.Type == message.TypeVideo && v.Unmarshal(pk.Payload) == nil && v.IsKeyFrame()
				}
				g.n++
			}
		}
	})
	aDone := make(chan int, 1)
	a := serveLocal(t, func(r *rtmp.Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		n := 0
		for {
			pk, err := ps.ReadPacket()
			if err != nil {
				aDone <- n
				return
			}
			if pk.IsMedia() {
				n++
				if n == 5 {
					ps.SendReconnectRequest(b.TcURL(), "moving you")
				}
			}
		}
	})
	src, err := os.ReadFile(media(t, "h264_aac.flv"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sent, err := publishFile(ctx, src, a.String(), nil, true, 1, 10*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	na, gb := <-aDone, <-bDone
	if na < 5 || gb.n == 0 || !gb.firstKey || gb.headers != 2 || !gb.meta {
		t.Fatalf("server A got %d media tags, server B %d: metadata first %v, then %d sequence headers (want AVC and AAC), then a key frame: %v",
			na, gb.n, gb.meta, gb.headers, gb.firstKey)
	}
	if na+gb.n-gb.headers != sent-1 { // one script tag
		t.Fatalf("A %d + B %d media tags (%d of them repeated sequence headers), %d tags sent", na, gb.n, gb.headers, sent)
	}
}

// The legacy AVC and AAC helpers write the tags FLV 10.1 defines.
func TestPublisherLegacyHelpers(t *testing.T) {
	got := make(chan rtmp.Packet, 8)
	u := serveLocal(t, func(r *rtmp.Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		for {
			pk, err := ps.ReadPacket()
			if err != nil {
				close(got)
				return
			}
			got <- pk
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pub.WriteAVCSequenceHeader(0, []byte{1, 0x64, 0, 0x1f})
	pub.WriteAVC(40, true, 80, []byte{0, 0, 0, 1, 0x65})
	pub.WriteAACSequenceHeader(0, []byte{0x12, 0x10})
	pub.WriteAAC(23, []byte{0x21, 0x00})
	pub.Close()
	want := [][]byte{
		{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f},
		{0x17, 1, 0, 0, 80, 0, 0, 0, 1, 0x65},
		{0xAF, 0, 0x12, 0x10},
		{0xAF, 1, 0x21, 0x00},
	}
	i := 0
	for pk := range got {
		if i >= len(want) || string(pk.Payload) != string(want[i]) {
			t.Fatalf("packet %d = % x", i, pk.Payload)
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("%d packets", i)
	}
}
