package interop

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
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

// A checkout removed and made again at the same path (as CI does) is what the
// FFmpeg root sees, and running the tool leaves nothing mounted on the host.
func TestDebianFFmpegSeesFreshCheckout(t *testing.T) {
	ffprobe := FFmpeg9(t, "ffprobe")
	if os.Geteuid() != 0 {
		t.Skip("the FFmpeg roots mount directories, which needs root")
	}
	// Outside /tmp: /tmp is shown to the root as a whole.
	dir, err := os.MkdirTemp("/var/tmp", "ertmp-checkout-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	media := filepath.Join(ModuleRoot(t), "testdata", "ffmpeg")
	for _, name := range []string{"opus.flv", "hevc.flv"} {
		os.RemoveAll(dir)
		if err := os.MkdirAll(filepath.Join(dir, "pkg"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module checkout\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(media, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := ffprobe.Command(context.Background(), "-v", "error", "-show_entries", "format=format_name", "-of", "csv=p=0", "../"+name)
		cmd.Dir = filepath.Join(dir, "pkg")
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "flv" {
			t.Fatalf("ffprobe of %s in a fresh checkout: %v: %s", name, err, out)
		}
		mounts, err := os.ReadFile("/proc/self/mounts")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(mounts), dir) {
			t.Fatalf("%s is still mounted after the tool ended", dir)
		}
	}
}
