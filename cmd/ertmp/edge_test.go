package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/relay"
)

// Two `ertmp serve` processes, the second the edge of the first (its
// app's pull: {url: rtmp://ORIGIN/live, on_demand: true, idle: 2s}):
//
//   - an FFmpeg player of the edge, there before the publisher, saves
//     every packet FFmpeg publishes to the origin, byte for byte;
//   - on a second stream, already live on the origin, a player of the
//     edge (our client) gets its first key frame within a second of
//     asking, though the edge had to start the pull;
//   - a second player of the edge starts from the edge's own GOP cache:
//     the edge still has one pull of the stream (GET /v1/relays, with two
//     viewers) and the origin one player of it, the edge's;
//   - when the last player leaves, the pull stops after the idle time:
//     gone from the edge's /v1/relays and from the origin's /v1/sessions.
func TestOriginEdge(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 6)

	origin := startServe(t, "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0", "-drain-timeout", "0")
	originHTTP := origin.waitLog(t, "ertmp: http listening", 1, nil)[0]["addr"].(string)
	const idle = 2 * time.Second
	conf := filepath.Join(dir, "edge.yaml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`apps:
  live:
    pull: {url: rtmp://%s/live, on_demand: true, idle: %v}
`, origin.addr, idle)), 0o600)
	edge := startServe(t, "-config", conf, "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0", "-drain-timeout", "0")
	edgeHTTP := edge.waitLog(t, "ertmp: http listening", 1, nil)[0]["addr"].(string)

	// Byte-exact: the edge's player is there first; the pull waits on the
	// origin (its play_wait) for the publisher.
	out := filepath.Join(dir, "edge.flv")
	player := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i rtmp://"+edge.addr+"/live/a -map 0:v -map 0:a -c copy -f flv "+out)...)
	time.Sleep(300 * time.Millisecond)
	pubA := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+origin.addr+"/live/a")...)

	// Cold start on a stream the origin already has.
	pubB := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -stream_loop 1 -i "+src+" -c copy -f flv rtmp://"+origin.addr+"/live/b")...)
	waitFor(t, "live/b published on the origin", 10*time.Second, func() bool {
		for _, s := range sessions(t, originHTTP) {
			if s.Kind == "publish" && s.Key == (live.Key{App: "live", Name: "b"}) && s.Packets > 25 {
				return true
			}
		}
		return false
	})
	cold, p1 := firstKeyFrame(t, "rtmp://"+edge.addr+"/live/b")
	if cold > time.Second {
		t.Errorf("cold start: the first key frame came %v after asking", cold)
	}
	warm, p2 := firstKeyFrame(t, "rtmp://"+edge.addr+"/live/b")
	if warm > time.Second {
		t.Errorf("warm start: the first key frame came %v after asking", warm)
	}
	pulls := relays(t, edgeHTTP).Pulls
	var pullB *relay.PullStatus
	for i := range pulls {
		if pulls[i].Key.Name == "b" {
			if pullB != nil {
				t.Fatalf("two pulls of live/b: %+v", pulls)
			}
			pullB = &pulls[i]
		}
	}
	if pullB == nil || pullB.Viewers != 2 || pullB.State != relay.StateConnected || !pullB.OnDemand {
		t.Fatalf("the edge's pulls: %+v", pulls)
	}
	if n := players(t, originHTTP, "b"); n != 1 {
		t.Fatalf("the origin has %d players of live/b, want 1 (the edge's pull)", n)
	}

	// The last player leaves: the pull stops after the idle time.
	p1.Close()
	p2.Close()
	left := time.Now()
	waitFor(t, "the pull of live/b gone from the edge and the origin", 3*idle+5*time.Second, func() bool {
		for _, p := range relays(t, edgeHTTP).Pulls {
			if p.Key.Name == "b" {
				return false
			}
		}
		return players(t, originHTTP, "b") == 0
	})
	stopped := time.Since(left)
	if stopped < idle {
		t.Errorf("the pull stopped %v after the last player left, before its idle time %v", stopped, idle)
	}
	pubB.Kill()

	if err := pubA.Wait(30 * time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pubA.Output)
	}
	if err := player.Wait(20 * time.Second); err != nil {
		t.Fatalf("edge player: %v\n%s", err, player.Output)
	}
	interop.SameHashes(t, ffmpeg, src, out)
	t.Logf("edge player: every packet of the source, equal; cold start: first key frame %v after asking, warm start (the edge's GOP cache) %v; one pull, one origin player; the pull stopped %v after the last player left (idle %v)",
		cold.Round(time.Millisecond), warm.Round(time.Millisecond), stopped.Round(time.Millisecond), idle)
}

// firstKeyFrame plays url with our client and returns how long the
// first video key frame took to come after asking, and the player.
func firstKeyFrame(t *testing.T, url string) (time.Duration, *rtmp.Player) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	asked := time.Now()
	pl, err := rtmp.DialPlay(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pl.Close() })
	pl.Conn().NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		p, err := pl.ReadPacket()
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if p.IsKeyFrame() && !p.IsSequenceHeader() {
			d := time.Since(asked)
			pl.Conn().NetConn().SetReadDeadline(time.Time{})
			// Keep reading, as a player does, so that the server does
			// not find it slow.
			go func() {
				for {
					if _, err := pl.ReadPacket(); err != nil {
						return
					}
				}
			}()
			return d, pl
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

type sessionJSON struct {
	Kind     string   `json:"kind"`
	Protocol string   `json:"protocol"`
	Key      live.Key `json:"key"`
	Packets  uint64   `json:"packets"`
}

func sessions(t *testing.T, httpAddr string) []sessionJSON {
	var v struct {
		Sessions []sessionJSON `json:"sessions"`
	}
	getJSON(t, "http://"+httpAddr+"/v1/sessions", &v)
	return v.Sessions
}

// players counts the play sessions of live/name.
func players(t *testing.T, httpAddr, name string) int {
	n := 0
	for _, s := range sessions(t, httpAddr) {
		if s.Kind == "play" && s.Key == (live.Key{App: "live", Name: name}) {
			n++
		}
	}
	return n
}

type relaysJSON struct {
	Pushes []relay.PushStatus `json:"pushes"`
	Pulls  []relay.PullStatus `json:"pulls"`
}

func relays(t *testing.T, httpAddr string) relaysJSON {
	var v relaysJSON
	getJSON(t, "http://"+httpAddr+"/v1/relays", &v)
	return v
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still not %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
