package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
)

// serveProc is an `ertmp serve` process of a test, its JSON log lines at
// hand.
type serveProc struct {
	cmd    *exec.Cmd
	logs   *logLines
	addr   string
	exited chan error
}

// startServe runs `ertmp serve ARGS -log-format json` in a child process
// and waits until it listens.
func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestCommandChild$", "--", "serve", "-log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, logs: &logLines{}, exited: make(chan error, 1)}
	addrc := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.logs.Write(append(sc.Bytes(), '\n'))
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "ertmp: listening" {
				select {
				case addrc <- m["addr"].(string):
				default:
				}
			}
		}
	}()
	go func() {
		<-copied
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case p.addr = <-addrc:
	case err := <-p.exited:
		t.Fatalf("ertmp serve exited: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("ertmp serve did not start")
	}
	return p
}

// waitLog waits for n log lines with message msg (and the fields in
// want), and returns them.
func (p *serveProc) waitLog(t *testing.T, msg string, n int, want map[string]any) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got []map[string]any
		for _, m := range p.logs.find(msg) {
			ok := true
			for k, v := range want {
				ok = ok && m[k] == v
			}
			if ok {
				got = append(got, m)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %q log lines %v after 20 s, want %d", len(got), msg, want, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *serveProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

func (p *serveProc) wait(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("ertmp serve: %v", err)
		}
	case <-time.After(within):
		t.Fatalf("ertmp serve still runs after %v", within)
	}
}

