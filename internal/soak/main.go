// Command soak loads a running `ertmp serve` for a while (publisher churn,
// waves of players, bursts of hostile clients), samples the server's
// resident memory, descriptors and goroutines into a CSV, and exits
// non-zero if they grew: the last samples after the load stopped are
// compared with the first ones before it began. scripts/soak builds and
// starts the server and runs it; it is not part of the test suite.
//
//	soak -rtmp 127.0.0.1:1935 -metrics http://127.0.0.1:8080/metrics -pid N -duration 30m -csv soak.csv
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

type options struct {
	rtmp, metrics, csv string
	pid                int
	duration, settle   time.Duration
	interval           time.Duration
	publishers         int
	wave               int
	rssSlack           int64 // bytes
	fdSlack, goSlack   int
}

func main() {
	var o options
	flag.StringVar(&o.rtmp, "rtmp", "127.0.0.1:1935", "the server's RTMP `address`")
	flag.StringVar(&o.metrics, "metrics", "http://127.0.0.1:8080/metrics", "the server's /metrics `URL`")
	flag.IntVar(&o.pid, "pid", 0, "the server's process id (for /proc)")
	flag.StringVar(&o.csv, "csv", "soak.csv", "where the samples go")
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "how long the load runs")
	flag.DurationVar(&o.settle, "settle", 60*time.Second, "how long to sample after the load stops")
	flag.DurationVar(&o.interval, "interval", time.Second, "time between samples")
	flag.IntVar(&o.publishers, "publishers", 6, "publishers at once (each replaced after 5 to 20 s)")
	flag.IntVar(&o.wave, "wave", 20, "players per wave (a wave every 10 s, each player staying 3 to 12 s)")
	rss := flag.Int("rss-slack", 48, "allowed growth of resident memory, `MiB`")
	flag.IntVar(&o.fdSlack, "fd-slack", 8, "allowed growth of open descriptors")
	flag.IntVar(&o.goSlack, "goroutine-slack", 16, "allowed growth of goroutines")
	flag.Parse()
	o.rssSlack = int64(*rss) << 20
	if o.pid == 0 {
		fmt.Fprintln(os.Stderr, "soak: -pid is required")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// sample is one row of the CSV.
type sample struct {
	at         time.Duration
	phase      string
	rss        int64 // bytes, /proc/PID/status VmRSS
	fds        int   // /proc/PID/fd
	goroutines int   // go_goroutines
	budgetUsed int64 // ertmp_memory_used_bytes
	sessions   int64 // publish and play sessions the load has open
	errors     int64 // load-side failures of legitimate clients
}

func run(o options) error {
	f, err := os.Create(o.csv)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write([]string{"seconds", "phase", "rss_bytes", "fds", "goroutines", "budget_used_bytes", "load_sessions", "load_errors"})
	start := time.Now()
	var open, failures atomic.Int64
	var samples []sample
	take := func(phase string) error {
		s, err := measure(o)
		if err != nil {
			return err
		}
		s.at, s.phase, s.sessions, s.errors = time.Since(start), phase, open.Load(), failures.Load()
		samples = append(samples, s)
		w.Write([]string{strconv.FormatFloat(s.at.Seconds(), 'f', 1, 64), s.phase, strconv.FormatInt(s.rss, 10), strconv.Itoa(s.fds),
			strconv.Itoa(s.goroutines), strconv.FormatInt(s.budgetUsed, 10), strconv.FormatInt(s.sessions, 10), strconv.FormatInt(s.errors, 10)})
		w.Flush()
		return w.Error()
	}
	// The baseline: the idle server, a few samples.
	for range 5 {
		if err := take("before"); err != nil {
			return err
		}
		time.Sleep(o.interval)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	l := &load{o: o, ctx: ctx, open: &open, failures: &failures}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); l.publishers() }()
	go func() { defer wg.Done(); l.waves() }()
	go func() { defer wg.Done(); l.hostile() }()
	tick := time.NewTicker(o.interval)
	lastLog := time.Now()
	for ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
		if err := take("load"); err != nil {
			cancel()
			wg.Wait()
			return err
		}
		if time.Since(lastLog) >= 30*time.Second {
			s := samples[len(samples)-1]
			fmt.Printf("soak: %v: rss %d MiB, fds %d, goroutines %d, budget %d MiB, load sessions %d, hostile bursts %d, errors %d\n",
				s.at.Round(time.Second), s.rss>>20, s.fds, s.goroutines, s.budgetUsed>>20, s.sessions, l.bursts.Load(), s.errors)
			lastLog = time.Now()
		}
	}
	cancel()
	wg.Wait()
	fmt.Printf("soak: load stopped after %v; sampling %v more\n", time.Since(start).Round(time.Second), o.settle)
	end := time.Now().Add(o.settle)
	for time.Now().Before(end) {
		<-tick.C
		if err := take("after"); err != nil {
			return err
		}
	}
	return verdict(o, samples, l)
}

