package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// A real AVC configuration (320x180 High) and AAC config, so servers that
// parse sequence headers accept the synthetic stream.
var (
	benchAVCConfig, _ = hex.DecodeString("0164000cffe1001a6764000cacd941419f9f011000000300100000030320f142996001000468efbcb0fdf8f800")
	benchAACConfig, _ = hex.DecodeString("120856e500")
)

// benchResult is what ertmp bench reports for one server (-json prints
// a list, one per URL).
type benchResult struct {
	URL              string  `json:"url"`
	Publishers       int     `json:"publishers"`
	Players          int     `json:"players"`
	Connected        int     `json:"connected"`
	DurationSec      float64 `json:"duration_s"`
	PublishedMbps    float64 `json:"published_mbps"`
	DeliveredMbps    float64 `json:"delivered_mbps"`
	PacketsSent      int64   `json:"packets_sent"`
	MinReceivedRatio float64 `json:"min_received_ratio"`
	MaxLagMs         float64 `json:"max_lag_ms"`
	FirstKeyP50Ms    float64 `json:"first_key_p50_ms,omitempty"`
	FirstKeyP99Ms    float64 `json:"first_key_p99_ms,omitempty"`
	PlayStartP50Ms   float64 `json:"play_start_p50_ms,omitempty"`
	// Late joiners (-late): the players of a second bench process, one
	// whose client is not loaded, that join a stream of their own halfway
	// through the steady part of the run, while this load goes on.
	LatePlayers       int      `json:"late_players,omitempty"`
	LateFirstKeyP50Ms float64  `json:"late_first_key_p50_ms,omitempty"`
	LateFirstKeyP99Ms float64  `json:"late_first_key_p99_ms,omitempty"`
	Errors            []string `json:"errors,omitempty"`
	// Server figures, when -server-pid is given: seconds of CPU, per Gbit
	// delivered to players and per Gbit ingested from publishers, and its
	// resident memory at the end and at its peak.
	ServerCPUSec           float64 `json:"server_cpu_s,omitempty"`
	ServerCPUPerGbit       float64 `json:"server_cpu_s_per_gbit,omitempty"`
	ServerCPUPerIngestGbit float64 `json:"server_cpu_s_per_ingest_gbit,omitempty"`
	ServerRSSMB            float64 `json:"server_rss_mb,omitempty"`
	ServerPeakRSSMB        float64 `json:"server_peak_rss_mb,omitempty"`
}

// benchSpec is the load of one run.
type benchSpec struct {
	publishers, players int
	dur                 time.Duration
	mbps                float64
	fps                 int
	gop                 time.Duration
	joinAfter           time.Duration
	late                int
}

const benchUsage = `usage: ertmp bench [flags] URL [URL...]

Publishes synthetic H.264/AAC streams in real time to a server (rtmp://host/app/stream;
with -publishers N > 1 the streams are stream-0 ... stream-N-1), plays them with
-players players at once (spread over the streams), and reports delivered
throughput, loss, lag, time to the first key frame, and with -server-pid the
server's CPU per delivered and per ingested Gbit and its memory.

With several URLs (and as many comma-separated PIDs), the same load runs
against each server in turn and the ratios of their figures are printed:
ertmp serve against nginx-rtmp in one run.

With players, a short warm-up (-warmup, on a stream of its own, results
discarded) runs against each URL first: a client that has just started is
slower for its first seconds (its heap and threads grow), which would
otherwise count against whichever server comes first.

With -late N, halfway through the run a second bench process (this program
again) publishes a stream of its own and has N players join it: their time to
the first key frame is the server's under the run's load, apart from the
queueing of a client that reads thousands of streams itself. Their traffic is
not in the run's delivered figures; the server's CPU includes what they cost.

A URL ending in #flv=http://HOST:PORT has its players watch over HTTP-FLV
(http://HOST:PORT/APP/STREAM.flv) while publishers use RTMP: HTTP-FLV viewers
against RTMP players of the same server in one run.

  fan-out:  ertmp bench -players 500 -mbps 3 -server-pid PID rtmp://127.0.0.1/live/b
  ingest:   ertmp bench -publishers 200 -players 0 -mbps 3 -server-pid PID rtmp://127.0.0.1/live/in
  compare:  ertmp bench -players 500 -server-pid P1,P2 rtmp://127.0.0.1:1935/live/b rtmp://127.0.0.1:1936/live/b
  late:     ertmp bench -players 1500 -join-after 3s -t 20s -late 20 -server-pid PID rtmp://127.0.0.1/live/b
  HTTP-FLV: ertmp bench -players 100 -server-pid P,P rtmp://127.0.0.1/live/b 'rtmp://127.0.0.1/live/c#flv=http://127.0.0.1:8080'

`

func benchCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sp benchSpec
	fs.IntVar(&sp.players, "players", 10, "number of players (0: ingest only)")
	fs.IntVar(&sp.publishers, "publishers", 1, "number of publishers, one stream each")
	fs.DurationVar(&sp.dur, "t", 10*time.Second, "how long to publish")
	fs.Float64Var(&sp.mbps, "mbps", 2, "video bitrate of each synthetic stream, Mbit/s")
	fs.IntVar(&sp.fps, "fps", 25, "video frames per second")
	fs.DurationVar(&sp.gop, "gop", 2*time.Second, "key frame interval")
	fs.DurationVar(&sp.joinAfter, "join-after", 0, "players join this long after publishing started, spread over a second (0: before it starts)")
	fs.IntVar(&sp.late, "late", 0, "with players: this many late joiners from a second bench process, halfway through the run (0: none)")
	warmup := fs.Duration("warmup", 2*time.Second, "with players: a warm-up run this long against each URL first, not measured (0: none)")
	pids := fs.String("server-pid", "", "PID of each server process (comma-separated, one per URL), to report its CPU and memory (Linux)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	urls := fs.Args()
	var pidList []int
	if *pids != "" {
		for _, p := range strings.Split(*pids, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				fmt.Fprintf(stderr, "ertmp bench: -server-pid %q: %v\n", *pids, err)
				return 2
			}
			pidList = append(pidList, n)
		}
	}
	if len(urls) == 0 || sp.players < 0 || sp.publishers < 1 || sp.fps < 1 || sp.mbps <= 0 || sp.late < 0 || (len(pidList) > 0 && len(pidList) != len(urls)) {
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *warmup > 0 && sp.players > 0 {
		// Players join a quarter in, over a second, as in the measured run
		// with -join-after: the join burst is what a cold client is slow at.
		ws := sp
		ws.dur, ws.joinAfter, ws.late = *warmup, *warmup/4, 0
		for _, u := range urls {
			fmt.Fprintf(stderr, "ertmp bench: warm-up: %s, %v\n", u, *warmup)
			wu, err := sideURL(u, "-warmup")
			if err != nil {
				fmt.Fprintf(stderr, "ertmp bench: %s: %v\n", u, err)
				return 1
			}
			if _, err := runBench(ctx, wu, ws, 0, io.Discard); err != nil {
				fmt.Fprintf(stderr, "ertmp bench: warm-up: %s: %v\n", u, err)
				return 1
			}
		}
	}
	var results []*benchResult
	for i, u := range urls {
		pid := 0
		if len(pidList) > 0 {
			pid = pidList[i]
		}
		if len(urls) > 1 {
			fmt.Fprintf(stderr, "ertmp bench: %d/%d: %s\n", i+1, len(urls), u)
		}
		res, err := runBench(ctx, u, sp, pid, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "ertmp bench: %s: %v\n", u, err)
			return 1
		}
		results = append(results, res)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if len(results) == 1 {
			enc.Encode(results[0])
		} else {
			enc.Encode(results)
		}
		return 0
	}
	for _, res := range results {
		printBench(stdout, res)
	}
	for _, res := range results[1:] {
		a := results[0]
		ratio := func(x, y float64) string {
			if y == 0 {
				return "-"
			}
			return strconv.FormatFloat(x/y, 'f', 2, 64)
		}
		fmt.Fprintf(stdout, "%s / %s: CPU per delivered Gbit %s, per ingested Gbit %s, peak RSS %s\n", a.URL, res.URL,
			ratio(a.ServerCPUPerGbit, res.ServerCPUPerGbit), ratio(a.ServerCPUPerIngestGbit, res.ServerCPUPerIngestGbit), ratio(a.ServerPeakRSSMB, res.ServerPeakRSSMB))
	}
	return 0
}

