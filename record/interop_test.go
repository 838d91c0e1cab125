package record_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/record"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// serve runs a hub on a loopback port until the test ends.
func serve(t *testing.T, hub *live.Hub) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &rtmp.Server{Handler: hub, Logger: quiet()}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hub.Shutdown(ctx)
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// done collects finished files.
type done struct {
	mu  sync.Mutex
	all []record.File
}

func (d *done) add(f record.File) {
	d.mu.Lock()
	d.all = append(d.all, f)
	d.mu.Unlock()
}

func (d *done) files() []record.File {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]record.File(nil), d.all...)
}

func (d *done) wait(t *testing.T, n int) []record.File {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for len(d.files()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d files finished, want %d", len(d.files()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return d.files()
}

// probe returns what ffprobe says of a file's streams and its duration.
func probe(t *testing.T, ffprobe interop.Tool, file string) (streams []string, duration float64) {
	t.Helper()
	out := interop.Run(t, time.Minute, ffprobe, "-v", "error", "-show_streams", "-show_format", "-of", "json", file)
	var v struct {
		Streams []struct {
			CodecType  string `json:"codec_type"`
			CodecName  string `json:"codec_name"`
			Width      int    `json:"width"`
			Height     int    `json:"height"`
			SampleRate string `json:"sample_rate"`
			Channels   int    `json:"channels"`
			Extradata  int    `json:"extradata_size"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	for _, s := range v.Streams {
		streams = append(streams, fmt.Sprintf("%s %s %dx%d %s Hz %d ch", s.CodecType, s.CodecName, s.Width, s.Height, s.SampleRate, s.Channels)+fmt.Sprintf(" extradata %d", s.Extradata))
	}
	duration, _ = strconv.ParseFloat(v.Format.Duration, 64)
	return streams, duration
}

// decodes fails t unless FFmpeg decodes the whole file without a word.
func decodes(t *testing.T, ffmpeg interop.Tool, file string) {
	t.Helper()
	if out := interop.Run(t, 2*time.Minute, ffmpeg, "-v", "error", "-i", file, "-f", "null", "-"); len(out) > 0 {
		t.Errorf("%s does not decode cleanly:\n%s", filepath.Base(file), out)
	}
}

// packet is a packet without its timestamps and duration.
type packet struct{ stream, size, hash string }

func packets(t *testing.T, ffmpeg interop.Tool, file string) []packet {
	var out []packet
	for _, p := range interop.Packets(t, ffmpeg, file) {
		out = append(out, packet{p.Stream, p.Size, p.Hash})
	}
	return out
}

// FFmpeg publishes H.264/AAC; the stream is recorded whole (the
// manager, from publish to end) and rotated every second (a recorder
// of its own): the whole file's packets, timestamps included, are the
// source's; ffprobe sees the same streams and the patched duration; each
// rotated part decodes on its own and together they hold every packet
// once, in order.
func TestInteropRecordH264AAC(t *testing.T) {
	ffmpeg, ffprobe := interop.FFmpeg(t), interop.FFprobe(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 4)

	var whole, parts done
	m := record.NewManager(record.ManagerOptions{
		App:    func(string) (record.Config, bool) { return record.Config{Dir: filepath.Join(dir, "whole")}, true },
		OnFile: whole.add, Logger: quiet()})
	var hub *live.Hub
	rotated := live.Hooks{Start: func(s *live.Session) {
		if s.Kind == rtmp.KindPublish {
			cfg := record.Config{Dir: filepath.Join(dir, "parts"), Pattern: "{stream}-{seq}.flv", RotateAfter: time.Second}
			if _, err := record.Start(context.Background(), hub, s.Key, cfg, record.Options{OnFile: parts.add, Logger: quiet()}); err != nil {
				t.Error(err)
			}
		}
	}}
	hub = live.NewHub(live.Config{Hooks: live.JoinHooks(m.Hooks(), rotated), Logger: quiet()})
	m.SetHub(hub)
	addr := serve(t, hub)

	interop.Run(t, time.Minute, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+addr+"/live/cam")...)
	f := whole.wait(t, 1)[0]
	if f.Reason != record.ReasonUnpublished || f.Err != nil {
		t.Fatalf("file %+v", f)
	}
	interop.SameHashes(t, ffmpeg, src, f.Path)
	srcStreams, srcDur := probe(t, ffprobe, src)
	recStreams, recDur := probe(t, ffprobe, f.Path)
	if strings.Join(srcStreams, "; ") != strings.Join(recStreams, "; ") {
		t.Errorf("streams:\n%q\nthe source's:\n%q", recStreams, srcStreams)
	}
	if recDur < srcDur-0.1 || recDur > srcDur+0.1 || f.Duration.Seconds() < srcDur-0.1 {
		t.Errorf("duration %.3f s (reported %v), the source's %.3f s", recDur, f.Duration, srcDur)
	}

	ps := parts.wait(t, 4)
	if len(ps) != 4 {
		t.Fatalf("%d parts, want 4 (a key frame every second)", len(ps))
	}
	var all []packet
	for i, p := range ps {
		decodes(t, ffmpeg, p.Path)
		if s, _ := probe(t, ffprobe, p.Path); strings.Join(s, "; ") != strings.Join(srcStreams, "; ") {
			t.Errorf("part %d: streams %q", i, s)
		}
		all = append(all, packets(t, ffmpeg, p.Path)...)
		t.Logf("part %d: %s, %v, %d bytes, %s", i, filepath.Base(p.Path), p.Duration, p.Size, p.Reason)
	}
	want := packets(t, ffmpeg, src)
	if fmt.Sprint(sortByStream(all)) != fmt.Sprint(sortByStream(want)) {
		t.Errorf("the parts hold %d packets, the source %d, not the same", len(all), len(want))
	}
	t.Logf("whole file: %d bytes, %v, %d packets with data equal to the source's; ffprobe: %.3f s, %q", f.Size, f.Duration, len(want), recDur, recStreams)
}

// sortByStream groups packets by stream, keeping their order in each.
func sortByStream(ps []packet) map[string][]packet {
	m := map[string][]packet{}
	for _, p := range ps {
		m[p.stream] = append(m[p.stream], p)
	}
	return m
}

// FFmpeg 9 publishes Opus (Enhanced RTMP v2 audio) and a multitrack
// stream (H.264 + HEVC, AAC + Opus); each is recorded as it arrives:
// the recorded media tags are those of FFmpeg 9's own remux of the file,
// bytes and times, and FFmpeg 9 decodes the recording without a word.
func TestInteropRecordFFmpeg9(t *testing.T) {
	ff9 := interop.FFmpeg9(t, "ffmpeg")
	for _, c := range []struct{ file, codecs string }{
		{"opus.flv", "Opus"},
		{"multitrack.flv", "hvc1,avc1,Opus,mp4a"},
	} {
		t.Run(c.file, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg", c.file)
			ref := filepath.Join(dir, "ref.flv")
			interop.Run(t, time.Minute, ff9, strings.Fields("-hide_banner -loglevel error -i "+src+" -map 0 -c copy -f flv "+ref)...)
			var files done
			m := record.NewManager(record.ManagerOptions{
				App:    func(string) (record.Config, bool) { return record.Config{Dir: dir}, true },
				OnFile: files.add, Logger: quiet()})
			hub := live.NewHub(live.Config{Hooks: m.Hooks(), Logger: quiet()})
			m.SetHub(hub)
			addr := serve(t, hub)
			interop.Run(t, time.Minute, ff9, strings.Fields("-hide_banner -loglevel error -i "+src+" -map 0 -c copy -rtmp_enhanced_codecs "+c.codecs+" -f flv rtmp://"+addr+"/live/x")...)
			f := files.wait(t, 1)[0]
			interop.SameMediaTags(t, ref, f.Path)
			interop.SameHashes(t, ff9, ref, f.Path)
			decodes(t, ff9, f.Path)
			ffprobe9 := interop.FFmpeg9(t, "ffprobe")
			refStreams, _ := probe(t, ffprobe9, ref)
			recStreams, _ := probe(t, ffprobe9, f.Path)
			if strings.Join(refStreams, "; ") != strings.Join(recStreams, "; ") {
				t.Errorf("streams:\n%q\nFFmpeg 9's remux:\n%q", recStreams, refStreams)
			}
			t.Logf("%s: %d media tags as FFmpeg 9 wrote them; %d bytes, %v; streams %q", c.file, len(interop.MediaTags(t, f.Path)), f.Size, f.Duration, recStreams)
		})
	}
}

// The child process of the crash and full-disk tests: a hub that records
// every stream into ERTMP_RECORD_DIR, with RLIMIT_FSIZE set to
// ERTMP_RECORD_FSIZE when given (SIGXFSZ ignored: writes fail with
// EFBIG). It prints "addr ADDR", then a line per finished file, and the
// manager's stats when its stdin closes.
const childEnv = "ERTMP_RECORD_CHILD"

func TestRecordChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("the child of TestInteropRecordKilled and TestInteropRecordDiskFull")
	}
	if v := os.Getenv("ERTMP_RECORD_FSIZE"); v != "" {
		n, _ := strconv.ParseUint(v, 10, 64)
		signal.Ignore(syscall.SIGXFSZ)
		var lim syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim)
		lim.Cur = n
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	m := record.NewManager(record.ManagerOptions{
		App: func(string) (record.Config, bool) {
			return record.Config{Dir: os.Getenv("ERTMP_RECORD_DIR"), Pattern: "{stream}.flv", FlushInterval: 100 * time.Millisecond}, true
		},
		OnFile: func(f record.File) { say("file %s %s %d %v", f.Path, f.Reason, f.Size, f.Err) },
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	hub := live.NewHub(live.Config{Hooks: m.Hooks(), PlayWait: 20 * time.Second, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	m.SetHub(hub)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &rtmp.Server{Handler: hub, Logger: quiet()}
	go srv.Serve(ln)
	say("addr %s", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	s := m.Stats()
	say("stats files %d errors %d lost %d", s.Files, s.Errors, s.Lost)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m.Shutdown(ctx)
	hub.Shutdown(ctx)
	srv.Shutdown(ctx)
}

// child runs TestRecordChild with env and returns it and its output
// lines.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	addr  string
}

func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecordChild$", "-test.timeout=2m")
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	cmd.Stderr = &syncWriter{w: &logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	c.addr = strings.TrimPrefix(c.next(t, "addr "), "addr ")
	return c
}

// next waits for an output line starting with prefix.
func (c *child) next(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("the child ended without a %q line", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %q line from the child", prefix)
		}
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// SIGKILL mid-recording: FFmpeg reads the file to the cut, without a
// word, and its packets are the source's first ones.
func TestInteropRecordKilled(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 6)
	rec := filepath.Join(dir, "rec")
	c := startChild(t, "ERTMP_RECORD_DIR="+rec)
	pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+c.addr+"/live/cam")...)
	file := filepath.Join(rec, "cam.flv")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, err := os.Stat(file); err == nil && st.Size() > 60<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the recording does not grow")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
	pub.Kill()
	st, _ := os.Stat(file)
	decodes(t, ffmpeg, file)
	got, want := interop.Packets(t, ffmpeg, file), interop.Packets(t, ffmpeg, src)
	at, err := interop.RunOf(want, got)
	if err != nil || at["0"] != 0 || at["1"] != 0 {
		t.Fatalf("the cut file is not the start of the source: %v %v", at, err)
	}
	if len(got) < 20 || len(got) >= len(want) {
		t.Fatalf("%d packets of %d", len(got), len(want))
	}
	t.Logf("killed with SIGKILL: %d bytes on disk, FFmpeg reads %d of the source's %d packets, all equal, and no error", st.Size(), len(got), len(want))
}

// A full disk (a file size limit in the recording process): the
// recording stops with the error reported and counted; the publisher and
// a player carry on to the end; the file holds whole tags up to the
// limit and plays.
func TestInteropRecordDiskFull(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 4)
	rec := filepath.Join(dir, "rec")
	const limit = 100 << 10
	c := startChild(t, "ERTMP_RECORD_DIR="+rec, "ERTMP_RECORD_FSIZE="+strconv.Itoa(limit))
	out := filepath.Join(dir, "played.flv")
	pl := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i rtmp://"+c.addr+"/live/cam -map 0:v -map 0:a -c copy -f flv "+out)...)
	time.Sleep(500 * time.Millisecond) // the player waits for the stream
	interop.Run(t, time.Minute, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+c.addr+"/live/cam")...)
	line := c.next(t, "file ")
	if err := pl.Wait(20 * time.Second); err != nil {
		t.Fatalf("player: %v\n%s", err, pl.Output)
	}
	interop.SameHashes(t, ffmpeg, src, out)
	f := strings.Fields(line)
	if len(f) < 5 || f[2] != record.ReasonError.String() || !strings.Contains(line, "file too large") {
		t.Fatalf("the child reported %q", line)
	}
	size, _ := strconv.Atoi(f[3])
	st, err := os.Stat(f[1])
	if err != nil || st.Size() != int64(size) || size > limit {
		t.Fatalf("file %s: %v, %v; reported %d bytes, limit %d", f[1], st, err, size, limit)
	}
	decodes(t, ffmpeg, f[1])
	got, want := interop.Packets(t, ffmpeg, f[1]), interop.Packets(t, ffmpeg, src)
	if at, err := interop.RunOf(want, got); err != nil || at["0"] != 0 {
		t.Fatalf("the file is not the start of the source: %v %v", at, err)
	}
	c.stdin.Close()
	stats := c.next(t, "stats ")
	if !strings.Contains(stats, "errors 1") {
		t.Fatalf("stats %q", stats)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("child: %v", err)
	}
	t.Logf("disk full at %d bytes: %q; the file plays its %d packets; the player got all %d packets; %s", limit, line, len(got), len(want), stats)
}
