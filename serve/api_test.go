package serve

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func httpGet(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The assembled server serves /metrics and /v1/ beside /healthz: metrics
// count its sessions, the API lists its streams with a key-named stream
// redacted, and a reloaded api_token takes effect.
func TestServerHTTPAPI(t *testing.T) {
	c := testConfig(t, "api_token: first\napps:\n  live:\n    publish_keys: [s3cret]\n")
	r := start(t, c, Options{})
	base := "http://" + r.HTTPAddr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, r.url("live/s3cret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.WriteAVCSequenceHeader(0, []byte{1, 0x64, 0, 0x1f, 0xff, 0xe0, 0}); err != nil {
		t.Fatal(err)
	}
	pub.Flush()
	var streams struct {
		Streams []struct {
			App, Name  string
			Publishing bool
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := httpGet(t, base+"/v1/streams", "first")
		if code != 200 {
			t.Fatalf("/v1/streams: %d %s", code, body)
		}
		if strings.Contains(string(body), "s3cret") {
			t.Fatalf("the key is in the API: %s", body)
		}
		if err := json.Unmarshal(body, &streams); err != nil {
			t.Fatal(err)
		}
		if len(streams.Streams) == 1 && streams.Streams[0].Publishing {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stream listed: %s", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _ := httpGet(t, base+"/v1/streams", ""); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	code, body := httpGet(t, base+"/metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	f := fams["ertmp_sessions_started_total"]
	if f == nil || len(f.Metric) == 0 || f.Metric[0].GetCounter().GetValue() < 1 {
		t.Fatalf("ertmp_sessions_started_total: %v", f)
	}
	// A new token by reload.
	c2 := c.Clone()
	c2.APIToken = "second"
	if err := r.Reload(c2); err != nil {
		t.Fatal(err)
	}
	if code, _ := httpGet(t, base+"/v1/sessions", "first"); code != http.StatusUnauthorized {
		t.Fatalf("old token after reload: %d", code)
	}
	if code, _ := httpGet(t, base+"/v1/sessions", "second"); code != 200 {
		t.Fatalf("new token after reload: %d", code)
	}
}
