package live_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

// flvHandler serves HTTP-FLV: GET /APP/STREAM.flv plays the live stream
// APP/STREAM as an endless FLV file. It is a subscriber of the hub like an
// RTMP player: it waits for the publisher as the hub's PlayWait says,
// starts at the cached GOP, and writes each packet's FLV tag, encoded once
// per packet and shared by every viewer (live.FLVTag).
func flvHandler(hub *live.Hub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app, file, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		name, ok := strings.CutSuffix(file, ".flv")
		if r.Method != http.MethodGet || !ok || app == "" || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		rc := http.NewResponseController(w)
		// A slow consumer, a kick or a shutdown may find the handler
		// blocked in a write: a deadline in the past frees it. (Stop never
		// runs once sub.Close has returned.)
		stop := func(live.Reason) { rc.SetWriteDeadline(time.Now()) }
		sub, err := hub.Subscribe(r.Context(), live.Key{App: app, Name: name}, live.SubscribeOptions{
			Session: &live.Session{Protocol: "http-flv", App: app, Stream: name, RemoteAddr: r.RemoteAddr, Query: r.URL.Query()},
			Stop:    stop,
		})
		if err != nil {
			code := http.StatusNotFound // no publisher came, a bad name, too many players, ...
			if errors.Is(err, live.ErrDenied) {
				code = http.StatusForbidden
			}
			http.Error(w, err.Error(), code)
			return
		}
		defer sub.Close()
		w.Header().Set("Content-Type", "video/x-flv")
		fw, err := flv.NewWriter(w, flv.NewHeader(true, true)) // the file header
		if err != nil || fw.Flush() != nil || rc.Flush() != nil {
			return
		}
		var items []live.Item
		for {
			if items, err = sub.Read(r.Context(), items[:0]); err != nil {
				return // the client left, or the hub ended the subscription
			}
			for _, it := range items {
				if it.Packet == nil {
					continue // notices: an FLV file has no place for them
				}
				tag, err := it.Packet.Bytes(live.FLVTag)
				if err != nil {
					continue // too large for an FLV tag
				}
				if _, err := w.Write(tag); err != nil {
					return
				}
			}
			clear(items)
			if rc.Flush() != nil {
				return
			}
		}
	})
}

// An HTTP-FLV viewer written against the hub's seams: flvHandler above is
// the whole of it. A source publishes a few packets with Publish; a viewer
// that comes later gets the metadata, the sequence headers and the cached
// GOP, then the live packets, then the end of the file when the source
// leaves.
func Example_httpFLV() {
	hub := live.NewHub(live.Config{
		RepublishGrace: -1, // viewers leave with the publisher
		Logger:         slog.New(slog.DiscardHandler),
	})
	web := httptest.NewServer(flvHandler(hub))
	defer web.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub, err := hub.Publish(ctx, live.Key{App: "live", Name: "cam"}, live.PublishOptions{
		Session: &live.Session{Protocol: "example"},
	})
	if err != nil {
		log.Fatal(err)
	}
	write := func(t message.Type, ts uint32, payload []byte) {
		if err := pub.Write(rtmp.Packet{Type: t, Timestamp: ts, Payload: payload}); err != nil {
			log.Fatal(err)
		}
	}
	meta, _ := message.NewSetDataFrame(amf0.NewECMAArray(amf0.Property{Key: "width", Value: 320.0})).AppendPayload(nil)
	write(message.TypeDataAMF0, 0, meta)
	write(message.TypeVideo, 0, []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f}) // AVC sequence header
	write(message.TypeAudio, 0, []byte{0xaf, 0, 0x12, 0x10})                // AAC sequence header
	write(message.TypeVideo, 0, []byte{0x27, 1, 0, 0, 0, 'p'})              // inter frame: no GOP yet
	write(message.TypeVideo, 40, []byte{0x17, 1, 0, 0, 0, 'k'})             // key frame: a GOP starts
	write(message.TypeAudio, 46, []byte{0xaf, 1, 'a'})

	resp, err := http.Get(web.URL + "/live/cam.flv") // returns once subscribed
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	write(message.TypeAudio, 69, []byte{0xaf, 1, 'a'})
	write(message.TypeVideo, 80, []byte{0x27, 1, 0, 0, 0, 'p'})
	pub.Close() // the viewer's file ends

	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	r := flv.NewReader(resp.Body)
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-6v %2d ms %s\n", tag.Type, tag.Timestamp, describe(tag))
	}
	// Output:
	// 200 OK video/x-flv
	// script  0 ms onMetaData
	// video  40 ms key sequence-header
	// audio  40 ms aac sequence-header
	// video  40 ms key nalu
	// audio  46 ms aac raw
	// audio  69 ms aac raw
	// video  80 ms inter nalu
}

