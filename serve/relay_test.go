package serve

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

// mediaPackets are an H.264/AAC stream: sequence headers, then key and
// inter frames with audio between.
func mediaPackets() []rtmp.Packet {
	pks := []rtmp.Packet{
		{Type: message.TypeVideo, Timestamp: 0, Payload: []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0}},
		{Type: message.TypeAudio, Timestamp: 0, Payload: []byte{0xaf, 0, 0x12, 0x10}},
	}
	for i := range 30 {
		ft := byte(0x27)
		if i%10 == 0 {
			ft = 0x17
		}
		ts := uint32(i * 40)
		pks = append(pks,
			rtmp.Packet{Type: message.TypeVideo, Timestamp: ts, Payload: []byte{ft, 1, 0, 0, 0, 0, 0, 0, 4, 0x65, byte(i), byte(i >> 8), 0xaa}},
			rtmp.Packet{Type: message.TypeAudio, Timestamp: ts + 20, Payload: []byte{0xaf, 1, byte(i), 0x21, 0x42}})
	}
	return pks
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An app with record: records what a library publisher sends, the file
// reads back with the published media; the API starts and stops a
// recording, and refuses an app without record config.
func TestRecordFromConfig(t *testing.T) {
	dir := t.TempDir()
	c := testConfig(t, fmt.Sprintf("apps:\n  live:\n    record: {dir: %q, pattern: \"{app}/{stream}-{seq}.flv\"}\n", dir))
	r := start(t, c, Options{})
	base := "http://" + r.HTTPAddr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, r.url("live/cam"), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the recording", func() bool { return r.Recorder().Recording(live.Key{App: "live", Name: "cam"}) != nil })
	sent := mediaPackets()
	if err := pub.WritePackets(sent...); err != nil {
		t.Fatal(err)
	}
	// The API: an app without record config, and the running recording.
	if code, body := post(t, base+"/v1/record/start", `{"app":"other","name":"cam"}`); code != http.StatusConflict || !strings.Contains(body, "no record config") {
		t.Errorf("start without config: %d %s", code, body)
	}
	if code, body := post(t, base+"/v1/record/start", `{"app":"live","name":"cam"}`); code != http.StatusConflict || !strings.Contains(body, "already recording") {
		t.Errorf("start while recording: %d %s", code, body)
	}
	if code, body := httpGet(t, base+"/v1/record", ""); code != 200 || !strings.Contains(string(body), `"name":"cam"`) {
		t.Errorf("GET /v1/record: %d %s", code, body)
	}
	// Stop: the first file is closed with everything sent so far.
	waitUntil(t, "the packets", func() bool {
		st := r.Recorder().Recordings()
		return len(st) == 1 && st[0].Path != ""
	})
	time.Sleep(100 * time.Millisecond)
	if code, body := post(t, base+"/v1/record/stop", `{"app":"live","name":"cam"}`); code != 200 {
		t.Fatalf("stop: %d %s", code, body)
	}
	waitUntil(t, "the stop", func() bool { return r.Recorder().Recording(live.Key{App: "live", Name: "cam"}) == nil })
	if code, body := post(t, base+"/v1/record/stop", `{"app":"live","name":"cam"}`); code != http.StatusNotFound {
		t.Errorf("stop again: %d %s", code, body)
	}
	checkFile(t, filepath.Join(dir, "live", "cam-0.flv"), sent)
	// Start again from the API, publish more, end the stream.
	if code, body := post(t, base+"/v1/record/start", `{"app":"live","name":"cam"}`); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	more := mediaPackets()
	for i := range more {
		more[i].Timestamp += 2000
	}
	if err := pub.WritePackets(more...); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	pub.Close()
	waitUntil(t, "the end", func() bool { return r.Recorder().Recording(live.Key{App: "live", Name: "cam"}) == nil })
	st := r.Recorder().Stats()
	if st.Files != 2 || st.Errors != 0 || st.Lost != 0 {
		t.Errorf("stats %+v", st)
	}
	code, body := httpGet(t, base+"/metrics", "")
	if code != 200 || !strings.Contains(string(body), "ertmp_record_files_total 2") {
		t.Errorf("metrics: no ertmp_record_files_total 2")
	}
}

