package serve

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
)

// on_record_done reaches an HTTP hook server for each finished file, with
// nginx-rtmp's fields and the file's path, size and reason.
func TestRecordDoneHook(t *testing.T) {
	calls := make(chan url.Values, 4)
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		calls <- r.PostForm
	}))
	defer hooks.Close()
	dir := t.TempDir()
	c := testConfig(t, fmt.Sprintf("apps:\n  live:\n    record: {dir: %q, pattern: \"{stream}.flv\"}\n    on_record_done: %q\n", dir, hooks.URL+"/done"))
	r := start(t, c, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, r.url("live/cam"), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the recording", func() bool { return len(r.Recorder().Recordings()) == 1 })
	if err := pub.WritePackets(mediaPackets()...); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	pub.Close()
	select {
	case f := <-calls:
		path := filepath.Join(dir, "cam.flv")
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Get("call") != "record_done" || f.Get("app") != "live" || f.Get("name") != "cam" || f.Get("path") != path ||
			f.Get("size") != fmt.Sprint(fi.Size()) || f.Get("reason") == "" {
			t.Fatalf("hook form %v (file %d bytes)", f, fi.Size())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no on_record_done")
	}
}
