package interop

import (
	"net"
	"testing"
	"time"
)

// nginx-rtmp starts, accepts a TCP connection and answers an RTMP C0+C1.
func TestNginxRTMPStarts(t *testing.T) {
	addr := NginxRTMP(t)
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c0c1 := make([]byte, 1537)
	c0c1[0] = 3
	if _, err := c.Write(c0c1); err != nil {
		t.Fatal(err)
	}
	s0 := make([]byte, 1)
	if _, err := c.Read(s0); err != nil || s0[0] != 3 {
		t.Fatalf("S0 = %v, %v", s0, err)
	}
}

func TestFrameMD5(t *testing.T) {
	lines := FrameMD5(t, FFmpeg(t), ModuleRoot(t)+"/testdata/ffmpeg/h264_aac.flv")
	if len(lines) != 50+88 {
		t.Fatalf("%d packet lines, want 138 (50 video + 88 audio)", len(lines))
	}
}

// nats-server starts with JetStream, stops, and starts again on its port.
func TestNATSServerStarts(t *testing.T) {
	n := NATSServer(t)
	WaitPort(t, n.URL[len("nats://"):], 5*time.Second)
	n.Stop()
	if c, err := net.DialTimeout("tcp", n.URL[len("nats://"):], 200*time.Millisecond); err == nil {
		c.Close()
		t.Fatal("still listening after Stop")
	}
	n.Start()
	WaitPort(t, n.URL[len("nats://"):], 5*time.Second)
}