// verdict compares the last samples after the load with the baseline.
func verdict(o options, samples []sample, l *load) error {
	var before, after []sample
	var peak sample
	for _, s := range samples {
		switch s.phase {
		case "before":
			before = append(before, s)
		case "after":
			after = append(after, s)
		}
		if s.rss > peak.rss {
			peak = s
		}
	}
	if len(after) > 10 {
		after = after[len(after)-10:]
	}
	if len(before) == 0 || len(after) == 0 {
		return errors.New("too few samples")
	}
	b, a := minOf(before), minOf(after)
	fmt.Printf("soak: %d samples; hostile bursts %d, publishers %d, players %d, legitimate failures %d\n",
		len(samples), l.bursts.Load(), l.pubs.Load(), l.players.Load(), l.failures.Load())
	fmt.Printf("soak: rss      before %6d KiB  peak %6d KiB  after %6d KiB\n", b.rss>>10, peak.rss>>10, a.rss>>10)
	fmt.Printf("soak: fds      before %6d      after %6d\n", b.fds, a.fds)
	fmt.Printf("soak: goroutines before %4d      after %6d\n", b.goroutines, a.goroutines)
	fmt.Printf("soak: budget   before %6d KiB  after %6d KiB\n", b.budgetUsed>>10, a.budgetUsed>>10)
	var bad []string
	if a.rss > b.rss+o.rssSlack {
		bad = append(bad, fmt.Sprintf("rss grew by %d KiB (slack %d KiB)", (a.rss-b.rss)>>10, o.rssSlack>>10))
	}
	if a.fds > b.fds+o.fdSlack {
		bad = append(bad, fmt.Sprintf("descriptors grew from %d to %d", b.fds, a.fds))
	}
	if a.goroutines > b.goroutines+o.goSlack {
		bad = append(bad, fmt.Sprintf("goroutines grew from %d to %d", b.goroutines, a.goroutines))
	}
	if a.budgetUsed > b.budgetUsed+1<<20 {
		bad = append(bad, fmt.Sprintf("budget still holds %d KiB", a.budgetUsed>>10))
	}
	if n := l.failures.Load(); n > 0 {
		bad = append(bad, fmt.Sprintf("%d legitimate clients failed (first: %v)", n, l.firstErr.Load()))
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	fmt.Println("soak: no growth")
	return nil
}

// minOf takes the smallest of each figure: a figure that grew stays high
// in every sample, a passing spike does not.
func minOf(ss []sample) sample {
	m := ss[0]
	for _, s := range ss[1:] {
		m.rss = min(m.rss, s.rss)
		m.fds = min(m.fds, s.fds)
		m.goroutines = min(m.goroutines, s.goroutines)
		m.budgetUsed = min(m.budgetUsed, s.budgetUsed)
	}
	return m
}

func measure(o options) (sample, error) {
	var s sample
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", o.pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			s.rss = kb << 10
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", o.pid))
	if err != nil {
		return s, err
	}
	s.fds = len(fds)
	resp, err := http.Get(o.metrics)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(val, 64)
		switch name {
		case "go_goroutines":
			s.goroutines = int(v)
		case "ertmp_memory_used_bytes":
			s.budgetUsed = int64(v)
		}
	}
	return s, sc.Err()
}