func printBench(w io.Writer, res *benchResult) {
	fmt.Fprintf(w, "%s: %d publishers, %d/%d players connected for %.1f s\n", res.URL, res.Publishers, res.Connected, res.Players, res.DurationSec)
	fmt.Fprintf(w, "published %.2f Mbit/s, delivered %.2f Mbit/s in all; the slowest player got %.1f%% of its packets (%d sent); max lag %.0f ms\n",
		res.PublishedMbps, res.DeliveredMbps, 100*res.MinReceivedRatio, res.PacketsSent, res.MaxLagMs)
	if res.FirstKeyP50Ms > 0 {
		fmt.Fprintf(w, "first key frame after dialling: p50 %.1f ms, p99 %.1f ms (playing after p50 %.1f ms: connection, handshake, connect, play)\n",
			res.FirstKeyP50Ms, res.FirstKeyP99Ms, res.PlayStartP50Ms)
	}
	if res.LatePlayers > 0 {
		fmt.Fprintf(w, "late joiners (%d, from a second process, halfway through): first key frame p50 %.1f ms, p99 %.1f ms\n",
			res.LatePlayers, res.LateFirstKeyP50Ms, res.LateFirstKeyP99Ms)
	}
	if res.ServerCPUSec > 0 {
		fmt.Fprintf(w, "server CPU %.2f s: %.3f s per delivered Gbit, %.3f s per ingested Gbit; RSS %.1f MB (peak %.1f MB)\n",
			res.ServerCPUSec, res.ServerCPUPerGbit, res.ServerCPUPerIngestGbit, res.ServerRSSMB, res.ServerPeakRSSMB)
	}
	for _, e := range res.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

type benchPlayer struct {
	stream   int
	packets  atomic.Int64
	bytes    atomic.Int64
	lagNs    atomic.Int64 // the worst lag seen
	firstTS  atomic.Int64 // timestamp of the first packet, +1 (0: none yet)
	firstKey atomic.Int64 // ns from dialling to the first key frame
	playing  atomic.Int64 // ns from dialling to the play's start (RTMP) or the response (HTTP-FLV)
}

// benchStream is one published stream: its URL, the HTTP-FLV URL its
// players use instead of RTMP when set, and the timestamps sent.
type benchStream struct {
	url, flv string
	mu       sync.Mutex
	sent     []uint32
}

// splitBenchURL splits URL#flv=BASE into the RTMP URL and the HTTP base.
func splitBenchURL(u string) (rtmpURL, flvBase string, err error) {
	rtmpURL, frag, ok := strings.Cut(u, "#")
	if !ok {
		return u, "", nil
	}
	base, ok := strings.CutPrefix(frag, "flv=")
	if !ok || !(strings.HasPrefix(base, "http://") || strings.HasPrefix(base, "https://")) {
		return "", "", fmt.Errorf("%q: want URL#flv=http://HOST:PORT", u)
	}
	return rtmpURL, strings.TrimSuffix(base, "/"), nil
}

// sideURL names a stream beside the URL's (the warm-up's, the late
// joiners'): its name with suffix after it, before its query and #flv=
// suffix.
func sideURL(u, suffix string) (string, error) {
	rtmpURL, flvBase, err := splitBenchURL(u)
	if err != nil {
		return "", err
	}
	out := suffixStream(rtmpURL, suffix)
	if flvBase != "" {
		out += "#flv=" + flvBase
	}
	return out, nil
}

// flvURL is the HTTP-FLV URL of an RTMP stream URL under base.
func flvURL(base, rtmpURL string) (string, error) {
	u, err := neturl.Parse(rtmpURL)
	if err != nil {
		return "", err
	}
	out := base + u.Path + ".flv"
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out, nil
}

// benchReader is a player's source of packets: an RTMP player, or an
// HTTP-FLV body read tag by tag.
type benchReader interface {
	ReadPacket() (rtmp.Packet, error)
	Close() error
}

// rtmpPlayer's Close closes the connection at once: the run is over.
type rtmpPlayer struct{ *rtmp.Player }

func (p rtmpPlayer) Close() error { return p.Conn().Close() }

type flvPlayer struct {
	body io.ReadCloser
	r    *flv.Reader
}

func (p *flvPlayer) ReadPacket() (rtmp.Packet, error) {
	t, err := p.r.ReadTag()
	if err != nil {
		return rtmp.Packet{}, err
	}
	return rtmp.Packet{Type: message.Type(t.Type), Timestamp: t.Timestamp, Payload: t.Data}, nil
}

func (p *flvPlayer) Close() error { return p.body.Close() }

// dialBenchPlayer starts a player of st: over HTTP-FLV when st.flv is set.
func dialBenchPlayer(ctx, life context.Context, st *benchStream) (benchReader, error) {
	if st.flv == "" {
		pl, err := rtmp.DialPlay(ctx, st.url, nil)
		if err != nil {
			return nil, err
		}
		return rtmpPlayer{pl}, nil
	}
	req, err := http.NewRequestWithContext(life, http.MethodGet, st.flv, nil)
	if err != nil {
		return nil, err
	}
	resp, err := benchHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", st.flv, resp.Status)
	}
	return &flvPlayer{body: resp.Body, r: flv.NewReader(bufio.NewReaderSize(resp.Body, 64<<10))}, nil
}

