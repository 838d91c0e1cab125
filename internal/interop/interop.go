// Package interop finds the real peers that interop tests run against
// (FFmpeg 5.1, FFmpeg 7.1 and 9 from private Debian roots, GStreamer,
// nginx-rtmp) and decides what a missing one means: a skip with a clear
// message, or a failure when ERTMP_INTEROP=require (CI sets it).
package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Required reports whether ERTMP_INTEROP=require is set.
func Required() bool { return os.Getenv("ERTMP_INTEROP") == "require" }

// missing skips the test, or fails it when peers are required.
func missing(t testing.TB, what, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("interop peer %s is missing (%s) and ERTMP_INTEROP=require", what, why)
	}
	t.Skipf("interop peer %s is missing (%s); run scripts/test to install it", what, why)
}

// Tool is a command line that runs a peer program, e.g. ["ffmpeg"] or
// [".../scripts/ffmpeg9", "ffprobe"].
type Tool struct {
	Name string
	argv []string
}

// Command returns an exec.Cmd running the tool with args.
func (tl Tool) Command(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, tl.argv[0], append(append([]string{}, tl.argv[1:]...), args...)...)
}

// Path looks a program up on PATH; missing, it skips or fails t.
func Path(t testing.TB, name string) Tool {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name, "not on PATH")
	}
	return Tool{Name: name, argv: []string{p}}
}

// FFmpeg and FFprobe are Debian 12's FFmpeg 5.1.
func FFmpeg(t testing.TB) Tool  { return Path(t, "ffmpeg") }
func FFprobe(t testing.TB) Tool { return Path(t, "ffprobe") }

// FFmpeg7 runs "ffmpeg" or "ffprobe" of FFmpeg 7.1 (Debian 13 root).
func FFmpeg7(t testing.TB, prog string) Tool { return debian(t, "trixie", "ffmpeg7", prog) }

// FFmpeg9 runs "ffmpeg" or "ffprobe" of FFmpeg 9 (Debian sid root).
func FFmpeg9(t testing.TB, prog string) Tool { return debian(t, "sid", "ffmpeg9", prog) }

var rootOnce sync.Map // suite -> error string ("" when ready)

func debian(t testing.TB, suite, short, prog string) Tool {
	t.Helper()
	script := filepath.Join(ModuleRoot(t), "scripts", "debian-ffmpeg")
	v, _ := rootOnce.LoadOrStore(suite, new(onceResult))
	r := v.(*onceResult)
	r.once.Do(func() {
		out, err := exec.Command(script, suite, "--build").CombinedOutput()
		if err != nil {
			r.err = strings.TrimSpace(string(out))
			if r.err == "" {
				r.err = err.Error()
			}
		}
	})
	if r.err != "" {
		missing(t, short, r.err)
	}
	return Tool{Name: short + " " + prog, argv: []string{script, suite, prog}}
}

type onceResult struct {
	once sync.Once
	err  string
}

// ModuleRoot returns the directory holding go.mod, found upward from the
// test's working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("interop: go.mod not found above the working directory")
		}
		dir = up
	}
}

// Program is a tool at a known path, such as a binary a test built.
func Program(name, path string, args ...string) Tool {
	return Tool{Name: name, argv: append([]string{path}, args...)}
}
