package record_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
	"github.com/ertmp/rtmp/record"
)

// A manager records every stream of the app "live" from its publish to
// its end; the file starts with onMetaData (duration and filesize
// patched when it closed) and the sequence headers, and its time starts
// at 0.
func Example() {
	dir, _ := os.MkdirTemp("", "record")
	defer os.RemoveAll(dir)
	done := make(chan record.File, 1)
	m := record.NewManager(record.ManagerOptions{
		App: func(app string) (record.Config, bool) {
			return record.Config{Dir: dir, Pattern: "{app}/{stream}.flv"}, app == "live"
		},
		OnFile: func(f record.File) { done <- f }, // an on_record_done hook
		Logger: slog.New(slog.DiscardHandler),
	})
	hub := live.NewHub(live.Config{Hooks: m.Hooks(), Logger: slog.New(slog.DiscardHandler)})
	m.SetHub(hub)

	pub, err := hub.Publish(context.Background(), live.Key{App: "live", Name: "cam"}, live.PublishOptions{})
	if err != nil {
		log.Fatal(err)
	}
	meta, _ := message.NewSetDataFrame(amf0.NewECMAArray(amf0.Property{Key: "width", Value: 320.0})).AppendPayload(nil)
	for _, pk := range []rtmp.Packet{
		{Type: message.TypeDataAMF0, Timestamp: 5000, Payload: meta},
		{Type: message.TypeVideo, Timestamp: 5000, Payload: []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f}}, // AVC sequence header
		{Type: message.TypeVideo, Timestamp: 5000, Payload: []byte{0x17, 1, 0, 0, 0, 'k'}},              // key frame
		{Type: message.TypeVideo, Timestamp: 5040, Payload: []byte{0x27, 1, 0, 0, 0, 'p'}},
	} {
		pub.Write(pk)
	}
	pub.Close() // the recording ends with the stream
	f := <-done
	rel, _ := filepath.Rel(dir, f.Path)
	fmt.Println(rel, f.Reason, f.Duration)

	b, _ := os.ReadFile(f.Path)
	r := flv.NewReader(bytes.NewReader(b))
	for {
		tag, err := r.ReadTag()
		if err != nil {
			break
		}
		if tag.Type == flv.TagScript {
			d, _ := flv.ParseScript(tag.Data)
			md, _ := d.Metadata()
			fmt.Printf("%v %d ms %s duration %.2f filesize %.0f width %.0f\n", tag.Type, tag.Timestamp, d.Name, md.Duration, md.FileSize, md.Width)
			continue
		}
		fmt.Printf("%v %d ms %d bytes\n", tag.Type, tag.Timestamp, len(tag.Data))
	}
	// Output:
	// live/cam.flv unpublished 80ms
	// script 0 ms onMetaData duration 0.08 filesize 169 width 320
	// video 0 ms 9 bytes
	// video 0 ms 6 bytes
	// video 40 ms 6 bytes
}