// The configuration file: flags override it, -print-config shows the
// result without secrets, a typo fails with its line.
func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ertmp.yaml")
	os.WriteFile(file, []byte(`listen: 127.0.0.1:1940
http: ""
live:
  gop_packets: 99
apps:
  live:
    publish_keys: [file-key-123]
    on_publish: http://user:pw@127.0.0.1:9/hook?token=t0ken
`), 0o600)
	var stdout, stderr bytes.Buffer
	code := serve(context.Background(), []string{"-config", file, "-listen", "127.0.0.1:1941", "-gop-bytes", "1MiB", "-print-config"}, &stdout, &stderr, nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"listen: 127.0.0.1:1941\n", "gop_packets: 99\n", "gop_bytes: 1MiB\n", "http: \"\"\n", "- '[redacted]'", "user:xxxxx@127.0.0.1:9/hook?token=xxxxx"} {
		if !strings.Contains(out, want) {
			t.Errorf("-print-config lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"file-key-123", ":pw@", "t0ken"} {
		if strings.Contains(out, secret) {
			t.Errorf("-print-config shows %q", secret)
		}
	}
	// Without a file: the built-in defaults.
	stdout.Reset()
	if code := serve(context.Background(), []string{"-print-config"}, &stdout, io.Discard, nil); code != 0 || !strings.Contains(stdout.String(), "listen: :1935\nhttp: :8080\n") {
		t.Errorf("defaults: exit %d\n%s", code, stdout.String())
	}
	os.WriteFile(file, []byte("listen: :1935\napps:\n  live:\n    publish_keys: [k-12345678]\n    alow_play: [all]\n"), 0o600)
	stderr.Reset()
	if code := serve(context.Background(), []string{"-config", file}, io.Discard, &stderr, nil); code != 2 || !strings.Contains(stderr.String(), file+": line 5: unknown key alow_play") {
		t.Errorf("a typo: exit %d, stderr %q", code, stderr.String())
	}
	if code := serve(context.Background(), []string{"-config", filepath.Join(dir, "missing.yaml")}, io.Discard, &stderr, nil); code != 2 {
		t.Errorf("a missing file: exit %d", code)
	}
}

// SIGHUP reloads the file: a new key applies to new publishers, the
// publisher of the old key and its player go on; a bad file is logged and
// the configuration in force stays.
func TestServeSIGHUP(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "ertmp.yaml")
	keys := func(k string) {
		os.WriteFile(file, []byte("apps:\n  live:\n    publish_keys: ["+k+"]\n"), 0o600)
	}
	keys("before-hup-1")
	srv := startServe(t, "-config", file, "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0", "-play-wait", "20s")
	base := "rtmp://" + srv.addr + "/live/"
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 6)
	ertmp := commandTool()
	out := filepath.Join(dir, "out.flv")
	pl := interop.Start(t, ertmp, "play", base+"old", "-o", out)
	srv.waitLog(t, "live: play start", 1, nil)
	pub := interop.Start(t, ertmp, "publish", "-re", src, base+"old?key=before-hup-1")
	srv.waitLog(t, "live: publish start", 1, nil)
	time.Sleep(time.Second)

	keys("after-hup-2")
	srv.signal(t, syscall.SIGHUP)
	srv.waitLog(t, "ertmp: configuration reloaded", 1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if p, err := rtmp.DialPublish(ctx, base+"new?key=before-hup-1", nil); err == nil {
		p.Close()
		t.Fatal("the old key publishes after SIGHUP")
	}
	p, err := rtmp.DialPublish(ctx, base+"new?key=after-hup-2", nil)
	if err != nil {
		t.Fatalf("the new key: %v", err)
	}
	p.Close()

	os.WriteFile(file, []byte("apps:\n  live:\n    publish_keys: [after-hup-2]\n  oops: {max_stream: 1}\n"), 0o600)
	srv.signal(t, syscall.SIGHUP)
	failed := srv.waitLog(t, "ertmp: reload failed; the configuration in force stays", 1, nil)
	if !strings.Contains(fmt.Sprint(failed[0]["err"]), "line 4: unknown key max_stream") {
		t.Errorf("reload failure: %v", failed[0]["err"])
	}
	if p, err := rtmp.DialPublish(ctx, base+"new2?key=after-hup-2", nil); err != nil {
		t.Fatalf("after a bad reload, the key in force: %v", err)
	} else {
		p.Close()
	}

	if err := pub.Wait(20 * time.Second); err != nil {
		t.Fatalf("the publisher of the old key: %v\n%s", err, pub.Output)
	}
	srv.signal(t, syscall.SIGTERM)
	srv.wait(t, 15*time.Second)
	if err := pl.Wait(10 * time.Second); err != nil {
		t.Fatalf("its player: %v\n%s", err, pl.Output)
	}
	got, want := interop.Packets(t, ffmpeg, out), interop.Packets(t, ffmpeg, src)
	if at, err := interop.RunOf(want, got); err != nil || len(got) != len(want) {
		t.Fatalf("the player of the old key saved %d packets of %d (%v, %v)", len(got), len(want), at, err)
	}
	for _, e := range srv.logs.find("live: publish end") {
		if e["stream"] == "old" && e["reason"] != "client closed" {
			t.Errorf("the publisher of the old key ended with %v", e["reason"])
		}
	}
	t.Logf("across two SIGHUPs the old key's player saved all %d packets of the source", len(got))
}