// benchHTTP keeps no idle connections: each viewer has its own.
var benchHTTP = &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, DisableKeepAlives: true, DisableCompression: true}}

// sentSince counts the packets sent at or after ts.
func (s *benchStream) sentSince(ts uint32) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.sent), func(i int) bool { return s.sent[i] >= ts })
	return int64(len(s.sent) - i)
}

// streamURL names stream i of n.
func streamURL(u string, i, n int) string {
	if n == 1 {
		return u
	}
	return suffixStream(u, "-"+strconv.Itoa(i))
}

// suffixStream appends suffix to the stream name of u, before its query.
func suffixStream(u, suffix string) string {
	base, q, _ := strings.Cut(u, "?")
	if q != "" {
		return base + suffix + "?" + q
	}
	return base + suffix
}

func runBench(ctx context.Context, url string, sp benchSpec, pid int, progress io.Writer) (*benchResult, error) {
	res := &benchResult{URL: url, Players: sp.players, Publishers: sp.publishers}
	streams := make([]*benchStream, sp.publishers)
	pubs := make([]*rtmp.Publisher, sp.publishers)
	url, flvBase, err := splitBenchURL(url)
	if err != nil {
		return nil, err
	}
	for i := range streams {
		streams[i] = &benchStream{url: streamURL(url, i, sp.publishers)}
		if flvBase != "" {
			if streams[i].flv, err = flvURL(flvBase, streams[i].url); err != nil {
				return nil, err
			}
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		pub, err := rtmp.DialPublish(dctx, streams[i].url, nil)
		cancel()
		if err != nil {
			for _, p := range pubs[:i] {
				p.Close()
			}
			return nil, fmt.Errorf("publisher %d: %w", i, err)
		}
		pubs[i] = pub
	}
	defer func() {
		for _, p := range pubs {
			p.Close()
		}
	}()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		players = make([]*benchPlayer, sp.players)
		start   time.Time
		started = make(chan struct{})
	)
	playCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	play := func(bp *benchPlayer, delay time.Duration) {
		defer wg.Done()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-playCtx.Done():
				return
			}
		}
		t0 := time.Now()
		dctx, dcancel := context.WithTimeout(playCtx, 10*time.Second)
		pl, err := dialBenchPlayer(dctx, playCtx, streams[bp.stream])
		bp.playing.Store(int64(time.Since(t0)))
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
		go func() { <-playCtx.Done(); pl.Close() }()
		<-started
		for {
			pk, err := pl.ReadPacket()
			if err != nil {
				return
			}
			if !pk.IsMedia() {
				continue
			}
			if bp.firstTS.Load() == 0 {
				bp.firstTS.Store(int64(pk.Timestamp) + 1)
			}
			if bp.firstKey.Load() == 0 && pk.Type == message.TypeVideo && pk.IsKeyFrame() {
				bp.firstKey.Store(int64(time.Since(t0)))
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
	}
	for i := range players {
		players[i] = &benchPlayer{stream: i % sp.publishers}
		wg.Add(1)
		delay := time.Duration(0)
		if sp.joinAfter > 0 {
			delay = sp.joinAfter + time.Duration(i)*time.Second/time.Duration(len(players))
		}
		go play(players[i], delay)
	}
	if sp.joinAfter == 0 && sp.players > 0 {
		// Let the players connect first: they get every packet.
		time.Sleep(500 * time.Millisecond)
	}
	cpu0 := processCPU(pid)
	start = time.Now()
	close(started)
	var (
		pwg             sync.WaitGroup
		sent, sentBytes atomic.Int64
		perr            error
		progressTick    = time.NewTicker(time.Second)
		publishing      = make(chan struct{})
	)
	defer progressTick.Stop()
	for i, pub := range pubs {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			n, b, err := benchPublish(ctx, pub, streams[i], start, sp)
			sent.Add(n)
			sentBytes.Add(b)
			if err != nil {
				mu.Lock()
				perr = err
				mu.Unlock()
			}
		}()
	}
	go func() { pwg.Wait(); close(publishing) }()
	var lwg sync.WaitGroup
	if sp.late > 0 && sp.players > 0 {
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			late, err := runLate(ctx, res.URL, sp, start)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Errors = append(res.Errors, "late joiners: "+err.Error())
				return
			}
			res.LatePlayers, res.LateFirstKeyP50Ms, res.LateFirstKeyP99Ms = late.Connected, late.FirstKeyP50Ms, late.FirstKeyP99Ms
		}()
	}
	for done := false; !done; {
		select {
		case <-publishing:
			done = true
		case <-progressTick.C:
			var got int64
			for _, bp := range players {
				got += bp.bytes.Load()
			}
			mu.Lock()
			conn := res.Connected
			mu.Unlock()
			fmt.Fprintf(progress, "ertmp bench: %4.0f s: %d players, %.1f Mbit/s delivered so far\n",
				time.Since(start).Seconds(), conn, float64(got)*8/time.Since(start).Seconds()/1e6)
		}
	}
	lwg.Wait() // the late joiners, which write res under mu
	if perr != nil {
		res.Errors = append(res.Errors, "publisher: "+perr.Error())
	}
	time.Sleep(500 * time.Millisecond) // the last packets in flight
	elapsed := time.Since(start).Seconds()
	cpu1 := processCPU(pid)
	res.ServerRSSMB, res.ServerPeakRSSMB = processRSS(pid)
	cancel()
	wg.Wait()
	res.DurationSec = elapsed
	res.PacketsSent = sent.Load()
	res.PublishedMbps = float64(sentBytes.Load()) * 8 / elapsed / 1e6
	res.MinReceivedRatio = 1
	var total int64
	var firstKeys, playing []float64
	for _, bp := range players {
		total += bp.bytes.Load()
		if f := bp.firstTS.Load(); f > 0 {
			if want := streams[bp.stream].sentSince(uint32(f - 1)); want > 0 {
				res.MinReceivedRatio = min(res.MinReceivedRatio, float64(bp.packets.Load())/float64(want))
			}
		} else {
			res.MinReceivedRatio = 0
		}
		if k := bp.firstKey.Load(); k > 0 {
			firstKeys = append(firstKeys, float64(k)/1e6)
			playing = append(playing, float64(bp.playing.Load())/1e6)
		}
		res.MaxLagMs = max(res.MaxLagMs, float64(bp.lagNs.Load())/1e6)
	}
	if len(firstKeys) > 0 {
		sort.Float64s(firstKeys)
		res.FirstKeyP50Ms = firstKeys[len(firstKeys)/2]
		res.FirstKeyP99Ms = firstKeys[min(len(firstKeys)-1, len(firstKeys)*99/100)]
		sort.Float64s(playing)
		res.PlayStartP50Ms = playing[len(playing)/2]
	}
	res.DeliveredMbps = float64(total) * 8 / elapsed / 1e6
	if pid > 0 && cpu1 > cpu0 {
		res.ServerCPUSec = cpu1 - cpu0
		if total > 0 {
			res.ServerCPUPerGbit = res.ServerCPUSec / (float64(total) * 8 / 1e9)
		}
		if b := sentBytes.Load(); b > 0 {
			res.ServerCPUPerIngestGbit = res.ServerCPUSec / (float64(b) * 8 / 1e9)
		}
	}
	sort.Strings(res.Errors)
	return res, nil
}