// checkFile reads a recorded file and compares its media tags with sent
// (payloads in order; timestamps relative to the first).
func checkFile(t *testing.T, path string, sent []rtmp.Packet) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tags, err := flv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []flv.Tag
	for _, tg := range tags {
		if tg.Type == flv.TagAudio || tg.Type == flv.TagVideo {
			got = append(got, tg)
		}
	}
	if len(got) != len(sent) {
		t.Fatalf("%s: %d media tags, want %d", path, len(got), len(sent))
	}
	for i, p := range sent {
		if !bytes.Equal(got[i].Data, p.Payload) || got[i].Timestamp-got[0].Timestamp != p.Timestamp-sent[0].Timestamp {
			t.Fatalf("%s: tag %d: ts %d %x, want ts %d %x", path, i, got[i].Timestamp, got[i].Data, p.Timestamp, p.Payload)
		}
	}
	t.Logf("%s: %d media tags equal to the published packets", path, len(got))
}

// push: in the config sends every stream of the app to another server.
func TestPushFromConfig(t *testing.T) {
	dst := start(t, testConfig(t, ""), Options{})
	c := testConfig(t, fmt.Sprintf("apps:\n  live:\n    push: [\"rtmp://%s/mirror/{stream}\"]\n", dst.Addr()))
	src := start(t, c, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, src.url("live/cam"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sent := mediaPackets()
	// The first packets and the push's connection race: send the
	// sequence headers and the first GOP, and read from the target's
	// GOP cache.
	if err := pub.WritePackets(sent...); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the push's stream", func() bool {
		for _, st := range dst.Hub().Streams() {
			if st.App == "mirror" && st.Name == "cam" && st.Publishing {
				return true
			}
		}
		return false
	})
	play, err := rtmp.DialPlay(ctx, dst.url("mirror/cam"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer play.Close()
	more := mediaPackets()[2:]
	for i := range more {
		more[i].Timestamp += 2000
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		pub.WritePackets(more...)
	}()
	want := more[len(more)-1].Payload
	n := 0
	for {
		pk, err := play.ReadPacket()
		if err != nil {
			t.Fatalf("after %d packets: %v", n, err)
		}
		if pk.IsMedia() {
			n++
		}
		if bytes.Equal(pk.Payload, want) {
			break
		}
	}
	code, body := httpGet(t, "http://"+src.HTTPAddr().String()+"/v1/relays", "")
	if code != 200 || !strings.Contains(string(body), `"state":"connected"`) {
		t.Errorf("GET /v1/relays: %d %s", code, body)
	}
	t.Logf("the target's player got %d media packets through the push; %s", n, body)
}

// A static pull from the config: the listed stream of the origin is pulled
// from the start and played here.
func TestStaticPullFromConfig(t *testing.T) {
	origin := start(t, testConfig(t, ""), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, origin.url("live/cam"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.WritePackets(mediaPackets()...); err != nil {
		t.Fatal(err)
	}
	c := testConfig(t, fmt.Sprintf("apps:\n  edge:\n    pull: {url: \"rtmp://%s/live\", on_demand: false, streams: [cam]}\n", origin.Addr()))
	edge := start(t, c, Options{})
	waitUntil(t, "the static pull", func() bool {
		for _, st := range edge.Hub().Streams() {
			if st.App == "edge" && st.Name == "cam" && st.Publishing {
				return true
			}
		}
		return false
	})
	play, err := rtmp.DialPlay(ctx, edge.url("edge/cam"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer play.Close()
	more := mediaPackets()[2:]
	for i := range more {
		more[i].Timestamp += 2000
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		pub.WritePackets(more...)
	}()
	want := more[len(more)-1].Payload
	for n := 0; ; n++ {
		pk, err := play.ReadPacket()
		if err != nil {
			t.Fatalf("after %d packets: %v", n, err)
		}
		if bytes.Equal(pk.Payload, want) {
			break
		}
	}
	if ps := edge.Relay().Pulls(); len(ps) != 1 || ps[0].OnDemand {
		t.Fatalf("pulls %+v", ps)
	}
}
