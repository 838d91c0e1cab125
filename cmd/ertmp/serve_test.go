package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/message"
)

func TestServeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"-h"}, 0, "usage: ertmp serve"},
		{[]string{"-nope"}, 2, "flag provided but not defined"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"-log-level", "loud"}, 2, "-log-level"},
		{[]string{"-log-format", "xml"}, 2, "-log-format"},
		{[]string{"-chunk-size", "1"}, 2, "-chunk-size"},
		{[]string{"-gop-bytes", "12Q"}, 2, "invalid size"},
		{[]string{"-shutdown-timeout", "0s"}, 2, "-shutdown-timeout"},
		{[]string{"-listen", "256.0.0.1:1"}, 1, "listen"},
	} {
		var stderr bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		code := serve(ctx, tc.args, io.Discard, &stderr, nil)
		if code != tc.code || !strings.Contains(stderr.String(), tc.say) {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s", tc.args, code, tc.code, stderr.String())
		}
	}
}

// logLines is a concurrency-safe writer that keeps JSON log lines.
type logLines struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []map[string]any
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadBytes('\n')
		if err != nil {
			l.buf.Write(line)
			return len(p), nil
		}
		var m map[string]any
		if json.Unmarshal(line, &m) == nil {
			l.lines = append(l.lines, m)
		}
	}
}

func (l *logLines) find(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, m := range l.lines {
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// rawPlayer is a minimal RTMP player built from the project's codecs: it
// plays a stream and reports media and the StreamEOF user control event.
type rawPlayer struct {
	nc    net.Conn
	r     *chunk.Reader
	w     *chunk.Writer
	media chan struct{} // a value per media message (dropped when full)
}

func dialPlayer(t *testing.T, addr, app, name string) *rawPlayer {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := handshake.Client(nc, nil); err != nil {
		t.Fatal(err)
	}
	p := &rawPlayer{nc: nc, r: chunk.NewReader(nc, nil), w: chunk.NewWriter(nc), media: make(chan struct{}, 1024)}
	send := func(csid, sid uint32, m message.Message) {
		b, err := m.AppendPayload(nil)
		if err == nil {
			err = p.w.WriteMessage(chunk.Message{CSID: csid, Header: chunk.Header{TypeID: uint8(m.Type()), StreamID: sid}, Payload: b})
		}
		if err == nil {
			err = p.w.Flush()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	send(3, 0, message.Command{Name: "connect", TransactionID: 1, Object: amf0.Object{{Key: "app", Value: app}, {Key: "tcUrl", Value: "rtmp://" + addr + "/" + app}}})
	send(3, 0, message.Command{Name: "createStream", TransactionID: 2})
	send(5, 1, message.Command{Name: "play", Args: []amf0.Value{name}})
	return p
}

// run reads until the connection ends and reports whether StreamEOF came.
func (p *rawPlayer) run() (eof bool, err error) {
	for {
		m, err := p.r.ReadMessage()
		if err != nil {
			return eof, err
		}
		switch message.Type(m.TypeID) {
		case message.TypeSetChunkSize:
			v, _ := message.UnmarshalSetChunkSize(m.Payload)
			p.r.SetChunkSize(v.Size)
		case message.TypeUserControl:
			if ev, _ := message.UnmarshalUserControl(m.Payload); ev.Event == message.EventStreamEOF {
				eof = true
			}
		case message.TypeAudio, message.TypeVideo:
			select {
			case p.media <- struct{}{}:
			default:
			}
		}
	}
}

func testdata(t *testing.T, name string) string {
	return filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg", name)
}

// waitMedia waits for the player's first media messages.
func (p *rawPlayer) waitMedia(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for range n {
		select {
		case <-p.media:
		case <-timeout:
			t.Fatal("the player got no media")
		}
	}
}

// In process: a publisher and players run, the shutdown signal comes (ctx),
// players get StreamEOF, serve returns 0 within the bound, sessions log the
// reason "shutdown", and no goroutine is left.
func TestServeGracefulShutdown(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	before := runtime.NumGoroutine()
	ctx, signal := context.WithCancel(context.Background())
	defer signal()
	logs := &logLines{}
	addrc := make(chan net.Addr, 1)
	exit := make(chan int, 1)
	go func() {
		exit <- serve(ctx, strings.Fields("-listen 127.0.0.1:0 -http 127.0.0.1:0 -log-format json -shutdown-timeout 5s"), io.Discard, logs, func(a net.Addr) { addrc <- a })
	}()
	var addr string
	select {
	case a := <-addrc:
		addr = a.String()
	case code := <-exit:
		t.Fatalf("serve exited %d", code)
	}
	pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -stream_loop -1 -i "+testdata(t, "h264_aac.flv")+" -c copy -f flv rtmp://"+addr+"/live/k")...)
	type result struct {
		eof bool
		err error
	}
	results := make(chan result, 3)
	for range 3 {
		p := dialPlayer(t, addr, "live", "k")
		go func() {
			eof, err := p.run()
			results <- result{eof, err}
		}()
		p.waitMedia(t, 10)
	}
	start := time.Now()
	signal()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit status %d", code)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("serve did not return within 8 s of the signal")
	}
	t.Logf("shut down in %v", time.Since(start).Round(time.Millisecond))
	for range 3 {
		r := <-results
		if !r.eof {
			t.Errorf("a player saw no StreamEOF (%v)", r.err)
		}
	}
	if err := pub.Wait(10 * time.Second); err == nil {
		t.Log("publisher exited cleanly")
	}
	ends := append(logs.find("live: play end"), logs.find("live: publish end")...)
	if len(ends) != 4 {
		t.Fatalf("%d session end lines, want 4", len(ends))
	}
	for _, e := range ends {
		if e["reason"] != "shutdown" {
			t.Errorf("session ended with %v", e["reason"])
		}
		if e["bytes_out"].(float64) == 0 || e["bytes_in"].(float64) == 0 {
			t.Errorf("byte counts missing: %v", e)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestServeChild is the server process of TestServeSIGTERM.
func TestServeChild(t *testing.T) {
	if os.Getenv("ERTMP_SERVE_CHILD") != "1" {
		t.Skip("runs as the child process of TestServeSIGTERM")
	}
	os.Exit(serveCmd(strings.Fields(os.Getenv("ERTMP_SERVE_ARGS")), os.Stdout, os.Stderr))
}

// A real process gets a real SIGTERM while it serves a stream: players get
// StreamEOF, and it exits with status 0 within the shutdown bound.
func TestServeSIGTERM(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$")
	cmd.Env = append(os.Environ(), "ERTMP_SERVE_CHILD=1", "ERTMP_SERVE_ARGS=-listen 127.0.0.1:0 -http 127.0.0.1:0 -log-format json -shutdown-timeout 5s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	logs := &logLines{}
	addrc := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "ertmp: listening" {
				addrc <- m["addr"].(string)
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not start")
	}
	interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -stream_loop -1 -i "+testdata(t, "h264_aac.flv")+" -c copy -f flv rtmp://"+addr+"/live/k")...)
	p := dialPlayer(t, addr, "live", "k")
	eofc := make(chan bool, 1)
	go func() {
		eof, _ := p.run()
		eofc <- eof
	}()
	p.waitMedia(t, 10)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		<-copied
		waited <- cmd.Wait()
	}()
	select {
	case err := <-waited:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after SIGTERM")
	}
	t.Logf("exited 0, %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	if !<-eofc {
		t.Error("the player saw no StreamEOF")
	}
	if e := logs.find("live: play end"); len(e) != 1 || e[0]["reason"] != "shutdown" {
		t.Errorf("play end lines: %v", e)
	}
}
