package relay_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/record"
	"github.com/ertmp/rtmp/relay"
)

// nginx runs nginx-rtmp on addr (so that a test can kill it and start it
// again on the same port), with one live application "live".
func nginx(t *testing.T, addr string) *interop.Process {
	t.Helper()
	bin := interop.Path(t, "nginx")
	const module = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
	if _, err := os.Stat(module); err != nil {
		if interop.Required() {
			t.Fatalf("nginx-rtmp: %v", err)
		}
		t.Skipf("nginx-rtmp: %v (apt-get install libnginx-mod-rtmp)", err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	conf := fmt.Sprintf(`load_module %s;
daemon off; worker_processes 1; pid %s/nginx.pid; error_log %s/error.log info;
events { worker_connections 1024; }
rtmp { server { listen %s; chunk_size 4096;
    application live { live on; record off; } } }
`, module, dir, dir, addr)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := interop.Start(t, bin, "-c", filepath.Join(dir, "nginx.conf"), "-p", dir)
	interop.WaitPort(t, addr, 10*time.Second)
	return p
}

func freeAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", interop.FreePort(t))
}

// play starts FFmpeg saving the audio and video of url into out, with
// input options in.
func play(t *testing.T, ffmpeg interop.Tool, url, out string, in ...string) *interop.Process {
	args := append(append([]string{"-hide_banner", "-loglevel", "error"}, in...), "-i", url)
	args = append(args, strings.Fields("-map 0:v -map 0:a -c copy -f flv "+out)...)
	return interop.Start(t, ffmpeg, args...)
}

func quietHub(t *testing.T, cfg live.Config) *live.Hub {
	cfg.Logger = logger(t)
	return live.NewHub(cfg)
}

// FFmpeg publishes to a hub that pushes to nginx-rtmp and to a second
// hub at once. nginx is killed mid-stream: the second hub's player and
// the local player go on and get every packet of the source; the push
// to nginx retries, reconnects when nginx is back on its port, and a
// player of nginx then gets the stream.
func TestInteropPushNginxAndHub(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 8)
	ngxAddr := freeAddr(t)
	ngx := nginx(t, ngxAddr)
	target := serve(t, quietHub(t, live.Config{PlayWait: 20 * time.Second}), "", everything)
	hub, m := pusher(t, "rtmp://"+ngxAddr+"/live/{stream}", "rtmp://"+target.addr+"/live/{stream}")
	origin := serve(t, hub, "", everything)

	outA, outB := filepath.Join(dir, "local.flv"), filepath.Join(dir, "target.flv")
	pA := play(t, ffmpeg, "rtmp://"+origin.addr+"/live/x", outA)
	pB := play(t, ffmpeg, "rtmp://"+target.addr+"/live/x", outB)
	time.Sleep(300 * time.Millisecond) // both players wait for the stream
	pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+origin.addr+"/live/x")...)

	eventually(t, "both targets connected", 10*time.Second, func() bool {
		st := m.Pushes()
		return len(st) == 1 && st[0].Targets[0].State == relay.StateConnected && st[0].Targets[1].State == relay.StateConnected
	})
	time.Sleep(1500 * time.Millisecond)
	ngx.Kill()
	ngx.Wait(5 * time.Second)
	killed := time.Now()
	eventually(t, "the push to nginx to notice", 10*time.Second, func() bool {
		return m.Pushes()[0].Targets[0].Reconnects >= 1
	})
	noticed := time.Since(killed)
	time.Sleep(500 * time.Millisecond)
	ngx = nginx(t, ngxAddr)
	restarted := time.Now()
	eventually(t, "the push to nginx to reconnect", 10*time.Second, func() bool {
		return m.Pushes()[0].Targets[0].State == relay.StateConnected
	})
	reconnected := time.Since(restarted)
	outN := filepath.Join(dir, "nginx.flv")
	// nginx keeps its players when the publisher leaves (they wait for
	// the next): FFmpeg's takes 1.5 s and ends after 3 s without data.
	pN := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -rw_timeout 3000000 -i rtmp://"+ngxAddr+"/live/x -t 1.5 -map 0:v -map 0:a -c copy -f flv "+outN)...)
	if err := pN.Wait(15 * time.Second); err != nil {
		t.Fatalf("nginx player: %v\n%s", err, pN.Output)
	}
	status := m.Pushes()[0].Targets

	if err := pub.Wait(30 * time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.Output)
	}
	for _, p := range []*interop.Process{pA, pB} {
		if err := p.Wait(20 * time.Second); err != nil {
			t.Fatalf("player: %v\n%s", err, p.Output)
		}
	}
	interop.SameHashes(t, ffmpeg, src, outA)
	interop.SameHashes(t, ffmpeg, src, outB)
	srcPkts, nPkts := interop.Packets(t, ffmpeg, src), interop.Packets(t, ffmpeg, outN)
	at, err := interop.RunOf(srcPkts, nPkts)
	if err != nil || len(nPkts) < 20 {
		t.Fatalf("nginx player after the reconnection: %d packets: %v", len(nPkts), err)
	}
	t.Logf("local and second-hub players: all %d packets equal to the source's; nginx killed: noticed in %v, reconnected %v after its restart; its new player got %d packets from source video packet %d",
		len(srcPkts), noticed.Round(time.Millisecond), reconnected.Round(time.Millisecond), len(nPkts), at["0"])
	t.Logf("targets: %+v", status)
}

