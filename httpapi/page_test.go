package httpapi_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/live"
)

func serve(t *testing.T, h http.Handler, method, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// The page and its assets: content types, caching (revalidated for ours,
// a year for the versioned vendor files), ETag and 304, HEAD, 405 and 404;
// the page's security headers.
func TestPageServes(t *testing.T) {
	p := httpapi.NewPage()
	paths := p.Paths()
	for _, want := range []string{"/", "/assets/page.js", "/assets/page.css",
		"/assets/vendor/hls.js-1.7.4/hls.min.js", "/assets/vendor/hls.js-1.7.4/LICENSE",
		"/assets/vendor/mpegts.js-1.8.2/mpegts.js", "/assets/vendor/mpegts.js-1.8.2/LICENSE"} {
		if !slices.Contains(paths, want) {
			t.Errorf("the page does not serve %s (it serves %v)", want, paths)
		}
	}
	for _, path := range paths {
		resp, body := serve(t, p, "GET", path)
		ct, cc, etag := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), resp.Header.Get("ETag")
		wantCT := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
			".svg": "image/svg+xml", "": "text/plain; charset=utf-8", ".txt": "text/plain; charset=utf-8"}[filepath.Ext(path)]
		if path == "/" {
			wantCT = "text/html; charset=utf-8"
		}
		wantCC := "no-cache"
		if strings.HasPrefix(path, "/assets/vendor/") {
			wantCC = "public, max-age=31536000, immutable"
		}
		if resp.StatusCode != 200 || ct != wantCT || cc != wantCC || etag == "" || len(body) == 0 ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: %d, %d bytes, Content-Type %q, Cache-Control %q, ETag %q; want 200, %q, %q",
				path, resp.StatusCode, len(body), ct, cc, etag, wantCT, wantCC)
			continue
		}
		if resp, body := serve(t, p, "GET", path, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("GET %s If-None-Match %s: %d with %d bytes, want 304", path, etag, resp.StatusCode, len(body))
		}
		if resp, hb := serve(t, p, "HEAD", path); resp.StatusCode != 200 || len(hb) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("HEAD %s: %d, Content-Length %q, %d bytes of body", path, resp.StatusCode, resp.Header.Get("Content-Length"), len(hb))
		}
	}

	// Text goes gzipped to a client that takes it, with its own ETag.
	for _, path := range []string{"/", "/assets/page.js", "/assets/vendor/hls.js-1.7.4/hls.min.js"} {
		_, plain := serve(t, p, "GET", path)
		resp, body := serve(t, p, "GET", path, "Accept-Encoding", "br, gzip;q=0.8")
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("GET %s gzip: %v", path, err)
		}
		unzipped, err := io.ReadAll(zr)
		etag := resp.Header.Get("ETag")
		if err != nil || !bytes.Equal(unzipped, plain) || resp.Header.Get("Content-Encoding") != "gzip" ||
			resp.Header.Get("Vary") != "Accept-Encoding" || len(body) >= len(plain) {
			t.Errorf("GET %s gzip: %v, %d bytes for %d, headers %v", path, err, len(body), len(plain), resp.Header)
		}
		if r2, _ := serve(t, p, "GET", path, "Accept-Encoding", "gzip", "If-None-Match", etag); r2.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s gzip If-None-Match %s: %d", path, etag, r2.StatusCode)
		}
		if r3, b3 := serve(t, p, "GET", path, "Accept-Encoding", "gzip;q=0, deflate"); r3.Header.Get("Content-Encoding") != "" || !bytes.Equal(b3, plain) {
			t.Errorf("GET %s with gzip;q=0: Content-Encoding %q", path, r3.Header.Get("Content-Encoding"))
		}
	}

	resp, body := serve(t, p, "GET", "/")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "media-src 'self' blob:") {
		t.Errorf("/: Content-Security-Policy %q", csp)
	}
	if !strings.Contains(string(body), `<script src="assets/page.js"`) {
		t.Errorf("/ does not load assets/page.js:\n%s", body)
	}
	if resp, _ := serve(t, p, "POST", "/"); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	for _, path := range []string{"/assets/", "/assets/nope.js", "/assets/vendor/hls.js-1.7.4/hls.js", "/index.html", "/assets/../assets/page.js"} {
		if resp, _ := serve(t, p, "GET", path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// The player libraries the binary embeds are the files that
// scripts/fetch-players fetched and checked: each matches its SHA-256 in
// web/players.sha256, every vendor file is listed, and each library has
// its LICENSE beside it. Every asset the page and its script refer to is
// served (a version bump that misses one fails here).
func TestPageVendorChecksums(t *testing.T) {
	p := httpapi.NewPage()
	f, err := os.Open("web/players.sha256")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("players.sha256: bad line %q", sc.Text())
		}
		listed["/"+name] = true
		resp, body := serve(t, p, "GET", "/"+name)
		got := sha256.Sum256(body)
		if resp.StatusCode != 200 || hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: %d, sha256 %x, want %s", name, resp.StatusCode, got, sum)
		}
	}
	if len(listed) == 0 {
		t.Fatal("players.sha256 lists nothing")
	}
	dirs := map[string]bool{}
	for _, path := range p.Paths() {
		if strings.HasPrefix(path, "/assets/vendor/") {
			if !listed[path] {
				t.Errorf("%s is embedded but not in players.sha256", path)
			}
			dirs[filepath.Dir(path)] = true
		}
	}
	for d := range dirs {
		if !slices.Contains(p.Paths(), d+"/LICENSE") {
			t.Errorf("%s has no LICENSE", d)
		}
	}

	// References are quoted: "assets/...", 'assets/...'.
	ref := regexp.MustCompile(`["'](assets/[A-Za-z0-9_./-]+)["']`)
	n := 0
	for _, src := range []string{"/", "/assets/page.js"} {
		_, body := serve(t, p, "GET", src)
		for _, sm := range ref.FindAllStringSubmatch(string(body), -1) {
			m := sm[1]
			n++
			if resp, _ := serve(t, p, "GET", "/"+m); resp.StatusCode != 200 {
				t.Errorf("%s refers to %s: %d", src, m, resp.StatusCode)
			}
		}
	}
	if n < 6 {
		t.Errorf("only %d asset references found in the page and its script", n)
	}
}

