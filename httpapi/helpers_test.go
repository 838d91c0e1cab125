package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/live/livetest"
	"github.com/ertmp/rtmp/message"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// server is an API over a live.Hub served by rtmp.Server on loopback, as
// the server assembly wires them: the API's hooks joined into the hub's,
// its ConnClosed as the server's OnConnClose.
type server struct {
	api    *httpapi.API
	hub    *live.Hub
	rtmp   string // host:port of the RTMP listener
	base   string // http://host:port of the API
	client *http.Client
	token  string // sent with every request but those of do
}

func start(t *testing.T, o httpapi.Options, cfg live.Config) *server {
	t.Helper()
	before := runtime.NumGoroutine()
	log := logTo(t)
	o.Logger = log
	api := httpapi.New(o)
	cfg.Hooks = live.JoinHooks(cfg.Hooks, api.Hooks())
	cfg.Logger = log
	hub := live.NewHub(cfg)
	api.SetHub(hub)

	addr := livetest.ServeRTMP(t, &rtmp.Server{Handler: hub, Logger: log, OnConnClose: api.ConnClosed}, hub, before)
	hs := httptest.NewServer(api)
	s := &server{api: api, hub: hub, rtmp: addr, base: hs.URL, client: hs.Client(), token: o.Token}
	s.client.Timeout = 10 * time.Second
	t.Cleanup(hs.Close)
	return s
}

// logTo sends log lines to t.Log.
func logTo(t *testing.T) *slog.Logger {
	return livetest.Logger(t)
}

// do sends a request with the given Authorization header (none if empty)
// and returns the answer with its body read.
func (s *server) do(t *testing.T, method, path, auth, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// call is do with the server's token, failing unless the status is want;
// it decodes a JSON answer into v (when not nil).
func (s *server) call(t *testing.T, method, path, body string, want int, v any) *http.Response {
	t.Helper()
	auth := ""
	if s.token != "" {
		auth = "Bearer " + s.token
	}
	resp, b := s.do(t, method, path, auth, body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if v != nil {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp
}

// families are the metric families of one scrape.
type families map[string]*dto.MetricFamily

// scrape reads /metrics with Prometheus's text parser.
func (s *server) scrape(t *testing.T) families {
	t.Helper()
	mfs, err := s.tryScrape()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// tryScrape is scrape for any goroutine.
func (s *server) tryScrape() (families, error) {
	resp, err := s.client.Get(s.base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		return nil, errors.New("/metrics: " + resp.Status + " " + resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(bytes.NewReader(b))
}

// get returns the value of the sample of name whose labels include the
// given name, value pairs: a counter's or gauge's value, a histogram's
// sample count; 0 when there is none.
func (f families) get(name string, labels ...string) float64 {
	m := f.find(name, labels...)
	switch {
	case m == nil:
		return 0
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

func (f families) find(name string, labels ...string) *dto.Metric {
	mf := f[name]
	if mf == nil {
		return nil
	}
next:
	for _, m := range mf.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// counters returns every ertmp_ counter and histogram count of a scrape,
// keyed by name and labels.
func (f families) counters() map[string]float64 {
	out := map[string]float64{}
	for name, mf := range f {
		if !strings.HasPrefix(name, "ertmp_") {
			continue
		}
		for _, m := range mf.Metric {
			key := name
			for _, lp := range m.Label {
				key += "," + lp.GetName() + "=" + lp.GetValue()
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.Counter.GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

// monotonic scrapes every 20 ms until stopped and reports any counter
// that went backwards between two scrapes, or a scrape that failed.
type monotonic struct {
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	errs  []string
	count int
}

func (s *server) watchCounters() *monotonic {
	w := &monotonic{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		last := map[string]float64{}
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			mfs, err := s.tryScrape()
			w.mu.Lock()
			if err != nil {
				w.errs = append(w.errs, err.Error())
			}
			w.count++
			for k, v := range mfs.counters() {
				if v < last[k] {
					w.errs = append(w.errs, k+" went backwards")
				}
				last[k] = v
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// check stops the watcher and fails t for what it saw.
func (w *monotonic) check(t *testing.T) {
	t.Helper()
	close(w.stop)
	<-w.done
	for _, e := range w.errs {
		t.Error(e)
	}
	t.Logf("%d scrapes, no counter went backwards", w.count)
}

// Synthetic FLV tag bodies (FLV 10.1 §E.4.2.1, §E.4.3.1): legacy AVC and
// AAC, which the hub reports as tracks avc1 and mp4a.
func avcSeq() []byte { return []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff} }
func aacSeq() []byte { return []byte{0xaf, 0, 0x12, 0x10} }
func avcFrame(key bool, size int) []byte {
	b := make([]byte, 5+size)
	b[0], b[1] = 0x27, 1
	if key {
		b[0] = 0x17
	}
	return b
}
func aacFrame(size int) []byte {
	b := make([]byte, 2+size)
	b[0], b[1] = 0xaf, 1
	return b
}

// feeder publishes with a library client: the sequence headers, then a
// 25 fps video frame (a key frame a second) and an audio frame every 40 ms
// until stopped or the connection ends.
type feeder struct {
	pub  *rtmp.Publisher
	stop chan struct{}
	done chan error
}

func publish(t *testing.T, ctx context.Context, url string) *feeder {
	t.Helper()
	pub, err := rtmp.DialPublish(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &feeder{pub: pub, stop: make(chan struct{}), done: make(chan error, 1)}
	t.Cleanup(func() { f.close() })
	go func() {
		err := pub.WritePackets(rtmp.Packet{Type: message.TypeVideo, Payload: avcSeq()}, rtmp.Packet{Type: message.TypeAudio, Payload: aacSeq()})
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for i := uint32(0); err == nil; i++ {
			ts := 40 * i
			err = pub.WritePackets(rtmp.Packet{Type: message.TypeVideo, Timestamp: ts, Payload: avcFrame(i%25 == 0, 2000)},
				rtmp.Packet{Type: message.TypeAudio, Timestamp: ts, Payload: aacFrame(200)})
			select {
			case <-f.stop:
				f.done <- err
				return
			case <-tick.C:
			}
		}
		f.done <- err
	}()
	return f
}

// close stops the feeder and unpublishes; it returns the write error
// that ended the feeder, if any.
func (f *feeder) close() error {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	err := <-f.done
	f.done <- err
	f.pub.Close()
	return err
}

// player plays with a library client and counts the packets it reads
// until the stream ends.
type player struct {
	pl      *rtmp.Player
	packets atomic.Int64
	ended   chan struct{}
}

func play(t *testing.T, ctx context.Context, url string) *player {
	t.Helper()
	pl, err := rtmp.DialPlay(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &player{pl: pl, ended: make(chan struct{})}
	go func() {
		defer close(p.ended)
		for {
			if _, err := pl.ReadPacket(); err != nil {
				return
			}
			p.packets.Add(1)
		}
	}()
	t.Cleanup(func() {
		pl.Close()
		<-p.ended
	})
	return p
}

// addr is the player's local address: its session's remote_addr.
func (p *player) addr() string { return p.pl.Conn().NetConn().LocalAddr().String() }

// eventually waits up to 10 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s, still not %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
