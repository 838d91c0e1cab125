package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
)

func publishCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	re := fs.Bool("re", false, "send in real time, paced by the timestamps (like ffmpeg -re)")
	loop := fs.Int("loop", 1, "send the file N times (0: forever), timestamps continuing")
	typ := fs.String("type", "live", "publish type: live, record or append")
	timeout := fs.Duration("timeout", 10*time.Second, "time allowed to connect and start publishing")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: ertmp publish [-re] [-loop N] FILE.flv rtmp://host[:port]/app/stream\n\nPushes an FLV file (legacy or Enhanced RTMP, multitrack included) to an RTMP server,\nfollowing a server's ReconnectRequest.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	src, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "ertmp publish: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := &rtmp.ClientConfig{PublishType: *typ}
	n, err := publishFile(ctx, src, fs.Arg(1), cfg, *re, *loop, *timeout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ertmp publish: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "published %d tags to %s\n", n, fs.Arg(1))
	return 0
}

// publishFile sends the tags of src to url, loops times (0 = until ctx
// ends). It follows a ReconnectRequest at the next video key frame (or at
// once for a stream without video).
func publishFile(ctx context.Context, src []byte, url string, cfg *rtmp.ClientConfig, realtime bool, loops int, timeout time.Duration, log io.Writer) (int, error) {
	dial := func(u string) (*rtmp.Publisher, error) {
		c, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return rtmp.DialPublish(c, u, cfg)
	}
	pub, err := dial(url)
	if err != nil {
		return 0, err
	}
	defer func() { pub.Close() }()
	var (
		sent     int
		offset   uint32 // added to timestamps on each loop
		last     uint32
		start    = time.Now()
		first    = true
		firstTS  uint32
		moveTo   *rtmp.URL
		hasVideo = len(src) > 4 && src[4]&flv.FlagVideo != 0
		headers  streamHeaders
	)
	for i := 0; loops == 0 || i < loops; i++ {
		r := flv.NewReader(bytes.NewReader(src))
		for {
			tag, err := r.ReadTag()
			if err == io.EOF {
				break
			}
			if err != nil {
				return sent, err
			}
			if ctx.Err() != nil {
				return sent, nil
			}
			tag.Timestamp += offset
			if tag.Timestamp > last {
				last = tag.Timestamp
			}
			if first {
				firstTS, first = tag.Timestamp, false
			}
			if realtime {
				due := start.Add(time.Duration(tag.Timestamp-firstTS) * time.Millisecond)
				if d := time.Until(due); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return sent, nil
					}
				}
			}
			// A ReconnectRequest is followed at the next key frame.
			if moveTo == nil {
				moveTo = pendingReconnect(pub)
			}
			if moveTo != nil && (!hasVideo || isKeyFrame(tag)) {
				fmt.Fprintf(log, "ertmp publish: the server asked to reconnect; moving to %s\n", moveTo)
				next, err := dial(moveTo.String())
				if err != nil {
					return sent, fmt.Errorf("reconnecting to %s: %w", moveTo, err)
				}
				pub.Close()
				pub, moveTo = next, nil
				// The new server starts a new stream: it needs the
				// metadata and decoder configurations in force before
				// the key frame, as a publisher sends them at the start.
				for _, h := range headers.tags() {
					h.Timestamp = tag.Timestamp
					if err := pub.WriteTag(h); err != nil {
						return sent, err
					}
				}
			}
			if err := pub.WriteTag(tag); err != nil {
				return sent, err
			}
			headers.keep(tag)
			sent++
		}
		offset = last + 40
	}
	return sent, nil
}

// pendingReconnect returns the target of a ReconnectRequest the server
// sent, without waiting.
func pendingReconnect(pub *rtmp.Publisher) *rtmp.URL {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // only what is already queued
	for {
		ev, err := pub.ReadEvent(ctx)
		if err != nil {
			return nil
		}
		if ev.Kind == rtmp.EventReconnectRequest && ev.Reconnect != nil {
			return ev.Reconnect
		}
	}
}

func isKeyFrame(t flv.Tag) bool {
	var v flv.VideoTag
	return t.Type == flv.TagVideo && v.Unmarshal(t.Data) == nil && v.IsKeyFrame()
}

// streamHeaders keeps what a publisher sent that a new connection needs
// before its first key frame: the last onMetaData and the last sequence
// header of each codec and track, in the order they came.
type streamHeaders struct {
	order []string
	byKey map[string]flv.Tag
}

func (h *streamHeaders) keep(t flv.Tag) {
	key := ""
	switch t.Type {
	case flv.TagScript:
		key = "meta"
	case flv.TagVideo:
		var v flv.VideoTag
		if v.Unmarshal(t.Data) == nil && v.IsSequenceHeader() {
			key = fmt.Sprint("v ", v.Codec(), " ", firstTrack(v.Tracks()))
		}
	case flv.TagAudio:
		var a flv.AudioTag
		if a.Unmarshal(t.Data) == nil && a.IsSequenceHeader() {
			key = fmt.Sprint("a ", a.Codec(), " ", firstTrack(a.Tracks()))
		}
	}
	if key == "" {
		return
	}
	if h.byKey == nil {
		h.byKey = map[string]flv.Tag{}
	}
	if _, ok := h.byKey[key]; !ok {
		h.order = append(h.order, key)
	}
	t.Data = bytes.Clone(t.Data)
	h.byKey[key] = t
}

func firstTrack(it flv.TrackIter) uint8 {
	if it.Next() {
		return it.Track().ID
	}
	return 0
}

func (h *streamHeaders) tags() []flv.Tag {
	out := make([]flv.Tag, 0, len(h.order))
	for _, k := range h.order {
		out = append(out, h.byKey[k])
	}
	return out
}
