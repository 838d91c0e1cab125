package main

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	rtmp "github.com/ertmp/rtmp"
)

// A real AVC configuration (320x180 High) and AAC config, so servers that
// parse sequence headers accept the synthetic stream.
var (
	benchAVCConfig, _ = hex.DecodeString("0164000cffe1001a6764000cacd941419f9f011000000300100000030320f142996001000468efbcb0fdf8f800")
	benchAACConfig, _ = hex.DecodeString("120856e500")
)

// benchResult is what ertmp bench reports (-json prints it).
type benchResult struct {
	URL              string   `json:"url"`
	Players          int      `json:"players"`
	Connected        int      `json:"connected"`
	DurationSec      float64  `json:"duration_s"`
	PublishedMbps    float64  `json:"published_mbps"`
	DeliveredMbps    float64  `json:"delivered_mbps"`
	PacketsSent      int64    `json:"packets_sent"`
	MinReceivedRatio float64  `json:"min_received_ratio"`
	MaxLagMs         float64  `json:"max_lag_ms"`
	Errors           []string `json:"errors,omitempty"`
	// Server CPU, when -server-pid is given: seconds of CPU, and per Gbit
	// delivered.
	ServerCPUSec     float64 `json:"server_cpu_s,omitempty"`
	ServerCPUPerGbit float64 `json:"server_cpu_s_per_gbit,omitempty"`
}

func benchCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	players := fs.Int("players", 10, "number of players")
	dur := fs.Duration("t", 10*time.Second, "how long to publish")
	bitrate := fs.Float64("mbps", 2, "video bitrate of the synthetic stream, Mbit/s")
	fps := fs.Int("fps", 25, "video frames per second")
	gop := fs.Duration("gop", 2*time.Second, "key frame interval")
	pid := fs.Int("server-pid", 0, "PID of the server process, to report its CPU per delivered Gbit (Linux)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: ertmp bench [flags] rtmp://host[:port]/app/stream\n\nPublishes a synthetic H.264/AAC stream in real time to a server, plays it with\n-players players at once, and reports delivered throughput, loss and lag.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 || *players < 1 || *fps < 1 || *bitrate <= 0 {
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := runBench(ctx, fs.Arg(0), *players, *dur, *bitrate, *fps, *gop, *pid)
	if err != nil {
		fmt.Fprintf(stderr, "ertmp bench: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		fmt.Fprintf(stdout, "%s: %d/%d players connected for %.1f s\n", res.URL, res.Connected, res.Players, res.DurationSec)
		fmt.Fprintf(stdout, "published %.2f Mbit/s, delivered %.2f Mbit/s in all; the slowest player got %.1f%% of %d packets; max lag %.0f ms\n",
			res.PublishedMbps, res.DeliveredMbps, 100*res.MinReceivedRatio, res.PacketsSent, res.MaxLagMs)
		if res.ServerCPUSec > 0 {
			fmt.Fprintf(stdout, "server CPU %.2f s, %.2f s per delivered Gbit\n", res.ServerCPUSec, res.ServerCPUPerGbit)
		}
		for _, e := range res.Errors {
			fmt.Fprintf(stdout, "error: %s\n", e)
		}
	}
	return 0
}

type benchPlayer struct {
	packets atomic.Int64
	bytes   atomic.Int64
	lagNs   atomic.Int64 // the worst lag seen
}

func runBench(ctx context.Context, url string, nplayers int, dur time.Duration, mbps float64, fps int, gop time.Duration, pid int) (*benchResult, error) {
	res := &benchResult{URL: url, Players: nplayers}
	pub, err := rtmp.DialPublish(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	defer pub.Close()
	start := time.Now()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		players = make([]*benchPlayer, nplayers)
	)
	playCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := range players {
		players[i] = &benchPlayer{}
		wg.Add(1)
		go func(bp *benchPlayer) {
			defer wg.Done()
			dctx, dcancel := context.WithTimeout(playCtx, 10*time.Second)
			pl, err := rtmp.DialPlay(dctx, url, nil)
			dcancel()
			if err != nil {
				mu.Lock()
				res.Errors = append(res.Errors, err.Error())
				mu.Unlock()
				return
			}
			mu.Lock()
			res.Connected++
			mu.Unlock()
			go func() { <-playCtx.Done(); pl.Conn().Close() }()
			for {
				pk, err := pl.ReadPacket()
				if err != nil {
					return
				}
				if !pk.IsMedia() {
					continue
				}
				bp.packets.Add(1)
				bp.bytes.Add(int64(len(pk.Payload)))
				lag := time.Since(start.Add(time.Duration(pk.Timestamp) * time.Millisecond))
				for {
					old := bp.lagNs.Load()
					if int64(lag) <= old || bp.lagNs.CompareAndSwap(old, int64(lag)) {
						break
					}
				}
			}
		}(players[i])
	}
	// Let the players connect, then publish in real time.
	time.Sleep(500 * time.Millisecond)
	cpu0 := processCPU(pid)
	start = time.Now()
	sent, sentBytes, err := benchPublish(ctx, pub, start, dur, mbps, fps, gop)
	if err != nil {
		res.Errors = append(res.Errors, "publisher: "+err.Error())
	}
	time.Sleep(500 * time.Millisecond) // the last packets in flight
	elapsed := time.Since(start).Seconds()
	cpu1 := processCPU(pid)
	cancel()
	wg.Wait()
	res.DurationSec = elapsed
	res.PacketsSent = sent
	res.PublishedMbps = float64(sentBytes) * 8 / elapsed / 1e6
	res.MinReceivedRatio = 1
	var total int64
	for _, bp := range players {
		total += bp.bytes.Load()
		if sent > 0 {
			res.MinReceivedRatio = min(res.MinReceivedRatio, float64(bp.packets.Load())/float64(sent))
		}
		res.MaxLagMs = max(res.MaxLagMs, float64(bp.lagNs.Load())/1e6)
	}
	res.DeliveredMbps = float64(total) * 8 / elapsed / 1e6
	if pid > 0 && cpu1 > cpu0 && total > 0 {
		res.ServerCPUSec = cpu1 - cpu0
		res.ServerCPUPerGbit = res.ServerCPUSec / (float64(total) * 8 / 1e9)
	}
	sort.Strings(res.Errors)
	return res, nil
}

// benchPublish sends the synthetic stream until dur: sequence headers,
// then video frames of the bitrate's size (a key frame per gop) and AAC
// frames every 23 ms.
func benchPublish(ctx context.Context, pub *rtmp.Publisher, start time.Time, dur time.Duration, mbps float64, fps int, gop time.Duration) (int64, int64, error) {
	if err := pub.WriteAVCSequenceHeader(0, benchAVCConfig); err != nil {
		return 0, 0, err
	}
	if err := pub.WriteAACSequenceHeader(0, benchAACConfig); err != nil {
		return 0, 0, err
	}
	frameBytes := int(mbps * 1e6 / 8 / float64(fps))
	frame := make([]byte, max(frameBytes, 8))
	for i := range frame {
		frame[i] = byte(i * 31)
	}
	aac := make([]byte, 200)
	var sent, bytes int64
	frameDur := time.Second / time.Duration(fps)
	keyEvery := max(int(gop/frameDur), 1)
	nextAudio := time.Duration(0)
	for n := 0; ; n++ {
		at := time.Duration(n) * frameDur
		if at >= dur {
			return sent, bytes, nil
		}
		for nextAudio <= at {
			if err := pub.WriteAAC(uint32(nextAudio/time.Millisecond), aac); err != nil {
				return sent, bytes, err
			}
			sent++
			bytes += int64(len(aac))
			nextAudio += 23 * time.Millisecond
		}
		// AVCC: one NAL unit of the frame's size.
		nal := frame
		binary.BigEndian.PutUint32(nal, uint32(len(nal)-4))
		if err := pub.WriteAVC(uint32(at/time.Millisecond), n%keyEvery == 0, 0, nal); err != nil {
			return sent, bytes, err
		}
		sent++
		bytes += int64(len(nal))
		select {
		case <-ctx.Done():
			return sent, bytes, nil
		case <-time.After(time.Until(start.Add(at + frameDur))):
		}
	}
}

// processCPU returns a process's user+system CPU seconds from /proc, or 0.
func processCPU(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the ")" that ends the command name: utime is the 12th
	// and stime the 13th there (14 and 15 in proc(5) numbering).
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ, 100 on Linux
}
