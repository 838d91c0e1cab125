package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// web holds the status page: index.html, our script and style under
// assets/, and the pinned player libraries with their licences under
// assets/vendor/NAME-VERSION/ (scripts/fetch-players fetches them from npm
// and checks them against web/players.sha256).
//
//go:embed web/index.html web/assets
var web embed.FS

// pageCSP is the page's Content-Security-Policy: scripts, styles and data
// from this server only; media and hls.js's worker from blob: URLs (MSE);
// mpegts.js's WebSocket-FLV back to this server.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self' ws: wss:; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Page serves the status page of the HTTP listener:
//
//	GET /                 the page (HTML)
//	GET /assets/FILE      its script and style, and the player libraries:
//	                      /assets/vendor/hls.js-VERSION/hls.min.js,
//	                      /assets/vendor/mpegts.js-VERSION/mpegts.js, each
//	                      beside its LICENSE
//
// The page lists the hub's streams (codecs, tracks, bitrates, players,
// uptime) from the JSON API (/v1/streams and /v1/sessions, polled every
// two seconds; it asks for the bearer token when the API wants one) and
// plays any of them in the browser: HLS (/APP/STREAM/index.m3u8) with
// hls.js, HTTP-FLV and WebSocket-FLV (/APP/STREAM.flv) with mpegts.js. It
// checks the stream's codecs with MediaSource.isTypeSupported and says on
// the page which ones the browser or the player cannot play.
//
// Everything is embedded in the binary: no build step, no file to
// install. The page and our assets are revalidated on every load (ETag,
// Cache-Control: no-cache); the vendor files live at versioned paths and
// are cached for a year (immutable). Text is sent gzipped to clients that
// accept it. A file is read for its ETag and compressed once, at its first
// request, and only its compressed form is kept: the embedded bytes are
// served in place, so a server whose page nobody opens holds none of it
// (the player libraries are most of a megabyte). Any other path answers
// 404, a method other than GET or HEAD 405. A Page is safe for concurrent
// use.
type Page struct {
	// Immutable after NewPage: URL path -> file.
	files map[string]*pageFile
}

type pageFile struct {
	name  string // for http.ServeContent's content type fallback
	src   string // its name in web
	ctype string
	cache string

	once sync.Once // prepare
	etag string
	// gz is the file gzipped, with its own ETag; nil when that saves
	// little.
	gz     []byte
	gzEtag string
}

// NewPage returns the status page handler.
func NewPage() *Page {
	p := &Page{files: map[string]*pageFile{}}
	err := fs.WalkDir(web, "web", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(name, "web/")
		url := "/" + rel
		cache := "no-cache"
		switch {
		case rel == "index.html":
			url = "/"
		case strings.HasPrefix(rel, "assets/vendor/"):
			cache = "public, max-age=31536000, immutable"
		}
		p.files[url] = &pageFile{name: path.Base(name), src: name, ctype: contentType(rel), cache: cache}
		return nil
	})
	if err != nil {
		panic("httpapi: embedded page: " + err.Error()) // the embed is fixed at build time
	}
	return p
}

// open opens the embedded file in place (embed's files seek and read
// from the binary's data without a copy).
func (f *pageFile) open() io.ReadSeekCloser {
	r, err := web.Open(f.src)
	if err != nil {
		panic("httpapi: embedded page: " + err.Error()) // listed by NewPage
	}
	return r.(io.ReadSeekCloser)
}

// prepare computes the ETag and the gzipped form, once.
func (f *pageFile) prepare() {
	f.once.Do(func() {
		r := f.open()
		defer r.Close()
		sum := sha256.New()
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		n, _ := io.Copy(io.MultiWriter(sum, zw), r)
		zw.Close()
		id := hex.EncodeToString(sum.Sum(nil)[:12])
		f.etag = `"` + id + `"`
		if int64(gz.Len()) < n*9/10 {
			f.gz, f.gzEtag = gz.Bytes(), `"`+id+`-gz"`
		}
	})
}

// acceptsGzip reports whether a request's Accept-Encoding takes gzip
// (and does not refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			_, q, ok := strings.Cut(strings.ReplaceAll(params, " ", ""), "q=")
			if !ok {
				return true
			}
			v, err := strconv.ParseFloat(q, 64)
			return err == nil && v > 0
		}
	}
	return false
}

// contentType is the media type of an embedded file, by its name: the
// licences (LICENSE, *.txt) are plain text.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return "text/plain; charset=utf-8"
}

// Paths returns the URL paths the page serves, sorted: "/" and every
// asset.
func (p *Page) Paths() []string {
	out := make([]string, 0, len(p.files))
	for u := range p.files {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := p.files[r.URL.Path]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", f.cache)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Path == "/" {
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("Referrer-Policy", "no-referrer")
	}
	f.prepare()
	// ServeContent answers If-None-Match (304), HEAD and ranges (of the
	// encoded bytes, as RFC 9110 §14.1.1 has it).
	if f.gz != nil {
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			h.Set("ETag", f.gzEtag)
			http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.gz))
			return
		}
	}
	h.Set("ETag", f.etag)
	body := f.open()
	defer body.Close()
	http.ServeContent(w, r, f.name, time.Time{}, body)
}

// Serves reports whether the page serves a URL path: "/" or one of its
// assets (Paths).
func (p *Page) Serves(path string) bool { return p.files[path] != nil }
