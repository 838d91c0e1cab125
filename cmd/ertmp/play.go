package main

import (
	"bufio"
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
	"github.com/ertmp/rtmp/internal/probe"
	"github.com/ertmp/rtmp/message"
)

func playCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("play", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the stream to this FLV file (- for standard output)")
	dur := fs.Duration("t", 0, "stop after this much media time (0: until the stream ends)")
	timeout := fs.Duration("timeout", 10*time.Second, "time allowed to connect and start playing")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: ertmp play rtmp://host[:port]/app/stream [-o FILE.flv] [-t DURATION]\n\nPulls a stream and writes a valid FLV file (header flags from what arrived,\ntimestamps starting at 0 wherever the player joined, onMetaData at 0).\nWithout -o it reports packet counts as they arrive.\n\n")
		fs.PrintDefaults()
	}
	// Flags may follow the URL, as in the usage line.
	var url string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		args = fs.Args()
		if len(args) > 0 {
			if url != "" {
				fs.Usage()
				return 2
			}
			url, args = args[0], args[1:]
		}
	}
	if url == "" {
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	n, err := playTo(ctx, url, *out, *dur, *timeout, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "ertmp play: %v\n", err)
		return 1
	}
	if *out != "-" {
		fmt.Fprintf(stderr, "ertmp play: %d tags from %s\n", n, url)
	}
	return 0
}

// playTo pulls url into an FLV file (or counts packets when out is empty).
func playTo(ctx context.Context, url, out string, dur, timeout time.Duration, stdout io.Writer) (int, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	player, err := rtmp.DialPlay(dctx, url, nil)
	cancel()
	if err != nil {
		return 0, err
	}
	defer player.Close()
	go func() { <-ctx.Done(); player.Conn().Close() }()

	var (
		w      *flv.Writer
		file   *os.File
		header = flv.NewHeader(true, true)
	)
	switch out {
	case "":
	case "-":
		bw := bufio.NewWriter(stdout)
		defer bw.Flush()
		if w, err = flv.NewWriter(bw, header); err != nil {
			return 0, err
		}
	default:
		if file, err = os.Create(out); err != nil {
			return 0, err
		}
		defer file.Close()
		if w, err = flv.NewWriter(file, header); err != nil {
			return 0, err
		}
	}
	var (
		n            int
		clock        fileClock
		audio, video bool
	)
	for {
		pk, err := player.ReadPacket()
		if err == io.EOF || (err != nil && ctx.Err() != nil) {
			break
		}
		if err != nil {
			return n, err
		}
		tag, ok := packetTag(pk)
		if !ok {
			continue
		}
		tag.Timestamp = clock.at(pk, tag)
		if pk.IsMedia() {
			if dur > 0 && time.Duration(tag.Timestamp)*time.Millisecond >= dur {
				break
			}
			audio = audio || pk.Type == message.TypeAudio
			video = video || pk.Type == message.TypeVideo
		}
		if w != nil {
			if err := w.WriteTag(tag); err != nil {
				return n, err
			}
		}
		n++
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			return n, err
		}
	}
	if file != nil {
		// The header's flags say what arrived.
		var flags byte
		if audio {
			flags |= flv.FlagAudio
		}
		if video {
			flags |= flv.FlagVideo
		}
		if _, err := file.WriteAt([]byte{flags}, 4); err != nil {
			return n, err
		}
	}
	if out == "" {
		fmt.Fprintf(stdout, "%d tags (audio %v, video %v)\n", n, audio, video)
	}
	return n, nil
}

// fileClock maps a stream's timestamps to a file's. The file starts at 0,
// as FFmpeg's own -c copy output does, wherever in a live stream the player
// joined: the first coded frame is at 0 and the rest keep their distance
// from it. onMetaData is always written at 0: FFmpeg's FLV demuxer reads a
// script tag as the file's metadata only at time 0, and one at any other
// time as a packet of a data stream the source does not have. Other script
// data (onCuePoint, onTextData...) keeps its place in time: it is a stream
// of the source.
type fileClock struct {
	t0      uint32
	started bool
}

func (c *fileClock) at(pk rtmp.Packet, tag flv.Tag) uint32 {
	if tag.Type == flv.TagScript && isMetaData(tag.Data) {
		return 0
	}
	if !c.started {
		// Sequence headers and data before the first frame start the
		// file; a server may stamp them 0 or at the join time.
		if !pk.IsMedia() || pk.IsSequenceHeader() {
			return 0
		}
		c.t0, c.started = tag.Timestamp, true
	}
	// Serial arithmetic (RFC 1982): a wrap of the 32-bit clock is no
	// jump. What comes before the first frame is clamped to the start.
	d := int32(tag.Timestamp - c.t0)
	if d < 0 {
		return 0
	}
	return uint32(d)
}

func isMetaData(script []byte) bool {
	d, err := message.UnmarshalData(message.TypeDataAMF0, script)
	return err == nil && d.IsMetaData()
}

// packetTag turns a played packet into an FLV tag: media as is, data as an
// AMF0 script tag.
func packetTag(pk rtmp.Packet) (flv.Tag, bool) {
	switch pk.Type {
	case message.TypeAudio, message.TypeVideo:
		return pk.Tag()
	case message.TypeDataAMF0, message.TypeDataAMF3:
		d, err := message.UnmarshalData(pk.Type, pk.Payload)
		if err != nil {
			return flv.Tag{}, false
		}
		d = d.Unwrap()
		if pk.Type == message.TypeDataAMF0 {
			return flv.Tag{Type: flv.TagScript, Timestamp: pk.Timestamp, Data: pk.Payload}, true
		}
		body, err := message.Data{Values: d.Values}.AppendPayload(nil)
		if err != nil {
			return flv.Tag{}, false
		}
		return flv.Tag{Type: flv.TagScript, Timestamp: pk.Timestamp, Data: body}, true
	}
	return flv.Tag{}, false
}

// probeURL plays a stream for a while and reports it like a file.
func probeURL(ctx context.Context, url string, dur, timeout time.Duration) (*probe.Report, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	player, err := rtmp.DialPlay(dctx, url, nil)
	cancel()
	if err != nil {
		return nil, err
	}
	defer player.Close()
	p := probe.New(url)
	deadline := time.AfterFunc(dur+timeout, func() { player.Conn().Close() })
	defer deadline.Stop()
	first, t0 := true, uint32(0)
	for {
		pk, err := player.ReadPacket()
		if err != nil {
			if err == io.EOF {
				return p.Report(), nil
			}
			return p.Report(), err
		}
		tag, ok := packetTag(pk)
		if !ok {
			continue
		}
		if pk.IsMedia() {
			if first {
				t0, first = pk.Timestamp, false
			}
			if time.Duration(pk.Timestamp-t0)*time.Millisecond > dur {
				return p.Report(), nil
			}
		}
		p.Add(tag.Type, tag.Timestamp, tag.Data)
	}
}
