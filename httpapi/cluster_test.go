package httpapi_test

import (
	"testing"

	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/live"
)

// GET /v1/cluster shows what Options.Cluster gives, behind the token;
// without it, 501.
func TestAPICluster(t *testing.T) {
	type view struct {
		Node    string `json:"node"`
		Streams []struct {
			Name string `json:"name"`
			Node string `json:"node"`
		} `json:"streams"`
	}
	calls := 0
	s := start(t, httpapi.Options{Token: "tok", Cluster: func() any {
		calls++
		return map[string]any{"node": "A", "streams": []map[string]string{{"name": "cam", "node": "B"}}}
	}}, live.Config{})
	if resp, _ := s.do(t, "GET", "/v1/cluster", "", ""); resp.StatusCode != 401 {
		t.Errorf("without the token: %d", resp.StatusCode)
	}
	var v view
	s.call(t, "GET", "/v1/cluster", "", 200, &v)
	if v.Node != "A" || len(v.Streams) != 1 || v.Streams[0].Node != "B" || calls != 1 {
		t.Errorf("view %+v after %d calls", v, calls)
	}
	off := start(t, httpapi.Options{}, live.Config{})
	var e apiError
	off.call(t, "GET", "/v1/cluster", "", 501, &e)
	if e.Error == "" {
		t.Error("no error text")
	}
}
