package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/message"
)

// clusterTTL is the registry's entry lifetime in these tests.
const clusterTTL = 2 * time.Second

// clusterNode is an `ertmp serve` process of a cluster.
type clusterNode struct {
	*serveProc
	http string // host:port of its HTTP side
}

// startClusterNode runs `ertmp serve -config FILE -nats URL -advertise
// rtmp://127.0.0.1:PORT` with a ttl of clusterTTL.
func startClusterNode(t *testing.T, nats *interop.NATS) *clusterNode {
	t.Helper()
	port, hport := interop.FreePort(t), interop.FreePort(t)
	cfg := filepath.Join(t.TempDir(), "node.yaml")
	yaml := fmt.Sprintf("listen: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\ndrain: {timeout: 0s}\nlive: {republish_grace: 15s}\ncluster: {ttl: %v, idle: 2s}\n",
		port, hport, clusterTTL)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, "-config", cfg, "-nats", nats.URL, "-advertise", fmt.Sprintf("rtmp://127.0.0.1:%d", port))
	n := &clusterNode{serveProc: p, http: fmt.Sprintf("127.0.0.1:%d", hport)}
	n.waitLog(t, "cluster: registry ready", 1, nil)
	return n
}

// clusterView is the JSON of GET /v1/cluster.
type clusterView struct {
	Node     string `json:"node"`
	Registry string `json:"registry"`
	Nodes    []struct {
		ID       string `json:"id"`
		Draining bool   `json:"draining"`
	} `json:"nodes"`
	Streams []struct {
		App  string `json:"app"`
		Name string `json:"name"`
		Node string `json:"node"`
	} `json:"streams"`
	Pulls []struct {
		Key     struct{ App, Name string } `json:"key"`
		Node    string                     `json:"node"`
		Viewers int                        `json:"viewers"`
	} `json:"pulls"`
}

func (n *clusterNode) view(t *testing.T) clusterView {
	t.Helper()
	var v clusterView
	getJSON(t, "http://"+n.http+"/v1/cluster", &v)
	return v
}

// holder is the node that n's registry says holds live/name ("" none).
func (n *clusterNode) holder(t *testing.T, name string) string {
	for _, s := range n.view(t).Streams {
		if s.App == "live" && s.Name == name {
			return s.Node
		}
	}
	return ""
}

func (n *clusterNode) subscribers(t *testing.T, name string) int {
	var si struct {
		Subscribers int `json:"subscribers"`
	}
	getJSON(t, "http://"+n.http+"/v1/streams/live/"+name, &si)
	return si.Subscribers
}

