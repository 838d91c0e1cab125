package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/message"
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

// relayServer starts the relay on loopback and returns it and its rtmp://
// base URL.
func relayServer(t *testing.T) (*relay, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := newRelay()
	srv := &rtmp.Server{Handler: rl}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rl, "rtmp://" + ln.Addr().String()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// header returns an AVC or AAC sequence header whose last bytes carry i.
func header(typ message.Type, i int) rtmp.Packet {
	if typ == message.TypeVideo {
		return rtmp.Packet{Type: typ, Payload: []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, byte(i >> 8), byte(i)}}
	}
	return rtmp.Packet{Type: typ, Payload: []byte{0xAF, 0, 0x12, 0x10, byte(i >> 8), byte(i)}}
}

func videoFrame(ts uint32, key bool) rtmp.Packet {
	b0 := byte(0x27)
	if key {
		b0 = 0x17
	}
	return rtmp.Packet{Type: message.TypeVideo, Timestamp: ts, Payload: []byte{b0, 1, 0, 0, 0, 0, 0, 0, 2, 0x41, 0x9a}}
}

// A publisher that sends 5000 sequence headers of each kind, and 100 data
// frames of different names, does not freeze the stream: a player that
// joins after them gets the metadata and the latest headers once each,
// then video from a key frame on. The relay keeps 2 headers and at most
// maxFrames data frames. (The relay used to keep every header and hand
// them to a joining player over a 1024-packet channel while holding the
// stream's lock: the join blocked, and with it the publisher.)
func TestRelayManySequenceHeaders(t *testing.T) {
	rl, base := relayServer(t)
	url := base + "/live/headers"
	pub, err := rtmp.DialPublish(testCtx(t), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.WriteMetadata(0, amf0.Object{{Key: "width", Value: 640.0}}, false); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		pub.WriteData(0, message.Data{Values: []amf0.Value{message.SetDataFrame, fmt.Sprintf("onFrame%d", i), amf0.Object{}}})
	}
	const n = 5000
	for i := 1; i <= n; i++ {
		if err := pub.WritePackets(header(message.TypeVideo, i), header(message.TypeAudio, i)); err != nil {
			t.Fatal(err)
		}
	}
	pub.WritePacket(videoFrame(0, true))
	// The player joins once the relay has read them all.
	waitStream(t, rl, "live/headers", func(st *stream) bool {
		return st.audioHeader != nil && sameBytes(st.audioHeader.Payload, header(message.TypeAudio, n).Payload)
	})

	play, err := rtmp.DialPlay(testCtx(t), url, &rtmp.ClientConfig{Conn: rtmp.ConnConfig{ReadTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer play.Close()
	// Publish on, with a key frame every fifth frame, until the player has
	// had 20 frames.
	stop := make(chan struct{})
	published := make(chan error, 1)
	go func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				published <- nil
				return
			case <-time.After(5 * time.Millisecond):
			}
			if err := pub.WritePacket(videoFrame(uint32(i*40), i%5 == 0)); err != nil {
				published <- err
				return
			}
		}
	}()
	var got []string
	frames := 0
	for frames < 20 {
		pk, err := play.ReadPacket()
		if err != nil {
			t.Fatalf("after %d packets (%q): %v", len(got), got, err)
		}
		switch {
		case pk.Type == message.TypeDataAMF0:
			d, _ := message.UnmarshalData(pk.Type, pk.Payload)
			name, _ := d.Name()
			got = append(got, name)
		case pk.IsSequenceHeader():
			got = append(got, fmt.Sprintf("%v header %d", pk.Type, int(pk.Payload[len(pk.Payload)-2])<<8|int(pk.Payload[len(pk.Payload)-1])))
		case frames == 0 && !pk.IsKeyFrame():
			t.Fatalf("video starts with a frame that is not a key frame")
		default:
			frames++
		}
	}
	close(stop)
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	want := []string{"onMetaData"}
	for i := range maxFrames - 1 {
		want = append(want, fmt.Sprintf("onFrame%d", i))
	}
	want = append(want, fmt.Sprintf("Video header %d", n), fmt.Sprintf("Audio header %d", n))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		if len(got) > 2*len(want) {
			got = append(got[:len(want)], "...")
		}
		t.Fatalf("before the frames the player got\n%q\nwant\n%q", got, want)
	}
	rl.mu.Lock()
	st := rl.streams["live/headers"]
	rl.mu.Unlock()
	st.mu.Lock()
	kept := len(st.frames)
	st.mu.Unlock()
	if kept != maxFrames {
		t.Errorf("the relay keeps %d data frames", kept)
	}
}