// describe names what an FLV tag holds.
func describe(tag flv.Tag) string {
	switch tag.Type {
	case flv.TagVideo:
		var v flv.VideoTag
		if v.Unmarshal(tag.Data) == nil {
			return fmt.Sprintf("%v %v", v.FrameType, v.AVCPacketType)
		}
	case flv.TagAudio:
		var a flv.AudioTag
		if a.Unmarshal(tag.Data) == nil {
			return fmt.Sprintf("%v %v", a.SoundFormat, a.AACPacketType)
		}
	case flv.TagScript:
		if d, err := flv.ParseScript(tag.Data); err == nil {
			return d.Name
		}
	}
	return "?"
}

// Three FFmpeg HTTP-FLV viewers (flvHandler) wait for a stream that FFmpeg
// then publishes over RTMP in real time, and a fourth joins a second into
// it: the three save exactly the source's packets, the late one the
// source's packets from a key frame on; and the hub made one FLV encoding
// per packet for all of them, plus the late viewer's restamped metadata
// and sequence headers.
func TestInteropHTTPFLVFFmpeg(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 3)

	var rec ends
	hub := live.NewHub(live.Config{PlayWait: 15 * time.Second, RepublishGrace: -1, Logger: logTo(t), Hooks: live.Hooks{End: rec.hook}})
	addr := serveRTMP(t, hub)
	web := httptest.NewServer(flvHandler(hub))
	t.Cleanup(web.Close) // runs before serveRTMP's cleanup: the viewers are gone

	const viewers = 3
	key := live.Key{App: "live", Name: "x"}
	view := func(name string) *interop.Process {
		return interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i "+web.URL+"/live/x.flv -map 0 -c copy -f flv "+filepath.Join(dir, name))...)
	}
	var procs []*interop.Process
	for i := range viewers {
		procs = append(procs, view(fmt.Sprintf("v%d.flv", i)))
	}
	waitStream(t, hub, key, func(si live.StreamInfo) bool { return si.Protocols["http-flv"] == viewers })
	// FLVTag counts the encodings of the whole program: this test runs
	// alone (no t.Parallel here or in the package's other tests).
	before := live.FLVTag.Encodings()
	pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+addr+"/live/x")...)
	waitStream(t, hub, key, func(si live.StreamInfo) bool { return si.Packets > 90 }) // 1.3 s in
	procs = append(procs, view("late.flv"))
	if err := pub.Wait(20 * time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.Output)
	}
	for i, p := range procs {
		if err := p.Wait(10 * time.Second); err != nil {
			t.Fatalf("viewer %d: %v\n%s", i, err, p.Output)
		}
	}
	eventually(t, "every session ended", func() bool {
		return len(rec.of("rtmp", rtmp.KindPublish)) == 1 && len(rec.of("http-flv", rtmp.KindPlay)) == viewers+1
	})
	encodings := live.FLVTag.Encodings() - before

	published := rec.of("rtmp", rtmp.KindPublish)[0].e.Packets
	var late uint64
	for _, v := range rec.of("http-flv", rtmp.KindPlay) {
		if v.e.Packets < published {
			late = v.e.Packets
		} else if v.e.Packets != published {
			t.Errorf("viewer %s: %d packets, the publisher sent %d", v.s.RemoteAddr, v.e.Packets, published)
		}
		if v.e.Reason != live.ReasonPublisherGone || v.e.Dropped != 0 {
			t.Errorf("viewer %s: %v, %d dropped", v.s.RemoteAddr, v.e.Reason, v.e.Dropped)
		}
	}
	// The late viewer starts with onMetaData and the two sequence headers
	// restamped for it, then shares the packets of the cached GOP.
	const restamped = 3
	if encodings != published+restamped {
		t.Errorf("%d FLV encodings for %d packets to %d viewers and one that joined late, want %d", encodings, published, viewers, published+restamped)
	}
	srcHashes := interop.WithData(interop.FrameMD5(t, ffmpeg, src))
	for i := range viewers {
		interop.SameHashes(t, ffmpeg, src, filepath.Join(dir, fmt.Sprintf("v%d.flv", i)))
	}
	srcPkts, latePkts := interop.Packets(t, ffmpeg, src), interop.Packets(t, ffmpeg, filepath.Join(dir, "late.flv"))
	at, err := interop.RunOf(srcPkts, latePkts)
	if err != nil {
		t.Fatalf("late viewer: %v", err)
	}
	if at["0"] == 0 || at["0"]%25 != 0 {
		t.Errorf("late viewer: its video starts at source video packet %d, not at a later key frame (one every 25)", at["0"])
	}
	t.Logf("%d viewers: %d packets each (%d framemd5 lines with data equal to the source's); the late viewer %d packets (%d with data, from source video packet %d); %d FLV encodings",
		viewers, published, len(srcHashes), late, len(latePkts), at["0"], encodings)
}
