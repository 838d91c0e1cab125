package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"strconv"
	"testing"

	rtmp "github.com/ertmp/rtmp"
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
	code := run([]string{"bench", "-json", "-players", "3", "-t", "1s", "-mbps", "1", "-server-pid", strconv.Itoa(os.Getpid()),
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
