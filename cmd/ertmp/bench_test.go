package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/live"
)

// ertmp bench against the hub in this process: every player gets every
// packet, delivered throughput is players × published, and the server CPU
// (this process) is reported.
func TestBench(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hub := live.NewHub(live.Config{})
	srv := &rtmp.Server{Handler: hub}
	go srv.Serve(ln)
	defer srv.Close()
	var out, errb bytes.Buffer
	code := run([]string{"bench", "-json", "-warmup", "0", "-players", "3", "-t", "1s", "-mbps", "1", "-server-pid", strconv.Itoa(os.Getpid()),
		"rtmp://" + ln.Addr().String() + "/live/bench"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r benchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if r.Connected != 3 || r.PacketsSent < 50 || r.MinReceivedRatio != 1 || len(r.Errors) > 0 {
		t.Fatalf("result %+v", r)
	}
	if ratio := r.DeliveredMbps / r.PublishedMbps; ratio < 2.9 || ratio > 3.1 {
		t.Fatalf("delivered %.2f Mbit/s for %.2f published to 3 players", r.DeliveredMbps, r.PublishedMbps)
	}
	if r.ServerCPUSec <= 0 || r.ServerCPUPerGbit <= 0 {
		t.Fatalf("no server CPU figure: %+v", r)
	}
	t.Logf("%+v", r)
}

func TestBenchNoServer(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "-t", "1s", "rtmp://127.0.0.1:1/live/x"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !bytes.Contains(errb.Bytes(), []byte("publisher")) {
		t.Fatalf("stderr %q", errb.String())
	}
}

func benchHub(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &rtmp.Server{Handler: live.NewHub(live.Config{})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// Ingest mode: three publishers, no players; side by side: the same load
// against two servers, with the ratio line; players that join a live
// stream report their time to the first key frame.
func TestBenchIngestAndCompare(t *testing.T) {
	a, b := benchHub(t), benchHub(t)
	pid := strconv.Itoa(os.Getpid())
	var out, errb bytes.Buffer
	code := run([]string{"bench", "-json", "-publishers", "3", "-players", "0", "-t", "1s", "-mbps", "1", "-server-pid", pid,
		"rtmp://" + a + "/live/in"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r benchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if r.Publishers != 3 || r.PublishedMbps < 1.8 || r.ServerCPUPerIngestGbit <= 0 || r.ServerPeakRSSMB <= 0 || len(r.Errors) > 0 {
		t.Fatalf("ingest result %+v", r)
	}
	out.Reset()
	errb.Reset()
	code = run([]string{"bench", "-players", "4", "-warmup", "1s", "-join-after", "700ms", "-t", "2s", "-mbps", "1", "-gop", "500ms", "-server-pid", pid + "," + pid,
		"rtmp://" + a + "/live/x", "rtmp://" + b + "/live/x"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{"rtmp://" + a + "/live/x: 1 publishers, 4/4 players", "rtmp://" + b + "/live/x: 1 publishers, 4/4 players",
		"first key frame after dialling: p50", "CPU per delivered Gbit", "got 100.0% of its packets"} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Fatalf("output lacks %q:\n%s\nstderr:\n%s", want, text, errb.String())
		}
	}
	for _, want := range []string{"ertmp bench: warm-up: rtmp://" + a + "/live/x", "ertmp bench: warm-up: rtmp://" + b + "/live/x"} {
		if !bytes.Contains(errb.Bytes(), []byte(want)) {
			t.Fatalf("no warm-up line %q:\n%s", want, errb.String())
		}
	}
	if !bytes.Contains(errb.Bytes(), []byte("ertmp bench: 2/2")) || !bytes.Contains(errb.Bytes(), []byte("Mbit/s delivered so far")) {
		t.Fatalf("no progress lines:\n%s", errb.String())
	}
	t.Log(text)
}

// Players over HTTP-FLV (URL#flv=BASE) against the same hub served by
// httpapi.FLV: every viewer gets every packet; a malformed suffix is a
// usage error.
func TestBenchHTTPFLV(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hub := live.NewHub(live.Config{})
	srv := &rtmp.Server{Handler: hub}
	go srv.Serve(ln)
	defer srv.Close()
	hs := httptest.NewServer(httpapi.NewFLV(hub, httpapi.FLVOptions{}))
	defer hs.Close()
	var out, errb bytes.Buffer
	code := run([]string{"bench", "-json", "-warmup", "0", "-players", "3", "-t", "1s", "-mbps", "1",
		"rtmp://" + ln.Addr().String() + "/live/flvbench#flv=" + hs.URL}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r benchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if r.Connected != 3 || r.PacketsSent < 50 || r.MinReceivedRatio != 1 || len(r.Errors) > 0 {
		t.Fatalf("result %+v", r)
	}
	if ratio := r.DeliveredMbps / r.PublishedMbps; ratio < 2.9 || ratio > 3.1 {
		t.Fatalf("delivered %.2f Mbit/s for %.2f published to 3 viewers", r.DeliveredMbps, r.PublishedMbps)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"bench", "-t", "1s", "rtmp://" + ln.Addr().String() + "/live/x#flv=ftp://h"}, &out, &errb); code != 1 || !bytes.Contains(errb.Bytes(), []byte("#flv=")) {
		t.Fatalf("bad #flv: exit %d, %q", code, errb.String())
	}
}

// The warm-up's stream is the measured one's name with "-warmup", the
// query and the #flv= suffix kept.
func TestWarmupURL(t *testing.T) {
	for in, want := range map[string]string{
		"rtmp://h/live/b":                           "rtmp://h/live/b-warmup",
		"rtmp://h:1935/live/b?key=1":                "rtmp://h:1935/live/b-warmup?key=1",
		"rtmp://h/live/c#flv=http://127.0.0.1:8080": "rtmp://h/live/c-warmup#flv=http://127.0.0.1:8080",
	} {
		if got, err := sideURL(in, "-warmup"); err != nil || got != want {
			t.Errorf("sideURL(%q, \"-warmup\") = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := sideURL("rtmp://h/live/x#flv=ftp://h", "-warmup"); err == nil {
		t.Error("a bad #flv= suffix was taken")
	}
}

// With ERTMP_TEST_RUN set, the test binary is ertmp: the bench's late
// joiners run it as their second process.
func TestMain(m *testing.M) {
	if os.Getenv("ERTMP_TEST_RUN") != "" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// -late: a second bench process joins players halfway through the run,
// and their time to the first key frame is reported with the run's.
func TestBenchLateJoiners(t *testing.T) {
	a := benchHub(t)
	t.Setenv("ERTMP_TEST_RUN", "1")
	var out, errb bytes.Buffer
	code := run([]string{"bench", "-json", "-warmup", "0", "-players", "2", "-join-after", "300ms", "-t", "1s", "-mbps", "1", "-gop", "500ms",
		"-late", "3", "rtmp://" + a + "/live/late"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r benchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if r.Connected != 2 || r.LatePlayers != 3 || r.LateFirstKeyP50Ms <= 0 || r.LateFirstKeyP99Ms < r.LateFirstKeyP50Ms || len(r.Errors) > 0 {
		t.Fatalf("result %+v", r)
	}
	t.Logf("late joiners: p50 %.1f ms, p99 %.1f ms", r.LateFirstKeyP50Ms, r.LateFirstKeyP99Ms)
}