// runLate runs the late joiners: a second bench process, whose client
// is not the loaded one, publishes a stream of its own beside u's and has
// sp.late players join it, halfway through the steady part of the run
// that began at start (after the main players' join). Its players' time
// to the first key frame is the server's, under this run's load, without
// the queueing of a client process that reads thousands of streams.
func runLate(ctx context.Context, u string, sp benchSpec, start time.Time) (*benchResult, error) {
	// Its publisher's run: its players join after 1 s, and a server that
	// keeps no GOP makes them wait up to a GOP for a key frame.
	lateRun := 2*time.Second + 2*sp.gop
	joined := max(sp.joinAfter+time.Second, 0)
	at := max(joined, (joined+sp.dur-lateRun)/2)
	select {
	case <-time.After(time.Until(start.Add(at))):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	lu, err := sideURL(u, "-late")
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable() // this program, run with "bench"
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "-json", "-warmup", "0", "-publishers", "1", "-players", strconv.Itoa(sp.late),
		"-mbps", strconv.FormatFloat(sp.mbps, 'f', -1, 64), "-fps", strconv.Itoa(sp.fps), "-gop", sp.gop.String(),
		"-t", lateRun.String(), "-join-after", "1s", lu)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var r benchResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("its output: %v", err)
	}
	if r.Connected < sp.late || len(r.Errors) > 0 {
		err := fmt.Errorf("%d/%d connected", r.Connected, sp.late)
		if len(r.Errors) > 0 {
			err = fmt.Errorf("%w; %d errors, the first: %s", err, len(r.Errors), r.Errors[0])
		}
		return nil, err
	}
	return &r, nil
}

