package interop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// WaitPort waits until something accepts on addr.
func WaitPort(t testing.TB, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s after %v: %v", addr, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Process is a peer program running in the background of a test.
type Process struct {
	Cmd    *exec.Cmd
	Output *bytes.Buffer // stdout and stderr, for failure messages
	done   chan error
}

// Start runs a tool in the background; the test's cleanup kills it.
func Start(t testing.TB, tool Tool, args ...string) *Process {
	t.Helper()
	cmd := tool.Command(context.Background(), args...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", tool.Name, err)
	}
	p := &Process{Cmd: cmd, Output: &out.Buffer, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.Kill() })
	return p
}

// Wait waits for the process to exit, at most d; it kills it past d.
func (p *Process) Wait(d time.Duration) error {
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(d):
		p.Kill()
		return fmt.Errorf("still running after %v; killed", d)
	}
}

// Kill ends the process and everything it started (chroot wrappers too).
func (p *Process) Kill() {
	if p.Cmd.Process != nil {
		syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Interrupt asks the process to stop (SIGINT), like Ctrl-C.
func (p *Process) Interrupt() {
	if p.Cmd.Process != nil {
		syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGINT)
	}
}

// lockedBuffer is a bytes.Buffer safe for the two copy goroutines exec
// starts for stdout and stderr and for a reader.
type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// Run runs a tool to completion within d and returns its combined output.
func Run(t testing.TB, d time.Duration, tool Tool, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	out, err := tool.Command(ctx, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool.Name, strings.Join(args, " "), err, out)
	}
	return out
}

// FrameMD5 returns FFmpeg's per-packet hashes of a media file, one line per
// packet: stream, dts, pts, duration, size, md5 (ffmpeg -f framemd5).
// Comparing two files' lists shows whether a relay changed any packet.
func FrameMD5(t testing.TB, ffmpeg Tool, file string) []string {
	t.Helper()
	out := Run(t, 2*time.Minute, ffmpeg, "-hide_banner", "-loglevel", "error", "-i", file, "-map", "0", "-c", "copy", "-f", "framemd5", "-")
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// NginxRTMP starts nginx with the RTMP module on a free loopback port, with
// one live application "live" and the given chunk size. It returns the
// address; the test's cleanup stops it.
func NginxRTMP(t testing.TB) string {
	t.Helper()
	nginx := Path(t, "nginx")
	const module = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
	if _, err := os.Stat(module); err != nil {
		missing(t, "nginx-rtmp", module+" not found (apt-get install libnginx-mod-rtmp)")
	}
	dir := t.TempDir()
	port := FreePort(t)
	conf := fmt.Sprintf(`load_module %s;
daemon off; worker_processes 1; pid %s/nginx.pid; error_log %s/error.log info;
events { worker_connections 1024; }
rtmp { server { listen 127.0.0.1:%d; chunk_size 4096;
    application live { live on; record off; } } }
`, module, dir, dir, port)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	p := Start(t, nginx, "-c", filepath.Join(dir, "nginx.conf"), "-p", dir)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return addr
		}
		select {
		case err := <-p.done:
			p.done <- err
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s\n%s", err, p.Output.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Chromium returns the path of Debian's Chromium (chromium on PATH), for
// tests that drive it headless (with --no-sandbox and --headless=new in a
// container); missing, it skips or fails t.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "chromium", "not on PATH (apt-get install chromium)")
	return ""
}

// Artifacts returns the directory where a test saves what a person may
// want to look at afterwards (screenshots): $ERTMP_ARTIFACTS/TESTNAME when
// ERTMP_ARTIFACTS is set, else the test's artifact directory (kept under
// -outputdir with go test -artifacts, removed after the test without).
func Artifacts(t testing.TB) string {
	t.Helper()
	base := os.Getenv("ERTMP_ARTIFACTS")
	if base == "" {
		return t.ArtifactDir()
	}
	dir := filepath.Join(base, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
