package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/relay"
)

// An `ertmp serve` process pushes what FFmpeg publishes to nginx-rtmp and
// to a second `ertmp serve` process at once (its app's push: [...]). The
// second is killed (SIGKILL) mid-stream: the local player and nginx's
// player go on and save every packet of the source; the push to the
// killed target retries and reconnects when it is back on its port, and
// a player of it then gets the stream.
func TestPushNginxAndServe(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	ngx := interop.NginxRTMP(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 8)

	targetAddr := fmt.Sprintf("127.0.0.1:%d", interop.FreePort(t))
	target := startServe(t, "-listen", targetAddr, "-http", "", "-drain-timeout", "0")
	conf := filepath.Join(dir, "origin.yaml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`apps:
  live:
    push: ["rtmp://%s/live/{stream}", "rtmp://%s/live/{stream}"]
`, ngx, targetAddr)), 0o600)
	origin := startServe(t, "-config", conf, "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0", "-drain-timeout", "0")
	originHTTP := origin.waitLog(t, "ertmp: http listening", 1, nil)[0]["addr"].(string)

	local, viaNginx := filepath.Join(dir, "local.flv"), filepath.Join(dir, "nginx.flv")
	pLocal := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i rtmp://"+origin.addr+"/live/x -map 0:v -map 0:a -c copy -f flv "+local)...)
	// nginx keeps its players when the publisher leaves: this one ends
	// after 3 s without data.
	pNginx := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -rw_timeout 3000000 -i rtmp://"+ngx+"/live/x -map 0:v -map 0:a -c copy -f flv "+viaNginx)...)
	time.Sleep(500 * time.Millisecond) // the players wait for the stream
	pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+origin.addr+"/live/x")...)

	targets := func() []relay.TargetStatus {
		ps := relays(t, originHTTP).Pushes
		if len(ps) != 1 || len(ps[0].Targets) != 2 {
			return nil
		}
		return ps[0].Targets
	}
	waitFor(t, "both targets connected", 10*time.Second, func() bool {
		ts := targets()
		return ts != nil && ts[0].State == relay.StateConnected && ts[1].State == relay.StateConnected
	})
	time.Sleep(1500 * time.Millisecond)
	target.cmd.Process.Kill()
	<-target.exited
	killed := time.Now()
	waitFor(t, "the push to the killed target to notice", 10*time.Second, func() bool {
		ts := targets()
		return ts != nil && ts[1].Reconnects >= 1
	})
	noticed := time.Since(killed)
	time.Sleep(500 * time.Millisecond)
	target = startServe(t, "-listen", targetAddr, "-http", "", "-drain-timeout", "0")
	restarted := time.Now()
	waitFor(t, "the push to reconnect", 10*time.Second, func() bool {
		ts := targets()
		return ts != nil && ts[1].State == relay.StateConnected
	})
	reconnected := time.Since(restarted)
	back := filepath.Join(dir, "back.flv")
	pBack := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i rtmp://"+targetAddr+"/live/x -t 1.5 -map 0:v -map 0:a -c copy -f flv "+back)...)
	if err := pBack.Wait(15 * time.Second); err != nil {
		t.Fatalf("player of the returned target: %v\n%s", err, pBack.Output)
	}
	status := targets()

	if err := pub.Wait(30 * time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.Output)
	}
	if err := pLocal.Wait(20 * time.Second); err != nil {
		t.Fatalf("local player: %v\n%s", err, pLocal.Output)
	}
	pNginx.Wait(20 * time.Second) // ends on its read timeout
	interop.SameHashes(t, ffmpeg, src, local)
	interop.SameHashes(t, ffmpeg, src, viaNginx)
	srcPkts, backPkts := interop.Packets(t, ffmpeg, src), interop.Packets(t, ffmpeg, back)
	at, err := interop.RunOf(srcPkts, backPkts)
	if err != nil || len(backPkts) < 20 {
		t.Fatalf("the returned target's player: %d packets: %v", len(backPkts), err)
	}
	if status == nil || status[0].Reconnects != 0 || status[1].Reconnects < 1 {
		t.Errorf("targets %+v", status)
	}
	t.Logf("local and nginx players: all %d packets equal to the source's; the second ertmp serve killed: noticed in %v, reconnected %v after its restart; its new player got %d packets from source video packet %d",
		len(srcPkts), noticed.Round(time.Millisecond), reconnected.Round(time.Millisecond), len(backPkts), at["0"])
	t.Logf("targets: %+v", status)
}