// A player that stops reading never holds up the publisher: it is cut off
// once its queue is full, and another player gets every packet.
func TestRelaySlowPlayer(t *testing.T) {
	rl, base := relayServer(t)
	url := base + "/live/slow"
	pub, err := rtmp.DialPublish(testCtx(t), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	good, err := rtmp.DialPlay(testCtx(t), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	stuck := stuckPlayer(t, base[len("rtmp://"):], "live", "slow")
	defer stuck.Close()
	waitPlayers(t, rl, "live/slow", 2)
	// Keep the stuck player's socket buffers small, so its queue fills
	// after a few MiB.
	waitStream(t, rl, "live/slow", func(st *stream) bool {
		for p := range st.players {
			if p.session.RemoteAddr().String() == stuck.LocalAddr().String() {
				p.session.Request().Conn().NetConn().(*net.TCPConn).SetWriteBuffer(16 << 10)
				return true
			}
		}
		return false
	})

	// 16 MiB of video at 80 Mbit/s: past the stuck player's queue and
	// socket buffers, well within what the reading player takes.
	const count, size = 256, 64 << 10
	received := make(chan int, 1)
	go func() {
		n := 0
		for {
			pk, err := good.ReadPacket()
			if err != nil || pk.Type != message.TypeVideo || len(pk.Payload) != size {
				received <- n
				return
			}
			if n++; n == count {
				received <- n
				return
			}
		}
	}()
	payload := make([]byte, size)
	payload[0] = 0x17
	payload[1] = 1
	start := time.Now()
	tick := time.NewTicker(6 * time.Millisecond)
	defer tick.Stop()
	for i := range count {
		<-tick.C
		if err := pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: uint32(i * 6), Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("publishing took %v: a player held it up", d)
	}
	select {
	case n := <-received:
		if n != count {
			t.Fatalf("the reading player got %d of %d packets", n, count)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the reading player stalled")
	}
	waitPlayers(t, rl, "live/slow", 1)
}

// waitStream waits until the stream called key satisfies ok (called under
// the stream's lock).
func waitStream(t *testing.T, rl *relay, key string, ok func(*stream) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rl.mu.Lock()
		st := rl.streams[key]
		rl.mu.Unlock()
		if st != nil {
			st.mu.Lock()
			done := ok(st)
			st.mu.Unlock()
			if done {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not there in time", key)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitPlayers(t *testing.T, rl *relay, key string, n int) {
	t.Helper()
	waitStream(t, rl, key, func(st *stream) bool { return len(st.players) == n })
}

func sameBytes(a, b []byte) bool { return string(a) == string(b) }

// stuckPlayer connects, plays, and then never reads: a player whose
// network is gone.
func stuckPlayer(t *testing.T, addr, app, name string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	nc.(*net.TCPConn).SetReadBuffer(4096)
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := handshake.Client(nc, nil); err != nil {
		t.Fatal(err)
	}
	w := chunk.NewWriter(nc)
	for _, c := range []struct {
		sid uint32
		cmd message.Command
	}{
		{0, message.Command{Name: "connect", TransactionID: 1, Object: amf0.Object{{Key: "app", Value: app}}}},
		{0, message.Command{Name: "createStream", TransactionID: 2}},
		{1, message.Command{Name: "play", Args: []amf0.Value{name}}},
	} {
		b, err := c.cmd.AppendPayload(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteMessage(chunk.Message{CSID: 3, Header: chunk.Header{TypeID: uint8(c.cmd.Type()), StreamID: c.sid}, Payload: b}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Time{})
	return nc
}
