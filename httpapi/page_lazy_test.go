package httpapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"testing"
)

// A Page holds none of its files until one is asked for, and then only
// that file's compressed form: the plain bytes are served from the
// binary's data in place.
func TestPageReadsFilesOnDemand(t *testing.T) {
	p := NewPage()
	const js = "/assets/vendor/hls.js-1.7.4/hls.min.js"
	for u, f := range p.files {
		if f.etag != "" || f.gz != nil {
			t.Fatalf("%s read before anyone asked for it", u)
		}
	}
	want, err := web.ReadFile("web" + js)
	if err != nil {
		t.Fatal(err)
	}
	for _, gz := range []bool{false, true} {
		req := httptest.NewRequest("GET", js, nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if gz {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if rec.Code != 200 || !bytes.Equal(body, want) {
			t.Fatalf("gzip %v: %d, %d bytes, want 200 and the file's %d", gz, rec.Code, len(body), len(want))
		}
	}
	f := p.files[js]
	if f.etag == "" || f.gz == nil || len(f.gz) >= len(want)/2 {
		t.Fatalf("after a request: ETag %q, %d of %d bytes gzipped", f.etag, len(f.gz), len(want))
	}
	for u, other := range p.files {
		if u != js && (other.etag != "" || other.gz != nil) {
			t.Fatalf("%s read with %s", u, js)
		}
	}
}
