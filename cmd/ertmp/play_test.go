package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
)

// streamKinds lists a file's streams as FFmpeg sees them: "type/codec"
// per stream, in order.
func streamKinds(t *testing.T, ffprobe interop.Tool, path string) []string {
	t.Helper()
	var kinds []string
	for _, s := range ffprobeStreams(t, ffprobe, path) {
		kinds = append(kinds, s.CodecType+"/"+s.CodecName)
	}
	return kinds
}

// A player that joins a live stream mid-way saves a file FFmpeg reads as
// the source: the same streams (no data or subtitle stream from an
// onMetaData at the join time), starting at time 0.
func TestPlayJoinedMidway(t *testing.T) {
	ffprobe := interop.FFprobe(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addrc := make(chan net.Addr, 1)
	exit := make(chan int, 1)
	go func() {
		exit <- serve(ctx, strings.Fields("-listen 127.0.0.1:0"), io.Discard, io.Discard, func(a net.Addr) { addrc <- a })
	}()
	var url string
	select {
	case a := <-addrc:
		url = "rtmp://" + a.String() + "/live/midway"
	case code := <-exit:
		t.Fatalf("serve exited %d", code)
	}
	defer func() { cancel(); <-exit }()

	src := testdata(t, "h264_aac.flv")
	body, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	pctx, stopPublishing := context.WithCancel(ctx)
	defer stopPublishing()
	published := make(chan error, 1)
	go func() {
		_, err := publishFile(pctx, body, url, nil, true, 3, 10*time.Second, io.Discard)
		published <- err
	}()
	// Join past the first key frame (the file has one a second), so the
	// stream's timestamps are well past 0 when the player starts.
	time.Sleep(1500 * time.Millisecond)
	out := filepath.Join(t.TempDir(), "midway.flv")
	n, err := playTo(ctx, url, out, 2*time.Second, 10*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	stopPublishing()
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	want, got := streamKinds(t, ffprobe, src), streamKinds(t, ffprobe, out)
	t.Logf("%d tags; source streams %q, saved %q", n, want, got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("saved file's streams %q, want the source's %q", got, want)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := flv.NewReader(f)
	first, err := r.ReadTag()
	if err != nil {
		t.Fatal(err)
	}
	if first.Timestamp != 0 {
		t.Errorf("the file starts at %d ms, want 0", first.Timestamp)
	}
	var prev uint32
	for i := 0; ; i++ {
		tag, err := r.ReadTag()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if tag.Type == flv.TagScript && tag.Timestamp != 0 {
			t.Errorf("script tag %d at %d ms", i, tag.Timestamp)
		}
		if tag.Timestamp > prev+1000 {
			t.Errorf("tag %d jumps from %d to %d ms", i, prev, tag.Timestamp)
		}
		prev = max(prev, tag.Timestamp)
	}
}
