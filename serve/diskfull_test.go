package serve

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/record"
)

// A recording on a full disk (a 32 KiB tmpfs): FFmpeg publishes, an FFmpeg
// player gets every packet of the source all the same; the recording
// stops with the error logged, counted in ertmp_record_errors_total and
// shown by GET /v1/record among the ended recordings; the file holds
// whole tags and reads to its end.
func TestRecordDiskFull(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=32k"); err != nil {
		t.Skipf("a small tmpfs needs root: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	c := testConfig(t, fmt.Sprintf("apps:\n  live:\n    record: {dir: %q, pattern: \"{stream}.flv\"}\n", dir))
	r := start(t, c, Options{})
	base := "http://" + r.HTTPAddr().String()
	key := live.Key{App: "live", Name: "cam"}

	relayFFmpeg(t, ffmpeg, r.Hub(), key, r.url("live/cam"), r.url("live/cam"))

	waitFor(t, "the recording to end", func() bool { return r.Recorder().Recording(key) == nil })
	stopped := r.logs.lines("record: recording stopped")
	if len(stopped) != 1 || !strings.Contains(fmt.Sprint(stopped[0]["err"]), "no space left on device") {
		t.Fatalf("log lines %v", stopped)
	}
	if st := r.Recorder().Stats(); st.Errors != 1 || st.Files != 1 {
		t.Errorf("stats %+v", st)
	}
	code, body := httpGet(t, base+"/metrics", "")
	if code != 200 || !strings.Contains(string(body), "\nertmp_record_errors_total 1\n") {
		t.Errorf("metrics: %d, no ertmp_record_errors_total 1", code)
	}
	code, body = httpGet(t, base+"/v1/record", "")
	var v struct {
		Recordings []record.Status `json:"recordings"`
		Ended      []struct {
			Key   live.Key `json:"key"`
			Ended string   `json:"ended"`
			Error string   `json:"error"`
			Bytes uint64   `json:"bytes"`
		} `json:"ended"`
	}
	if err := json.Unmarshal(body, &v); code != 200 || err != nil {
		t.Fatalf("GET /v1/record: %d %v %s", code, err, body)
	}
	if len(v.Recordings) != 0 || len(v.Ended) != 1 || v.Ended[0].Key != key || v.Ended[0].Ended != "error" || !strings.Contains(v.Ended[0].Error, "no space left on device") {
		t.Fatalf("GET /v1/record: %s", body)
	}
	f, err := os.Open(dir + "/cam.flv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	tags, err := flv.NewReader(f).ReadAll()
	if err != nil || len(tags) < 10 || uint64(st.Size()) != v.Ended[0].Bytes {
		t.Fatalf("the file: %d bytes (reported %d), %d tags, %v", st.Size(), v.Ended[0].Bytes, len(tags), err)
	}
	t.Logf("disk full: the player got the whole stream; the recording stopped (%q) with %d bytes, %d whole tags", v.Ended[0].Error, st.Size(), len(tags))
}