// A static pull from nginx-rtmp: FFmpeg publishes to nginx, the hub
// pulls the stream, and a player of the hub gets every packet of the
// source.
func TestInteropPullNginx(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 4)
	ngx := interop.NginxRTMP(t)
	m := relay.NewManager(relay.Options{Logger: logger(t), Pull: relay.PullOptions{Backoff: relay.Backoff{Min: 100 * time.Millisecond, Max: time.Second}}})
	hub := quietHub(t, live.Config{PlayWait: 20 * time.Second, RepublishGrace: -1, Hooks: m.Hooks()})
	m.SetHub(hub)
	s := serve(t, hub, "", everything)
	t.Cleanup(func() { m.Shutdown(ctxT(t, 5*time.Second)) })
	key := live.Key{App: "live", Name: "pulled"}
	if _, err := m.StartPull(key, "rtmp://"+ngx+"/live/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.StartPull(key, "rtmp://"+ngx+"/live/x"); err == nil {
		t.Fatal("a second pull of the same stream")
	}
	out := filepath.Join(dir, "out.flv")
	pl := play(t, ffmpeg, "rtmp://"+s.addr+"/live/pulled", out)
	time.Sleep(300 * time.Millisecond)
	interop.Run(t, time.Minute, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+ngx+"/live/x")...)
	if err := pl.Wait(20 * time.Second); err != nil {
		t.Fatalf("player: %v\n%s", err, pl.Output)
	}
	interop.SameHashes(t, ffmpeg, src, out)
	st := m.Pulls()
	if len(st) != 1 || st[0].OnDemand || st[0].Packets == 0 || st[0].Bytes == 0 {
		t.Fatalf("pulls %+v", st)
	}
	if err := m.StopPull(key); err != nil {
		t.Fatal(err)
	}
	if len(m.Pulls()) != 0 {
		t.Fatal("the pull is still listed")
	}
	t.Logf("pulled from nginx-rtmp: the player's %d packets equal the source's; pull status %+v", len(interop.Packets(t, ffmpeg, out)), st[0])
}

// timeToKey plays url with the library's client and returns how long
// the first video key frame took from the dial.
func timeToKey(t *testing.T, url string) time.Duration {
	t.Helper()
	start := time.Now()
	pl, err := rtmp.DialPlay(ctxT(t, 10*time.Second), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	for {
		pk, err := pl.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		if pk.IsKeyFrame() {
			return time.Since(start)
		}
	}
}

// Origin and edge, two servers: FFmpeg publishes two streams to the
// origin. An FFmpeg player of the edge that asked before the stream
// existed gets every packet of the source, byte-exact. A player that
// asks the edge for a stream it does not pull yet gets its first key
// frame within a second (a cold start: the edge pulls it), and so does
// one that joins a stream already pulled (the edge's own GOP cache; the
// origin still has one subscriber, the pull). The pull stops once its
// players have been gone for the idle time, while the origin still
// publishes.
func TestInteropEdge(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 6)
	origin := serve(t, quietHub(t, live.Config{PlayWait: 20 * time.Second}), "", everything)
	const idle = time.Second
	e, m := edge(t, origin.addr, idle)
	es := serve(t, e, "", everything)
	x, y := live.Key{App: "live", Name: "x"}, live.Key{App: "live", Name: "y"}

	out := filepath.Join(dir, "edge.flv")
	pE := play(t, ffmpeg, "rtmp://"+es.addr+"/live/x", out)
	eventually(t, "the edge to pull x", 5*time.Second, func() bool { return len(m.Pulls()) == 1 })
	pubX := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+origin.addr+"/live/x")...)
	pubY := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+origin.addr+"/live/y")...)
	time.Sleep(1500 * time.Millisecond)

	cold := timeToKey(t, "rtmp://"+es.addr+"/live/y")
	warm := timeToKey(t, "rtmp://"+es.addr+"/live/x")
	if cold > time.Second || warm > time.Second {
		t.Errorf("first key frame after %v (cold) and %v (warm), want within 1 s", cold, warm)
	}
	if si, _ := streamInfo(origin.hub, x); si.Subscribers != 1 {
		t.Errorf("the origin's x has %d subscribers, want 1 (the edge's pull)", si.Subscribers)
	}
	// y's player left: its pull stops after the idle time, while the
	// origin still has y.
	left := time.Now()
	eventually(t, "y's pull to stop", 10*time.Second, func() bool {
		for _, p := range m.Pulls() {
			if p.Key == y {
				return false
			}
		}
		return true
	})
	stopped := time.Since(left)
	si, _ := streamInfo(origin.hub, y)
	if !si.Publishing {
		t.Fatal("the origin's y ended before the idle pull stopped: the test proves nothing")
	}
	eventually(t, "the origin to lose y's pull", 5*time.Second, func() bool {
		si, _ := streamInfo(origin.hub, y)
		return si.Subscribers == 0
	})

	for _, p := range []*interop.Process{pubX, pubY} {
		if err := p.Wait(30 * time.Second); err != nil {
			t.Fatalf("publisher: %v\n%s", err, p.Output)
		}
	}
	if err := pE.Wait(20 * time.Second); err != nil {
		t.Fatalf("edge player: %v\n%s", err, pE.Output)
	}
	interop.SameHashes(t, ffmpeg, src, out)
	eventually(t, "x's pull to stop", 10*time.Second, func() bool { return len(m.Pulls()) == 0 })
	t.Logf("edge player: all %d packets equal to the origin's source; first key frame %v cold, %v warm; y's pull stopped %v after its player left (idle %v)",
		len(interop.Packets(t, ffmpeg, src)), cold.Round(time.Millisecond), warm.Round(time.Millisecond), stopped.Round(time.Millisecond), idle)
}