// Root sends exactly the page's paths to the page, .flv paths to FLV and
// the other stream paths to HLS (streams of an app named assets too), the
// rest to 404.
func TestRootPage(t *testing.T) {
	flv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "flv") })
	hls := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hls") })
	page := httpapi.NewPage()
	root := &httpapi.Root{FLV: flv, HLS: hls, Page: page}
	for _, path := range page.Paths() {
		if !page.Serves(path) {
			t.Errorf("Serves(%s) is false", path)
		}
	}
	for _, path := range []string{"", "/assets/", "/assets/vendor/", "/index.html", "/assets/cam/index.m3u8"} {
		if page.Serves(path) {
			t.Errorf("Serves(%q) is true", path)
		}
	}
	for _, c := range []struct {
		path string
		code int
		body string
	}{
		{"/", 200, "<title>ertmp</title>"},
		{"/assets/page.css", 200, "box-sizing"},
		{"/assets/vendor/hls.js-1.7.4/hls.min.js", 200, "Hls"},
		{"/assets/cam.flv", 200, "flv"},
		{"/live/cam.flv", 200, "flv"},
		{"/assets/cam/index.m3u8", 200, "hls"},
		{"/live/cam/index.m3u8", 200, "hls"},
		{"/assets/nope", 404, ""},
		{"/live", 404, ""},
	} {
		resp, body := serve(t, root, "GET", c.path)
		if resp.StatusCode != c.code || !strings.Contains(string(body), c.body) {
			t.Errorf("GET %s: %d %.60q, want %d with %q", c.path, resp.StatusCode, body, c.code, c.body)
		}
	}
	if resp, _ := serve(t, &httpapi.Root{FLV: flv}, "GET", "/"); resp.StatusCode != 404 {
		t.Errorf("GET / without a page: %d, want 404", resp.StatusCode)
	}
}

// The JSON API gives each stream and session its uptime by the server's
// clock: it grows while the stream goes on.
func TestAPIUptime(t *testing.T) {
	s := start(t, httpapi.Options{}, live.Config{})
	ctx := testCtx(t)
	url := "rtmp://" + s.rtmp + "/live/up"
	publish(t, ctx, url)
	play(t, ctx, url)

	type withUptime struct {
		Kind   string  `json:"kind"`
		Uptime float64 `json:"uptime"`
	}
	var first struct {
		Streams []withUptime `json:"streams"`
	}
	eventually(t, "the stream published", func() bool {
		s.call(t, "GET", "/v1/streams", "", 200, &first)
		return len(first.Streams) == 1 && first.Streams[0].Uptime > 0
	})
	time.Sleep(1200 * time.Millisecond)
	var later struct {
		Streams []withUptime `json:"streams"`
	}
	s.call(t, "GET", "/v1/streams", "", 200, &later)
	if d := later.Streams[0].Uptime - first.Streams[0].Uptime; d < 1 || d > 5 {
		t.Errorf("stream uptime %.1f s, then %.1f s 1.2 s later", first.Streams[0].Uptime, later.Streams[0].Uptime)
	}
	var one withUptime
	s.call(t, "GET", "/v1/streams/live/up", "", 200, &one)
	if one.Uptime < later.Streams[0].Uptime {
		t.Errorf("/v1/streams/live/up: uptime %.1f s, /v1/streams said %.1f s", one.Uptime, later.Streams[0].Uptime)
	}
	var ss struct {
		Sessions []withUptime `json:"sessions"`
	}
	s.call(t, "GET", "/v1/sessions", "", 200, &ss)
	if len(ss.Sessions) != 2 {
		t.Fatalf("sessions: %+v", ss)
	}
	for _, x := range ss.Sessions {
		if x.Uptime < 1 || x.Uptime > 60 {
			t.Errorf("%s session: uptime %.1f s", x.Kind, x.Uptime)
		}
	}
}