// load drives the clients.
type load struct {
	o        options
	ctx      context.Context
	open     *atomic.Int64
	failures *atomic.Int64
	firstErr atomic.Value
	bursts   atomic.Int64
	pubs     atomic.Int64
	players  atomic.Int64
}

func (l *load) fail(what string, err error) {
	if l.ctx.Err() != nil {
		return // the load is stopping: cut off on purpose
	}
	l.failures.Add(1)
	l.firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %v", what, err))
}

func (l *load) url(name string) string { return "rtmp://" + l.o.rtmp + "/live/" + name }

// sleep waits d or until the load stops; it reports whether to go on.
func (l *load) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.ctx.Done():
		return false
	}
}

func between(lo, hi time.Duration) time.Duration { return lo + rand.N(hi-lo) }

// publishers keeps o.publishers streams published, each publisher leaving
// after 5 to 20 s and a new one taking its slot (same name).
func (l *load) publishers() {
	var wg sync.WaitGroup
	for i := range l.o.publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l.ctx.Err() == nil {
				l.publishOnce(fmt.Sprintf("s%d", i), between(5*time.Second, 20*time.Second))
				l.sleep(between(100*time.Millisecond, time.Second))
			}
		}()
	}
	wg.Wait()
}

var (
	avcSeq = []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 4, 0x68, 0xee, 0x3c, 0x80}
	aacSeq = []byte{0xaf, 0, 0x12, 0x10}
)

func (l *load) publishOnce(name string, d time.Duration) {
	ctx, cancel := context.WithTimeout(l.ctx, d)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, l.url(name), nil)
	if err != nil {
		l.fail("publish "+name, err)
		return
	}
	l.pubs.Add(1)
	l.open.Add(1)
	defer l.open.Add(-1)
	defer pub.Close()
	pub.WriteMetadata(0, amf0.Object{{Key: "width", Value: 1280.0}, {Key: "height", Value: 720.0}}, false)
	pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Payload: avcSeq})
	pub.WritePacket(rtmp.Packet{Type: message.TypeAudio, Payload: aacSeq})
	key := append([]byte{0x17, 1, 0, 0, 0}, make([]byte, 40<<10)...)
	inter := append([]byte{0x27, 1, 0, 0, 0}, make([]byte, 6<<10)...)
	audio := append([]byte{0xaf, 1}, make([]byte, 300)...)
	start := time.Now()
	for i := 0; ; i++ {
		ts := uint32(i * 33)
		v := inter
		if i%60 == 0 {
			v = key
		}
		err := pub.WritePackets(rtmp.Packet{Type: message.TypeVideo, Timestamp: ts, Payload: v},
			rtmp.Packet{Type: message.TypeAudio, Timestamp: ts, Payload: audio})
		if err != nil {
			if ctx.Err() == nil {
				l.fail("publish "+name, err)
			}
			return
		}
		if !l.sleepCtx(ctx, time.Until(start.Add(time.Duration(i+1)*33*time.Millisecond))) {
			return
		}
	}
}

func (l *load) sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// waves sends o.wave players every 10 s, each to a random stream for 3 to
// 12 s.
func (l *load) waves() {
	var wg sync.WaitGroup
	for l.ctx.Err() == nil {
		for range l.o.wave {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l.playOnce(fmt.Sprintf("s%d", rand.N(l.o.publishers)), between(3*time.Second, 12*time.Second))
			}()
		}
		if !l.sleep(10 * time.Second) {
			break
		}
	}
	wg.Wait()
}