// FFmpeg 9 publishes a multitrack stream (H.264 + HEVC video, AAC +
// Opus audio) to a hub that pushes it to a second hub, which takes every
// codec and track, and to nginx-rtmp, which takes none of Enhanced RTMP.
// The second hub gets every tag as FFmpeg 9 sent it (recorded there,
// the file's media tags are those of FFmpeg 9's own remux); nginx gets
// the first tracks in legacy form, which its FFmpeg player saves
// packet for packet.
func TestInteropPushEnhanced(t *testing.T) {
	ff9 := interop.FFmpeg9(t, "ffmpeg")
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/multitrack.flv")
	ref := filepath.Join(dir, "ref.flv")
	interop.Run(t, time.Minute, ff9, strings.Fields("-hide_banner -loglevel error -i "+src+" -map 0 -c copy -f flv "+ref)...)
	first := filepath.Join(dir, "first.flv")
	interop.Run(t, time.Minute, ff9, strings.Fields("-hide_banner -loglevel error -i "+src+" -map 0:v:0 -map 0:a:0 -c copy -f flv "+first)...)

	ngx := interop.NginxRTMP(t)
	files := make(chan record.File, 1)
	rm := record.NewManager(record.ManagerOptions{
		App:    func(string) (record.Config, bool) { return record.Config{Dir: dir, Pattern: "{stream}.rec.flv"}, true },
		OnFile: func(f record.File) { files <- f }, Logger: logger(t)})
	targetHub := quietHub(t, live.Config{Hooks: rm.Hooks()})
	rm.SetHub(targetHub)
	target := serve(t, targetHub, "", everything)
	hub, _ := pusher(t, "rtmp://"+ngx+"/live/{stream}", "rtmp://"+target.addr+"/live/{stream}")
	origin := serve(t, hub, "", everything)

	outN := filepath.Join(dir, "nginx.flv")
	// nginx keeps its players when the publisher leaves (they wait for
	// the next): FFmpeg's ends after a few seconds without data.
	pN := play(t, ffmpeg, "rtmp://"+ngx+"/live/mt", outN, "-rw_timeout", "3000000")
	time.Sleep(300 * time.Millisecond)
	interop.Run(t, time.Minute, ff9, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -map 0 -c copy -rtmp_enhanced_codecs hvc1,avc1,Opus,mp4a -f flv rtmp://"+origin.addr+"/live/mt")...)
	var f record.File
	select {
	case f = <-files:
	case <-time.After(20 * time.Second):
		t.Fatal("the target's recording did not end")
	}
	interop.SameMediaTags(t, ref, f.Path)
	if err := pN.Wait(20 * time.Second); err != nil {
		t.Fatalf("nginx player: %v\n%s", err, pN.Output)
	}
	interop.SameHashes(t, ffmpeg, first, outN)
	t.Logf("the second hub got all %d media tags as published; nginx the first two tracks in legacy form, %d packets equal to theirs",
		len(interop.MediaTags(t, ref)), len(interop.WithData(interop.FrameMD5(t, ffmpeg, outN))))
}