func until(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("after %v, still not %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// mediaOf returns the audio and video payloads of an FLV file that carry
// media (no sequence header, no metadata), in order.
func mediaOf(t *testing.T, file string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r := flv.NewReader(bytes.NewReader(b))
	var out [][]byte
	for {
		tag, err := r.ReadTag()
		if err != nil {
			break
		}
		if isFrame(tag.Type == flv.TagVideo, tag.Type == flv.TagAudio, tag.Data) {
			out = append(out, bytes.Clone(tag.Data))
		}
	}
	return out
}

// isFrame reports a legacy AVC or AAC payload that is a frame.
func isFrame(video, audio bool, d []byte) bool {
	switch {
	case video:
		return len(d) > 1 && d[1] == 1
	case audio:
		return len(d) > 1 && d[1] == 1
	}
	return false
}

// goPlayer is a player of the test's own that stays through unpublish
// and republish (ContinueAfterUnpublish), keeping every media payload.
type goPlayer struct {
	mu     sync.Mutex
	got    [][]byte
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

func startGoPlayer(t *testing.T, url string) *goPlayer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	pl, err := rtmp.DialPlay(dctx, url, &rtmp.ClientConfig{ContinueAfterUnpublish: true})
	if err != nil {
		cancel()
		t.Fatalf("play %s: %v", url, err)
	}
	p := &goPlayer{cancel: cancel, done: make(chan struct{})}
	context.AfterFunc(ctx, func() { pl.Close() })
	go func() {
		defer close(p.done)
		for {
			pk, err := pl.ReadPacket()
			if err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
				return
			}
			if isFrame(pk.Type == message.TypeVideo, pk.Type == message.TypeAudio, pk.Payload) {
				p.mu.Lock()
				p.got = append(p.got, bytes.Clone(pk.Payload))
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-p.done })
	return p
}

func (p *goPlayer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.got)
}

func (p *goPlayer) stop() [][]byte {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got
}

func (p *goPlayer) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// runIn returns where got begins in src as one contiguous run, or an
// error naming the first packet that breaks it.
func runIn(src, got [][]byte) (int, error) {
	if len(got) == 0 {
		return 0, fmt.Errorf("no packet")
	}
	for i := range src {
		if !bytes.Equal(src[i], got[0]) {
			continue
		}
		k := 0
		for k < len(got) && i+k < len(src) && bytes.Equal(src[i+k], got[k]) {
			k++
		}
		if k == len(got) {
			return i, nil
		}
		return i, fmt.Errorf("%d packets from source packet %d: packet %d differs", len(got), i, k)
	}
	return 0, fmt.Errorf("the first packet is not in the source")
}

// Three nodes on Debian's nats-server: FFmpeg publishes to A; FFmpeg and
// `ertmp play` on B and C save packets equal to the source's, through one
// pull per node. Then A is killed (SIGKILL): its entry is gone within the
// ttl, the publisher publishes again on B, and a player on C goes on.
func TestClusterPlayAnywhereAndCrash(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	nats := interop.NATSServer(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 12)
	srcPackets := interop.Packets(t, ffmpeg, src)
	a, b, c := startClusterNode(t, nats), startClusterNode(t, nats), startClusterNode(t, nats)
	idA := a.view(t).Node

	interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -stream_loop -1 -i "+src+" -c copy -f flv rtmp://"+a.addr+"/live/cam")...)
	until(t, "C's registry has the stream on A", 15*time.Second, func() bool { return c.holder(t, "cam") == idA })

	// Players on B and C, FFmpeg and ertmp play, 4 s each; a player of
	// the test's own on C stays through the crash.
	keep := startGoPlayer(t, "rtmp://"+c.addr+"/live/cam")
	var procs []*interop.Process
	var files []string
	for _, n := range []*clusterNode{b, c} {
		ff := filepath.Join(dir, "ff-"+n.addr[strings.LastIndex(n.addr, ":")+1:]+".flv")
		er := filepath.Join(dir, "er-"+n.addr[strings.LastIndex(n.addr, ":")+1:]+".flv")
		procs = append(procs,
			interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i rtmp://"+n.addr+"/live/cam -t 4 -map 0:v -map 0:a -c copy -f flv "+ff)...),
			interop.Start(t, commandTool(), "play", "rtmp://"+n.addr+"/live/cam", "-o", er, "-t", "4s"))
		files = append(files, ff, er)
	}
	until(t, "B has one pull with its two players", 10*time.Second, func() bool {
		v := b.view(t)
		return len(v.Pulls) == 1 && v.Pulls[0].Viewers == 2 && v.Pulls[0].Node == idA
	})
	until(t, "C has one pull with its three players", 10*time.Second, func() bool {
		v := c.view(t)
		return len(v.Pulls) == 1 && v.Pulls[0].Viewers == 3 && v.Pulls[0].Node == idA
	})
	if s := a.subscribers(t, "cam"); s != 2 {
		t.Errorf("A has %d subscribers, want 2: one pull per node", s)
	}
	for i, p := range procs {
		if err := p.Wait(30 * time.Second); err != nil {
			t.Fatalf("player %s: %v\n%s\nB: %s\nC: %s", files[i], err, p.Output.String(), b.logs.find("relay: pull interrupted"), c.logs.find("relay: pull interrupted"))
		}
	}
	for _, f := range files {
		got := interop.Packets(t, ffmpeg, f)
		at, err := interop.RunOf(srcPackets, got)
		if err != nil || len(got) < 100 {
			t.Errorf("%s: %d packets: %v", filepath.Base(f), len(got), err)
		}
		t.Logf("%s: %d packets equal to the source's from its packet %v", filepath.Base(f), len(got), at)
	}

	// SIGKILL A.
	before := keep.count()
	a.cmd.Process.Kill()
	gone := until(t, "A's stream gone from C's registry", 3*clusterTTL, func() bool { return c.holder(t, "cam") == "" })
	t.Logf("A's entry gone from C's registry %v after SIGKILL (ttl %v)", gone.Round(time.Millisecond), clusterTTL)
	if gone > clusterTTL+time.Second {
		t.Errorf("gone after %v, ttl %v", gone, clusterTTL)
	}
	// The publisher publishes again, on B (refused while A's entry
	// lives in the store).
	idB := b.view(t).Node
	until(t, "the publisher accepted on B", 4*clusterTTL, func() bool {
		pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -stream_loop -1 -i "+src+" -c copy -f flv rtmp://"+b.addr+"/live/cam")...)
		deadline := time.Now().Add(1500 * time.Millisecond)
		for time.Now().Before(deadline) {
			if b.holder(t, "cam") == idB {
				return true
			}
			time.Sleep(50 * time.Millisecond)
		}
		pub.Kill()
		return false
	})
	mid := keep.count()
	until(t, "C's player gets the stream from B", 15*time.Second, func() bool { return keep.count() > mid+100 })
	if err := keep.failure(); err != nil {
		t.Fatalf("C's player ended: %v", err)
	}
	if v := c.view(t); len(v.Pulls) != 1 || v.Pulls[0].Node != idB {
		t.Errorf("C's pulls after the move: %+v", v.Pulls)
	}
	t.Logf("C's player: %d packets before the crash, %d more after the republish on B", before, keep.count()-mid)
}

// Drain node B while `ertmp publish` publishes to it: B sends it to C
// (the least loaded: A has a player), C takes the stream over, and the
// player on A gets every packet, the move included: one contiguous run
// of the source.
func TestClusterDrainMoves(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	nats := interop.NATSServer(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 20)
	srcMedia := mediaOf(t, src)
	a, b, c := startClusterNode(t, nats), startClusterNode(t, nats), startClusterNode(t, nats)
	idB, idC := b.view(t).Node, c.view(t).Node

	pub := interop.Start(t, commandTool(), "publish", "-re", src, "rtmp://"+b.addr+"/live/move")
	until(t, "A's registry has the stream on B", 15*time.Second, func() bool { return a.holder(t, "move") == idB })
	onA := startGoPlayer(t, "rtmp://"+a.addr+"/live/move")
	until(t, "A's player plays", 10*time.Second, func() bool { return onA.count() > 50 })
	idA := a.view(t).Node
	until(t, "B sees A's player in A's load", 10*time.Second, func() bool {
		var v struct {
			Nodes []struct {
				ID   string `json:"id"`
				Load struct {
					Players int `json:"players"`
				} `json:"load"`
			} `json:"nodes"`
		}
		getJSON(t, "http://"+b.http+"/v1/cluster", &v)
		for _, n := range v.Nodes {
			if n.ID == idA && n.Load.Players > 0 {
				return true
			}
		}
		return false
	})
	resp, err := http.Post("http://"+b.http+"/v1/drain", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/drain: %s", resp.Status)
	}
	moved := until(t, "the stream held by C", 15*time.Second, func() bool { return a.holder(t, "move") == idC })
	t.Logf("the stream moved to C %v after the drain began", moved.Round(time.Millisecond))
	at := onA.count()
	until(t, "A's player goes on from C", 15*time.Second, func() bool { return onA.count() > at+100 })
	if err := onA.failure(); err != nil {
		t.Fatalf("A's player ended: %v", err)
	}
	if v := a.view(t); len(v.Pulls) != 1 || v.Pulls[0].Node != idC {
		t.Errorf("A's pulls: %+v, want one from C", v.Pulls)
	}
	got := onA.stop()
	from, err := runIn(srcMedia, got)
	if err != nil {
		t.Fatalf("A's player: %d packets: %v", len(got), err)
	}
	t.Logf("A's player: %d packets, one run of the source from its packet %d, across the move from B to C", len(got), from)
	b.waitLog(t, "ertmp: draining", 1, map[string]any{"asked_to_reconnect": 1.0, "reconnect_url": "rtmp://" + c.addr + "/live"})
	pub.Kill()
	pub.Wait(5 * time.Second) // exited: its output is complete
	if !strings.Contains(pub.Output.String(), "moving to rtmp://"+c.addr+"/live/move") {
		t.Errorf("ertmp publish output: %s", pub.Output.String())
	}
}

// NATS stopped: the nodes go on serving their own streams and the pulls
// that run; a play of another node's stream fails with "cluster registry
// unavailable". NATS back: each node registers its streams again, those
// published meanwhile included, and remote plays work.
func TestClusterNATSDown(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	nats := interop.NATSServer(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 20)
	a, b := startClusterNode(t, nats), startClusterNode(t, nats)
	idA := a.view(t).Node
	interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -stream_loop -1 -i "+src+" -c copy -f flv rtmp://"+a.addr+"/live/one")...)
	until(t, "B's registry has the stream", 15*time.Second, func() bool { return b.holder(t, "one") == idA })
	onB := startGoPlayer(t, "rtmp://"+b.addr+"/live/one")
	until(t, "B's player plays", 10*time.Second, func() bool { return onB.count() > 50 })

	nats.Stop()
	until(t, "B's registry unavailable", 10*time.Second, func() bool { return b.view(t).Registry == "unavailable" })
	// A remote play is refused with the reason.
	var out, errb bytes.Buffer
	if code := run([]string{"play", "rtmp://" + b.addr + "/live/two", "-t", "1s"}, &out, &errb); code == 0 ||
		!strings.Contains(errb.String(), "NetStream.Play.StreamNotFound (cluster registry unavailable)") {
		t.Errorf("remote play without NATS: exit %d, %s", code, errb.String())
	}
	// A stream published on A meanwhile plays on A.
	interop.Start(t, commandTool(), "publish", "-re", src, "rtmp://"+a.addr+"/live/two")
	local := filepath.Join(dir, "local.flv")
	var p *interop.Process
	until(t, "ertmp play of the new stream on A", 10*time.Second, func() bool {
		p = interop.Start(t, commandTool(), "play", "rtmp://"+a.addr+"/live/two", "-o", local, "-t", "2s")
		return p.Wait(20*time.Second) == nil
	})
	if _, err := interop.RunOf(interop.Packets(t, ffmpeg, src), interop.Packets(t, ffmpeg, local)); err != nil {
		t.Errorf("local play without NATS: %v", err)
	}
	mid := onB.count()
	time.Sleep(clusterTTL) // past the ttl: nothing expires while NATS is away
	if onB.count() < mid+50 || onB.failure() != nil {
		t.Errorf("B's pull stopped without NATS: %d then %d packets, %v", mid, onB.count(), onB.failure())
	}

	nats.Start()
	rebuilt := until(t, "B's registry rebuilt with both streams", 20*time.Second, func() bool {
		v := b.view(t)
		return v.Registry == "ready" && b.holder(t, "one") == idA && b.holder(t, "two") == idA
	})
	t.Logf("registry rebuilt %v after NATS came back", rebuilt.Round(time.Millisecond))
	remote := filepath.Join(dir, "remote.flv")
	if code := run([]string{"play", "rtmp://" + b.addr + "/live/two", "-o", remote, "-t", "2s"}, &out, &errb); code != 0 {
		t.Fatalf("remote play after NATS is back: exit %d, %s", code, errb.String())
	}
	if _, err := interop.RunOf(interop.Packets(t, ffmpeg, src), interop.Packets(t, ffmpeg, remote)); err != nil {
		t.Errorf("remote play after NATS is back: %v", err)
	}
}
