package cors

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHandle(t *testing.T) {
	for _, c := range []struct {
		method, reqHeaders string
		goOn               bool
		code               int
		allowMethods       string
		allowHeaders       string
		allow              string
	}{
		{method: "GET", goOn: true, code: 200},
		{method: "HEAD", goOn: true, code: 200},
		{method: "OPTIONS", reqHeaders: "range", code: 204, allowMethods: "GET, HEAD, OPTIONS", allowHeaders: "range"},
		{method: "POST", code: 405, allow: "GET, HEAD, OPTIONS"},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(c.method, "/live/x/index.m3u8", nil)
		if c.reqHeaders != "" {
			r.Header.Set("Access-Control-Request-Headers", c.reqHeaders)
		}
		if got := Handle(w, r, http.MethodGet, http.MethodHead); got != c.goOn {
			t.Errorf("%s: goes on %v, want %v", c.method, got, c.goOn)
		}
		h := w.Result().Header
		if w.Code != c.code || h.Get("Access-Control-Allow-Origin") != "*" ||
			h.Get("Access-Control-Allow-Methods") != c.allowMethods || h.Get("Access-Control-Allow-Headers") != c.allowHeaders || h.Get("Allow") != c.allow {
			t.Errorf("%s: %d %v", c.method, w.Code, h)
		}
	}
}