// A restart on the same port: a new process listens beside the old one
// (SO_REUSEPORT); SIGTERM makes the old one stop accepting and ask `ertmp
// publish` to reconnect; it lands on the new process, whose player gets
// every packet from the reconnect onward: a run of the source up to its
// end, as many packets as the new process's publisher relayed.
func TestDrainRestart(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 10)
	addr := "127.0.0.1:" + strconv.Itoa(interop.FreePort(t))
	args := []string{"-listen", addr, "-http", "", "-play-wait", "30s", "-drain-timeout", "10s"}
	old := startServe(t, args...)
	url := "rtmp://" + addr + "/live/k"
	ertmp := commandTool()
	pub := interop.Start(t, ertmp, "publish", "-re", src, url)
	old.waitLog(t, "live: publish start", 1, nil)
	next := startServe(t, args...)

	// A player of the new process: the kernel spreads connections over
	// both listeners, so try until one lands there (it waits for the
	// stream; one that lands on the old process plays at once and is let
	// go).
	var pl *interop.Process
	out := filepath.Join(dir, "out.flv")
	for i := 0; pl == nil; i++ {
		if i == 20 {
			t.Fatal("20 players, none on the new process")
		}
		p := interop.Start(t, ertmp, "play", url, "-o", out)
		deadline := time.Now().Add(10 * time.Second)
		for {
			if len(next.logs.find("live: play start")) == 1 {
				pl = p
				break
			}
			if n := len(old.logs.find("live: play start")); n > i {
				p.Kill()
				p.Wait(5 * time.Second)
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a player reached neither process")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	start := time.Now()
	old.signal(t, syscall.SIGTERM)
	drained := old.waitLog(t, "ertmp: drained", 1, nil)
	old.wait(t, 20*time.Second)
	after, _ := drained[0]["after"].(float64)
	t.Logf("the old process drained in %v and exited %v after SIGTERM", time.Duration(after).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if err := pub.Wait(30 * time.Second); err != nil {
		t.Fatalf("ertmp publish: %v\n%s", err, pub.Output)
	}
	if !strings.Contains(pub.Output.String(), "moving to "+url) {
		t.Errorf("ertmp publish did not say it moved:\n%s", pub.Output)
	}
	sentRE := regexp.MustCompile(`published (\d+) tags`)
	m := sentRE.FindStringSubmatch(pub.Output.String())
	if m == nil {
		t.Fatalf("ertmp publish says:\n%s", pub.Output)
	}
	sent, _ := strconv.Atoi(m[1])
	next.signal(t, syscall.SIGTERM)
	next.wait(t, 20*time.Second)
	if err := pl.Wait(10 * time.Second); err != nil {
		t.Fatalf("the player: %v\n%s", err, pl.Output)
	}

	oldEnd := old.waitLog(t, "live: publish end", 1, nil)[0]
	newEnd := next.waitLog(t, "live: publish end", 1, nil)[0]
	if oldEnd["reason"] != "client closed" || newEnd["reason"] != "client closed" {
		t.Errorf("publish ends: old %v, new %v; want both closed by the client", oldEnd["reason"], newEnd["reason"])
	}
	relayedOld, relayedNew := int(oldEnd["packets"].(float64)), int(newEnd["packets"].(float64))
	// The new process got the metadata and the two sequence headers again.
	if relayedOld+relayedNew != sent+3 {
		t.Errorf("the old process relayed %d packets and the new %d; %d tags were sent (+3 repeated on the new connection)", relayedOld, relayedNew, sent)
	}
	playEnd := next.waitLog(t, "live: play end", 1, nil)[0]
	delivered := int(playEnd["packets"].(float64))
	if delivered != relayedNew {
		t.Errorf("the new process's player got %d packets, its publisher relayed %d", delivered, relayedNew)
	}
	srcPkts, got := interop.Packets(t, ffmpeg, src), interop.Packets(t, ffmpeg, out)
	at, err := interop.RunOf(srcPkts, got)
	if err != nil {
		t.Fatal(err)
	}
	perStream := map[string]int{}
	for _, p := range srcPkts {
		perStream[p.Stream]++
	}
	gotPer := map[string]int{}
	for _, p := range got {
		gotPer[p.Stream]++
	}
	for st, n := range perStream {
		if at[st]+gotPer[st] != n {
			t.Errorf("stream %s: the player has source packets %d to %d of %d: not up to the end", st, at[st], at[st]+gotPer[st], n)
		}
	}
	if len(got) == 0 || len(got) >= len(srcPkts) {
		t.Errorf("the player saved %d packets of %d", len(got), len(srcPkts))
	}
	t.Logf("%d tags sent: %d relayed by the old process, %d by the new; its player got %d packets and saved source packets %v to the end (%d of %d)",
		sent, relayedOld, relayedNew, delivered, at, len(got), len(srcPkts))
}

// FFmpeg cannot reconnect: it is not asked, and is closed politely at the
// drain timeout, when a publisher that was asked (and ignores it) still
// has not left.
func TestDrainFFmpeg(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	logs := &logLines{}
	addrc := make(chan net.Addr, 1)
	exit := make(chan int, 1)
	go func() {
		exit <- serve(ctx, strings.Fields("-listen 127.0.0.1:0 -http 127.0.0.1:0 -log-format json -drain-timeout 2s -shutdown-timeout 5s"), io.Discard, logs, func(a net.Addr) { addrc <- a })
	}()
	addr := (<-addrc).String()
	ff := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -stream_loop -1 -i "+testdata(t, "h264_aac.flv")+" -c copy -f flv rtmp://"+addr+"/live/ff")...)
	dctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stubborn, err := rtmp.DialPublish(dctx, "rtmp://"+addr+"/live/stubborn", nil) // advertises CAPS_EX_RECONNECT
	if err != nil {
		t.Fatal(err)
	}
	defer stubborn.Close()
	for len(logs.find("live: publish start")) < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	stop()
	// The stubborn publisher is asked, and goes on writing.
	go func() {
		for range time.Tick(100 * time.Millisecond) {
			if stubborn.WriteTag(flv.Tag{Type: flv.TagAudio, Data: []byte{0xAF, 0x01, 0x21}}) != nil {
				return
			}
		}
	}()
	ev := waitEvent(t, stubborn, rtmp.EventReconnectRequest)
	if ev.Reconnect == nil || ev.Reconnect.String() != "rtmp://"+addr+"/live/stubborn" {
		t.Errorf("ReconnectRequest to %v, want the same URL", ev.Reconnect)
	}
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve still runs 15 s after the signal")
	}
	took := time.Since(start)
	if err := ff.Wait(10 * time.Second); err != nil {
		t.Logf("FFmpeg: %v %q", err, ff.Output)
	}
	draining := logs.find("ertmp: draining")
	if len(draining) != 1 || draining[0]["asked_to_reconnect"] != 1.0 {
		t.Errorf("draining: %v, want one publisher asked", draining)
	}
	if len(logs.find("ertmp: drain timed out")) != 1 {
		t.Error("no drain timeout logged")
	}
	for _, e := range logs.find("live: publish end") {
		if e["reason"] != "shutdown" || e["err"] != nil {
			t.Errorf("publish end: %v, want a polite shutdown", e)
		}
	}
	if took < 2*time.Second || took > 8*time.Second {
		t.Errorf("the server stopped %v after the signal; want just after the 2 s drain timeout", took)
	}
	t.Logf("stopped %v after the signal (drain timeout 2s); FFmpeg was closed with reason shutdown", took.Round(time.Millisecond))
}

func waitEvent(t *testing.T, p *rtmp.Publisher, kind rtmp.ClientEventKind) rtmp.ClientEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		ev, err := p.ReadEvent(ctx)
		if err != nil {
			t.Fatalf("no event %v: %v", kind, err)
		}
		if ev.Kind == kind {
			return ev
		}
	}
}

// gc_percent sets the collector's target, unless GOGC is set; the memory
// budget sets the soft limit, unless GOMEMLIMIT is set.
func TestServeGCPercent(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() {
		debug.SetGCPercent(before)
		debug.SetMemoryLimit(math.MaxInt64)
	})
	file := filepath.Join(t.TempDir(), "ertmp.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:0\nhttp: \"\"\ngc_percent: 40\nmemory_budget: 50MiB\n"), 0o600)
	run := func() {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stderr bytes.Buffer
		if code := serve(ctx, []string{"-config", file}, io.Discard, &stderr, func(net.Addr) { cancel() }); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	run()
	if got := debug.SetGCPercent(100); got != 40 {
		t.Fatalf("GOGC %d after serve with gc_percent: 40", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != 100<<20 {
		t.Fatalf("memory limit %d after serve with memory_budget: 50MiB, want twice it", got)
	}
	t.Setenv("GOGC", "100")
	t.Setenv("GOMEMLIMIT", "1GiB")
	run()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC %d with GOGC=100 in the environment", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("memory limit %d with GOMEMLIMIT in the environment", got)
	}
}