func (l *load) playOnce(name string, d time.Duration) {
	ctx, cancel := context.WithTimeout(l.ctx, d)
	defer cancel()
	pl, err := rtmp.DialPlay(ctx, l.url(name), nil)
	if err != nil {
		// The stream may be between two publishers: that is a refusal,
		// not a failure.
		if ctx.Err() == nil && !strings.Contains(err.Error(), "StreamNotFound") {
			l.fail("play "+name, err)
		}
		return
	}
	l.players.Add(1)
	l.open.Add(1)
	defer l.open.Add(-1)
	go func() {
		<-ctx.Done()
		pl.Close()
	}()
	for {
		if _, err := pl.ReadPacket(); err != nil {
			return // the end of the stream, or of our time
		}
	}
}

// hostile runs a burst of one hostile pattern every 5 to 15 s.
func (l *load) hostile() {
	bursts := []func(){
		l.framesFlood, l.nonReadingPlayers, l.hugeKeyFrames, l.probes, l.longNames, l.ackStorm,
	}
	for i := 0; l.sleep(between(5*time.Second, 15*time.Second)); i++ {
		l.bursts.Add(1)
		bursts[i%len(bursts)]()
	}
}

// rawConn dials and handshakes a hand-driven client.
func (l *load) rawConn(rcvbuf int) (net.Conn, *chunk.Writer, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
		}
	}
	nc, err := d.Dial("tcp", l.o.rtmp)
	if err != nil {
		return nil, nil, err
	}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := handshake.Client(nc, nil); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, chunk.NewWriter(nc), nil
}

func send(w *chunk.Writer, csid, sid uint32, m message.Message) error {
	p, err := m.AppendPayload(nil)
	if err != nil {
		return err
	}
	if err := w.WriteMessage(chunk.Message{CSID: csid, Header: chunk.Header{TypeID: uint8(m.Type()), StreamID: sid}, Payload: p}); err != nil {
		return err
	}
	return w.Flush()
}

func command(name string, tx float64, obj amf0.Value, args ...amf0.Value) message.Command {
	return message.Command{Name: name, TransactionID: tx, Object: obj, Args: args}
}

// framesFlood publishes 200 data frames of 64 KiB under distinct names.
func (l *load) framesFlood() {
	pub, err := rtmp.DialPublish(l.ctx, l.url(fmt.Sprintf("frames%d", rand.N(1000))), nil)
	if err != nil {
		return
	}
	defer pub.Close()
	big := strings.Repeat("x", 64<<10)
	for i := range 200 {
		if pub.WriteData(uint32(i), message.Data{Values: []amf0.Value{message.SetDataFrame, fmt.Sprintf("n%d", i), big}}) != nil {
			return
		}
	}
}

// nonReadingPlayers publishes 256 KB inter frames to two players that
// read nothing, for 4 s.
func (l *load) nonReadingPlayers() {
	name := fmt.Sprintf("flood%d", rand.N(1000))
	pub, err := rtmp.DialPublish(l.ctx, l.url(name), nil)
	if err != nil {
		return
	}
	defer pub.Close()
	pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Payload: []byte{0x17, 1, 0, 0, 0, 1}})
	for range 2 {
		nc, w, err := l.rawConn(4096)
		if err != nil {
			return
		}
		defer nc.Close()
		send(w, 3, 0, command("connect", 1, amf0.Object{{Key: "app", Value: "live"}}))
		send(w, 3, 0, command("createStream", 2, nil))
		send(w, 8, 1, command("play", 3, nil, name))
	}
	frame := make([]byte, 256<<10)
	frame[0] = 0x27
	for i := range 120 {
		if pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: uint32(i * 33), Payload: frame}) != nil {
			return
		}
		if !l.sleep(33 * time.Millisecond) {
			return
		}
	}
}

