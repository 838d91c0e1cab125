package live_test

import (
	"bytes"
	"context"
	"io"
	"os"
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

// publishFLV is a source that is not RTMP: it reads an FLV file with
// package flv and publishes its tags through a Publication in real time
// (paced by their timestamps, like ffmpeg -re). A script tag is set as a
// data frame (@setDataFrame), so that subscribers that join later get it
// too. It returns the number of tags published.
func publishFLV(ctx context.Context, pub *live.Publication, file string) (int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	r := flv.NewReader(bytes.NewReader(b))
	start := time.Now()
	n := 0
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		select {
		case <-time.After(time.Until(start.Add(time.Duration(tag.Timestamp) * time.Millisecond))):
		case <-ctx.Done():
			return n, ctx.Err()
		}
		// The hub keeps the payload: it must not be the reader's buffer.
		payload := bytes.Clone(tag.Data)
		if tag.Type == flv.TagScript {
			payload, err = amf0.Append(nil, "@setDataFrame")
			if err != nil {
				return n, err
			}
			payload = append(payload, tag.Data...)
		}
		if err := pub.Write(rtmp.Packet{Type: message.Type(tag.Type), Timestamp: tag.Timestamp, Payload: payload}); err != nil {
			return n, err // the hub ended the publication
		}
		n++
	}
}

// An FLV file published through Hub.Publish, with no RTMP on the way in,
// reaches an FFmpeg RTMP player that was waiting for it: the player saves
// exactly the file's packets, timestamps included.
func TestInteropNonRTMPSource(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/h264_aac.flv")
	var rec ends
	hub := live.NewHub(live.Config{PlayWait: 15 * time.Second, Logger: logTo(t), Hooks: live.Hooks{End: rec.hook}})
	addr := serveRTMP(t, hub)

	out := filepath.Join(t.TempDir(), "played.flv")
	key := live.Key{App: "live", Name: "src"}
	// FFmpeg 5.1 makes streams of the data messages an RTMP server sends
	// with play (|RtmpSampleAccess): only audio and video are of interest.
	pl := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i rtmp://"+addr+"/live/src -map 0:v -map 0:a -c copy -f flv "+out)...)
	waitStream(t, hub, key, func(si live.StreamInfo) bool { return si.Protocols["rtmp"] == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	pub, err := hub.Publish(ctx, key, live.PublishOptions{Session: &live.Session{Protocol: "file", Stream: "src", App: "live"}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := publishFLV(ctx, pub, src)
	pub.Close() // the player gets NetStream.Play.UnpublishNotify and stops
	if err != nil {
		t.Fatalf("after %d tags: %v", n, err)
	}
	if err := pl.Wait(10 * time.Second); err != nil {
		t.Fatalf("player: %v\n%s", err, pl.Output)
	}
	interop.SameHashes(t, ffmpeg, src, out)

	eventually(t, "the player's session ended", func() bool { return len(rec.of("rtmp", rtmp.KindPlay)) == 1 })
	pubs, plays := rec.of("file", rtmp.KindPublish), rec.of("rtmp", rtmp.KindPlay)
	if len(pubs) != 1 || pubs[0].e.Reason != live.ReasonClientClosed || pubs[0].e.Packets != uint64(n) {
		t.Errorf("publisher ends: %+v, want one, client closed, %d packets", pubs, n)
	}
	if len(plays) != 1 || plays[0].e.Packets != uint64(n) || plays[0].e.Dropped != 0 {
		t.Errorf("player ends: %+v, want one with all %d packets", plays, n)
	}
	t.Logf("%d tags published from the file; the player's %d packets with data hash equal to the file's",
		n, len(interop.WithData(interop.FrameMD5(t, ffmpeg, out))))
}
