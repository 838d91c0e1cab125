package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ertmp/rtmp/internal/interop"
)

// TestCommandChild runs an ertmp command as a process of its own: the test
// binary re-runs itself with -test.run=^TestCommandChild$ -- COMMAND ARGS
// (see commandTool). Run plainly, it has no command and skips.
func TestCommandChild(t *testing.T) {
	if flag.NArg() == 0 {
		t.Skip("runs as a child process: ertmp COMMAND after --")
	}
	os.Exit(run(flag.Args(), os.Stdout, os.Stderr))
}

// commandTool runs "ertmp ARGS" in a child process (no separate build).
func commandTool() interop.Tool {
	return interop.Program("ertmp", os.Args[0], "-test.run=^TestCommandChild$", "--")
}

// The server process gets SIGTERM, with no drain (ertmp publish would be
// asked to reconnect; see TestDrainRestart), in the middle of a stream that `ertmp
// publish -re` sends and two `ertmp play -o` processes save, one from the
// start, one that joined a second later. Every packet they saved is a
// packet of the source, in one contiguous run per stream (nothing lost in
// the middle, nothing invented); the first has the source from its first
// packet; each saved every packet the server says it delivered; and the
// players, like the server, exit with status 0.
func TestServeSIGTERMPlayersSave(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 8)

	srv := exec.Command(os.Args[0], "-test.run=^TestCommandChild$", "--", "serve", "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0", "-drain-timeout", "0", "-log-format", "json", "-shutdown-timeout", "5s")
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
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
	waitLog := func(msg string, n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(logs.find(msg)) < n {
			if time.Now().After(deadline) {
				t.Fatalf("no %d %q log lines after 10 s", n, msg)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	url := "rtmp://" + addr + "/live/k"
	ertmp := commandTool()
	outs := []string{filepath.Join(dir, "first.flv"), filepath.Join(dir, "late.flv")}
	first := interop.Start(t, ertmp, "play", url, "-o", outs[0])
	waitLog("live: play start", 1) // waiting for the publisher
	pub := interop.Start(t, ertmp, "publish", "-re", src, url)
	waitLog("live: publish start", 1)
	time.Sleep(time.Second)
	late := interop.Start(t, ertmp, "play", url, "-o", outs[1])
	waitLog("live: play start", 2)
	time.Sleep(1500 * time.Millisecond) // into the stream, well before its end (8 s)

	start := time.Now()
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		<-copied
		waited <- srv.Wait()
	}()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("server exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server still runs 10 s after SIGTERM")
	}
	t.Logf("server exited 0, %v after SIGTERM", time.Since(start).Round(time.Millisecond))

	saved := map[string]int{} // tags each player says it saved
	tagsRE := regexp.MustCompile(`ertmp play: (\d+) tags from`)
	for i, p := range []*interop.Process{first, late} {
		if err := p.Wait(10 * time.Second); err != nil {
			t.Fatalf("player %s: %v\n%s", outs[i], err, p.Output)
		}
		m := tagsRE.FindStringSubmatch(p.Output.String())
		if m == nil {
			t.Fatalf("player %s says:\n%s", outs[i], p.Output)
		}
		saved[outs[i]], _ = strconv.Atoi(m[1])
	}
	if err := pub.Wait(10 * time.Second); err != nil {
		t.Logf("publisher (stopped by the shutdown): %v: %q", err, pub.Output)
	}

	// The server's word: both players ended with the shutdown, after
	// delivering some packets each.
	var delivered []int
	for _, e := range logs.find("live: play end") {
		if e["reason"] != "shutdown" {
			t.Errorf("a player ended with %v", e["reason"])
		}
		n, _ := e["packets"].(float64)
		delivered = append(delivered, int(n))
	}
	if len(delivered) != 2 {
		t.Fatalf("%d play end lines, want 2", len(delivered))
	}

	srcPkts := interop.Packets(t, ffmpeg, src)
	for i, out := range outs {
		got := interop.Packets(t, ffmpeg, out)
		if len(got) == 0 {
			t.Fatalf("%s: no packets saved", out)
		}
		at, err := interop.RunOf(srcPkts, got)
		if err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if len(got) >= len(srcPkts) {
			t.Errorf("%s: %d packets, the whole source (%d): the SIGTERM came after the end", out, len(got), len(srcPkts))
		}
		if i == 0 && (at["0"] != 0 || at["1"] != 0) {
			t.Errorf("%s: the player that waited for the stream starts at source packets %v, want 0", out, at)
		}
		if !contains(delivered, saved[out]) {
			t.Errorf("%s: %d tags saved; the server delivered %v to its players", out, saved[out], delivered)
		}
		t.Logf("%s: %d tags saved (the server delivered %v); its %d packets with data are source packets, in one run per stream from source packet %v (of %d)",
			filepath.Base(out), saved[out], delivered, len(got), at, len(srcPkts))
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