// processRSS returns a process's resident memory now and at its peak, in
// MB, from /proc (VmRSS, VmHWM), or zeros.
func processRSS(pid int) (now, peak float64) {
	if pid <= 0 {
		return 0, 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[0], 64)
		switch k {
		case "VmRSS":
			now = kb / 1024
		case "VmHWM":
			peak = kb / 1024
		}
	}
	return now, peak
}

// benchPublish sends the synthetic stream until dur: sequence headers,
// then video frames of the bitrate's size (a key frame per gop) and AAC
// frames every 23 ms.
func benchPublish(ctx context.Context, pub *rtmp.Publisher, st *benchStream, start time.Time, sp benchSpec) (int64, int64, error) {
	dur, mbps, fps, gop := sp.dur, sp.mbps, sp.fps, sp.gop
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
			st.record(uint32(nextAudio / time.Millisecond))
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
		st.record(uint32(at / time.Millisecond))
		select {
		case <-ctx.Done():
			return sent, bytes, nil
		case <-time.After(time.Until(start.Add(at + frameDur))):
		}
	}
}

// record notes a packet sent at ts (sent in time order per stream, audio
// and video interleaved, so nearly sorted).
func (s *benchStream) record(ts uint32) {
	s.mu.Lock()
	i := len(s.sent)
	for i > 0 && s.sent[i-1] > ts {
		i--
	}
	s.sent = slices.Insert(s.sent, i, ts)
	s.mu.Unlock()
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