// hugeKeyFrames sends 16 MiB-1 key frames at chunk size 0x7FFFFFFF.
func (l *load) hugeKeyFrames() {
	pub, err := rtmp.DialPublish(l.ctx, l.url(fmt.Sprintf("huge%d", rand.N(1000))), &rtmp.ClientConfig{ChunkSize: chunk.MaxChunkSize})
	if err != nil {
		return
	}
	defer pub.Close()
	frame := make([]byte, chunk.MaxMessageLength)
	frame[0] = 0x17
	for i := range 2 {
		if pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: uint32(i * 1000), Payload: frame}) != nil {
			return
		}
	}
}

// probes: a TLS client, an HTTP request, an idle connection, a connect
// with an AMF bomb, a truncated connect.
func (l *load) probes() {
	if nc, err := net.DialTimeout("tcp", l.o.rtmp, 5*time.Second); err == nil {
		tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
		tc.SetDeadline(time.Now().Add(3 * time.Second))
		tc.Handshake()
		nc.Close()
	}
	if nc, err := net.DialTimeout("tcp", l.o.rtmp, 5*time.Second); err == nil {
		nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		nc.SetReadDeadline(time.Now().Add(3 * time.Second))
		io.Copy(io.Discard, nc)
		nc.Close()
	}
	if nc, err := net.DialTimeout("tcp", l.o.rtmp, 5*time.Second); err == nil {
		go func() { l.sleep(3 * time.Second); nc.Close() }()
	}
	if nc, w, err := l.rawConn(0); err == nil {
		name, _ := amf0.Append(nil, "connect")
		tx, _ := amf0.Append(nil, 1.0)
		p := append(name, tx...)
		for len(p) < 60<<10 {
			p = append(p, 0x03, 0x00, 0x01, 'a')
		}
		w.WriteMessage(chunk.Message{CSID: 3, Header: chunk.Header{TypeID: uint8(message.TypeCommandAMF0)}, Payload: p})
		w.Flush()
		nc.Close()
	}
	if nc, w, err := l.rawConn(0); err == nil {
		name, _ := amf0.Append(nil, "connect")
		w.WriteMessage(chunk.Message{CSID: 3, Header: chunk.Header{TypeID: uint8(message.TypeCommandAMF0)}, Payload: append(name, 0x00, 0x3f)})
		w.Flush()
		nc.Close()
	}
}

// longNames: FCPublish and publish with a 60 KiB name.
func (l *load) longNames() {
	nc, w, err := l.rawConn(0)
	if err != nil {
		return
	}
	defer nc.Close()
	go io.Copy(io.Discard, nc)
	long := strings.Repeat("n", 60<<10)
	send(w, 3, 0, command("connect", 1, amf0.Object{{Key: "app", Value: "live"}}))
	send(w, 3, 0, command("FCPublish", 2, nil, long))
	send(w, 3, 0, command("createStream", 3, nil))
	send(w, 8, 1, command("publish", 4, nil, long, "live"))
	l.sleep(500 * time.Millisecond)
}

// ackStorm: Window Acknowledgement Size 1, then 4 MB of audio on stream 0.
func (l *load) ackStorm() {
	nc, w, err := l.rawConn(0)
	if err != nil {
		return
	}
	defer nc.Close()
	go io.Copy(io.Discard, nc)
	send(w, 3, 0, command("connect", 1, amf0.Object{{Key: "app", Value: "live"}}))
	send(w, 2, 0, message.WindowAckSize{Size: 1})
	send(w, 2, 0, message.SetChunkSize{Size: 65536})
	w.SetChunkSize(65536)
	junk := make([]byte, 32<<10)
	for range 128 {
		if w.WriteMessage(chunk.Message{CSID: 4, Header: chunk.Header{TypeID: uint8(message.TypeAudio)}, Payload: junk}) != nil || w.Flush() != nil {
			return
		}
	}
}
