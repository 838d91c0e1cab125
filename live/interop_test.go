package live

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live/internal/testpeer"
	"github.com/ertmp/rtmp/message"
)

var media struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if media.dir != "" {
		os.RemoveAll(media.dir)
	}
	os.Exit(code)
}

// media10s returns a 10 s H.264/AAC FLV file made once per test run: 640x360
// at 25 fps, a key frame every second, B-frames, 3 Mb/s (enough to fill a
// stalled player's socket buffers quickly), AAC at 44.1 kHz.
func media10s(t *testing.T, ffmpeg interop.Tool) string {
	t.Helper()
	media.once.Do(func() {
		media.dir, media.err = os.MkdirTemp("", "ertmp-live-")
		if media.err != nil {
			return
		}
		out, err := ffmpeg.Command(t.Context(), strings.Fields("-hide_banner -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 -t 10 -c:v libx264 -preset veryfast -g 25 -bf 2 -pix_fmt yuv420p -b:v 3M -minrate 3M -maxrate 3M -bufsize 1M -c:a aac -b:a 128k "+filepath.Join(media.dir, "t10.flv"))...).CombinedOutput()
		if err != nil {
			media.err = fmt.Errorf("%v: %s", err, out)
		}
	})
	if media.err != nil {
		t.Fatal(media.err)
	}
	return filepath.Join(media.dir, "t10.flv")
}

// pkt is one line of FFmpeg's framemd5: stream, dts, pts, duration, size,
// hash.
type pkt struct {
	stream        int
	dts, pts, dur int64
	size          int
	hash          string
}

// frameMD5 returns the packets of a file with data (size-0 packets are
// left out: FFmpeg's demuxer emits them for some configuration tags,
// differently for a file and an RTMP input), video mapped first.
func frameMD5(t *testing.T, ffmpeg interop.Tool, file string) []pkt {
	t.Helper()
	out := interop.Run(t, 2*time.Minute, ffmpeg, "-hide_banner", "-loglevel", "error", "-i", file, "-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "framemd5", "-")
	var ps []pkt
	for _, l := range strings.Split(string(out), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, ",")
		if len(f) != 6 {
			t.Fatalf("framemd5 line %q", l)
		}
		n := func(i int) int64 {
			v, err := strconv.ParseInt(strings.TrimSpace(f[i]), 10, 64)
			if err != nil {
				t.Fatalf("framemd5 line %q: %v", l, err)
			}
			return v
		}
		p := pkt{stream: int(n(0)), dts: n(1), pts: n(2), dur: n(3), size: int(n(4)), hash: strings.TrimSpace(f[5])}
		if p.size > 0 {
			ps = append(ps, p)
		}
	}
	return ps
}

// sameTail checks what a player received against the source, by this
// rule: the player's packets must be exactly the source's packets from
// one of its video packets (the player's first key frame) to the end, in
// the same order, with equal stream, size, hash and duration, and equal
// dts and pts relative to that first video packet (players rebase time).
// The player's first packet must be that video packet: the hub starts a
// player at a key frame, so no audio may come before it. For a source
// without video the same holds from the player's first audio packet. It
// returns the index of the join point in the source.
func sameTail(t *testing.T, src, got []pkt, name string) int {
	t.Helper()
	if len(got) == 0 {
		t.Fatalf("%s: no packets", name)
	}
	if got[0].stream != src[0].stream {
		t.Fatalf("%s: first packet %+v is not of the first stream (video, if any)", name, got[0])
	}
	j := -1
	for i, p := range src {
		if p.stream == got[0].stream && p.hash == got[0].hash {
			j = i
			break
		}
	}
	if j < 0 {
		t.Fatalf("%s: first video packet %+v is not in the source", name, got[0])
	}
	tail := src[j:]
	if len(got) != len(tail) {
		t.Errorf("%s: %d packets, the source has %d from the join point (%d)", name, len(got), len(tail), j)
	}
	for i := range min(len(got), len(tail)) {
		a, b := tail[i], got[i]
		if a.stream != b.stream || a.size != b.size || a.hash != b.hash || a.dur != b.dur ||
			a.dts-tail[0].dts != b.dts-got[0].dts || a.pts-tail[0].dts != b.pts-got[0].dts {
			t.Fatalf("%s: packet %d after the join point (%d) differs:\nsource %+v\nplayer %+v", name, i, j, a, b)
		}
	}
	return j
}

// FFmpeg publishes a 10 s file in real time; 20 players — FFmpeg and
// `ertmp play`, alternating — join at different times and each must receive
// exactly the source from its first key frame to the end.
func TestInteropFFmpegFanout(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	src := media10s(t, ffmpeg)
	srcPkts := frameMD5(t, ffmpeg, src)
	sh := startHub(t, Config{})
	url := "rtmp://" + sh.addr + "/live/fan"
	pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv "+url)...)
	sh.waitStream(t, "fan", func(si StreamInfo) bool { return si.Publishing && si.Packets > 0 })
	dir := t.TempDir()
	const players = 20
	var procs []*interop.Process
	for i := range players {
		out := filepath.Join(dir, fmt.Sprintf("p%02d.flv", i))
		if i%2 == 1 {
			procs = append(procs, interop.Start(t, ertmpTool(t), "play", url, "-o", out))
		} else {
			procs = append(procs, interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i "+url+" -c copy -f flv "+out)...))
		}
		time.Sleep(150 * time.Millisecond) // joins spread over 3 s of the stream
	}
	if err := pub.Wait(30 * time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.Output)
	}
	for i, p := range procs {
		if err := p.Wait(15 * time.Second); err != nil {
			t.Fatalf("player %d: %v\n%s", i, err, p.Output)
		}
	}
	joins := map[int]int{}
	for i := range players {
		name := fmt.Sprintf("p%02d.flv", i)
		j := sameTail(t, srcPkts, frameMD5(t, ffmpeg, filepath.Join(dir, name)), name)
		joins[j]++
	}
	t.Logf("%d players, join points (source packet index: players): %v", players, joins)
}

// recordPlayer plays url's stream with a raw player and writes what it
// gets to an FLV file until the publisher leaves; it reports when play was
// sent, when the first key frame came, and every media message's
// arrival.
type recording struct {
	sentPlay time.Time
	firstKey time.Time
	msgs     []testpeer.Msg // audio and video
	err      error
}

func recordPlayer(addr, name, file string) (r recording) {
	p, err := testpeer.Dial(addr, 5*time.Second, nil)
	if err != nil {
		return recording{err: err}
	}
	defer p.Close()
	p.NC.SetDeadline(time.Now().Add(60 * time.Second))
	if err := p.Connect("live", nil); err != nil {
		return recording{err: err}
	}
	if err := p.CreateStream(); err != nil {
		return recording{err: err}
	}
	f, err := os.Create(file)
	if err != nil {
		return recording{err: err}
	}
	defer f.Close()
	w, err := flv.NewWriter(f, flv.NewHeader(true, true))
	if err != nil {
		return recording{err: err}
	}
	defer w.Flush()
	r.sentPlay = time.Now()
	if err := p.SendPlay(name); err != nil {
		return recording{err: err}
	}
	for {
		m, err := p.ReadMessage()
		if err != nil {
			r.err = err
			return r
		}
		if m.Status() == message.CodePlayUnpublishNotify {
			return r
		}
		switch m.Type {
		case message.TypeVideo, message.TypeAudio:
			var v flv.VideoTag
			if m.Type == message.TypeVideo && r.firstKey.IsZero() && v.Unmarshal(m.Payload) == nil && v.IsKeyFrame() {
				r.firstKey = m.At
			}
			r.msgs = append(r.msgs, m)
			w.WriteTag(flv.Tag{Type: flv.TagType(m.Type), Timestamp: m.Timestamp, Data: m.Payload})
		case message.TypeDataAMF0:
			if d, err := message.UnmarshalData(m.Type, m.Payload); err == nil && d.IsMetaData() {
				w.WriteTag(flv.Tag{Type: flv.TagScript, Timestamp: m.Timestamp, Data: m.Payload})
			}
		}
	}
}

// Players that join mid-stream get their first key frame within 100 ms of
// their play command, and what they record decodes without an error.
func TestInteropJoinLatency(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	src := media10s(t, ffmpeg)
	sh := startHub(t, Config{})
	pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+sh.addr+"/live/j")...)
	dir := t.TempDir()
	var worst time.Duration
	var all []time.Duration
	results := make(chan recording, 5)
	for i := range 5 {
		// Join at 1.5, 2.7, 3.9, ... s of the stream: mid-GOP, at various points.
		want := uint64(100 + 80*i)
		sh.waitStream(t, "j", func(si StreamInfo) bool { return si.Packets >= want })
		file := filepath.Join(dir, fmt.Sprintf("j%d.flv", i))
		go func() { results <- recordPlayer(sh.addr, "j", file) }()
	}
	for i := range 5 {
		r := <-results
		if r.err != nil {
			t.Fatalf("player: %v", r.err)
		}
		if r.firstKey.IsZero() {
			t.Fatal("a player got no key frame")
		}
		d := r.firstKey.Sub(r.sentPlay)
		all = append(all, d)
		worst = max(worst, d)
		_ = i
	}
	t.Logf("first key frame after play: %v (worst %v)", all, worst)
	if worst > 100*time.Millisecond {
		t.Errorf("first key frame %v after play, want within 100 ms", worst)
	}
	if err := pub.Wait(30 * time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.Output)
	}
	for i := range 5 {
		file := filepath.Join(dir, fmt.Sprintf("j%d.flv", i))
		out := interop.Run(t, time.Minute, ffmpeg, "-hide_banner", "-v", "error", "-i", file, "-f", "null", "-")
		if len(out) != 0 {
			t.Errorf("%s does not decode cleanly:\n%s", file, out)
		}
	}
}

// A player that stops reading is closed as a slow consumer; meanwhile the
// publisher and the other players keep real-time pace, and the stalled
// player's queue stays within its bound.
func TestInteropSlowConsumer(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	src := media10s(t, ffmpeg)
	const queueMax = 1 << 20
	sh := startHub(t, Config{QueueMaxBytes: queueMax, QueueMaxDelay: time.Second, SlowConsumerTimeout: 2 * time.Second, SendBuffer: 64 << 10})
	start := time.Now()
	pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+sh.addr+"/live/slow")...)
	sh.waitStream(t, "slow", func(si StreamInfo) bool { return si.Publishing && si.Packets > 10 })

	// The stalled player: handshake, connect, play, then it never reads.
	stuck, err := testpeer.Dial(sh.addr, 5*time.Second, &testpeer.Options{ReadBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	if err := stuck.Connect("live", nil); err != nil {
		t.Fatal(err)
	}
	if err := stuck.Play("slow"); err != nil {
		t.Fatal(err)
	}
	stuckAddr := stuck.NC.LocalAddr().String()

	results := make(chan recording, 3)
	for i := range 3 {
		file := filepath.Join(t.TempDir(), fmt.Sprintf("ok%d.flv", i))
		go func() { results <- recordPlayer(sh.addr, "slow", file) }()
	}
	si := sh.waitEnd(t, 15*time.Second, func(si endInfo) bool { return si.RemoteAddr == stuckAddr })
	t.Logf("stalled player: %v after %v, %d packets sent, %d dropped, peak queue %d bytes", si.Reason, si.Duration.Round(time.Millisecond), si.Packets, si.Dropped, si.PeakQueue)
	if si.Reason != ReasonSlowConsumer {
		t.Fatalf("stalled player ended with %v (%v)", si.Reason, si.Err)
	}
	if si.PeakQueue > queueMax {
		t.Errorf("stalled player's queue reached %d bytes, bound %d", si.PeakQueue, queueMax)
	}
	if err := pub.Wait(30 * time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.Output)
	}
	// FFmpeg -re sends a 10 s file in 10 s when nothing holds it up.
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("the publisher took %v for 10 s of media", d)
	}
	for range 3 {
		r := <-results
		if r.err != nil {
			t.Fatalf("player: %v", r.err)
		}
		// Lag: arrival minus media time, relative to the player's earliest
		// such offset (its start). A player held up by the stalled one would
		// fall further and further behind.
		var base time.Time
		for _, m := range r.msgs {
			off := m.At.Add(-time.Duration(m.Timestamp) * time.Millisecond)
			if base.IsZero() || off.Before(base) {
				base = off
			}
		}
		var lag time.Duration
		for _, m := range r.msgs {
			lag = max(lag, m.At.Add(-time.Duration(m.Timestamp)*time.Millisecond).Sub(base))
		}
		last := r.msgs[len(r.msgs)-1]
		t.Logf("player: %d messages, media time %d ms, worst lag %v", len(r.msgs), last.Timestamp, lag.Round(time.Millisecond))
		if lag > 500*time.Millisecond {
			t.Errorf("a player lagged %v behind real time", lag)
		}
		if last.Timestamp < 9800 {
			t.Errorf("a player stopped at %d ms of media", last.Timestamp)
		}
	}
}

// playFirst starts a player that waits for the stream (PlayWait), then the
// publisher once the hub sees the player waiting, and returns both.
func playFirst(t *testing.T, sh *serverHub, player, publisher interop.Tool, name, playFlags, src, pubFlags, out string) (pl, pub *interop.Process) {
	t.Helper()
	return playFirstMap(t, sh, player, publisher, name, playFlags, "-map 0", src, pubFlags, out)
}

// playFirstMap is playFirst with the player's output stream selection.
func playFirstMap(t *testing.T, sh *serverHub, player, publisher interop.Tool, name, playFlags, mapFlags, src, pubFlags, out string) (pl, pub *interop.Process) {
	t.Helper()
	url := "rtmp://" + sh.addr + "/live/" + name
	pl = interop.Start(t, player, strings.Fields("-hide_banner -loglevel error "+playFlags+" -i "+url+" "+mapFlags+" -c copy -f flv "+out)...)
	sh.waitStream(t, name, func(si StreamInfo) bool { return !si.Publishing })
	pub = interop.Start(t, publisher, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -map 0 -c copy "+pubFlags+" -f flv "+url)...)
	if err := pub.Wait(60 * time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.Output)
	}
	if err := pl.Wait(30 * time.Second); err != nil {
		t.Fatalf("player: %v\n%s", err, pl.Output)
	}
	return pl, pub
}

func testdata(t *testing.T, name string) string {
	return filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg", name)
}

// FFmpeg 7.1 publishes HEVC over Enhanced RTMP; an FFmpeg 7.1 player that
// declares hvc1 gets every packet; a legacy player (FFmpeg 5.1) gets none
// of it (and no error from the hub).
func TestInteropFFmpeg7HEVC(t *testing.T) {
	ff7 := interop.FFmpeg7(t, "ffmpeg")
	src := testdata(t, "hevc.flv")
	sh := startHub(t, Config{})
	out := filepath.Join(t.TempDir(), "out.flv")
	playFirst(t, sh, ff7, ff7, "hevc", "-rtmp_enhanced_codecs hvc1", src, "-rtmp_enhanced_codecs hvc1", out)
	j := sameTail(t, frameMD5(t, ff7, src), frameMD5(t, ff7, out), "hevc")
	t.Logf("FFmpeg 7 player joined at source packet %d", j)
}

// FFmpeg 9 publishes Opus and AC-3 (Enhanced RTMP v2 audio); FFmpeg 9
// players that declare the codec get every packet from their start.
func TestInteropFFmpeg9Audio(t *testing.T) {
	ff9 := interop.FFmpeg9(t, "ffmpeg")
	for _, c := range []struct{ file, fourcc string }{{"opus.flv", "Opus"}, {"ac3.flv", "ac-3"}} {
		t.Run(c.fourcc, func(t *testing.T) {
			src := testdata(t, c.file)
			sh := startHub(t, Config{})
			out := filepath.Join(t.TempDir(), "out.flv")
			playFirst(t, sh, ff9, ff9, "a", "-rtmp_enhanced_codecs "+c.fourcc, src, "-rtmp_enhanced_codecs "+c.fourcc, out)
			srcPkts := frameMD5(t, ff9, src)
			j := sameTail(t, srcPkts, frameMD5(t, ff9, out), c.file)
			t.Logf("%s: player joined at source packet %d of %d", c.file, j, len(srcPkts))
		})
	}
}

// A multitrack stream from FFmpeg 9 (H.264 + HEVC video, AAC + Opus
// audio) reaches a legacy player (FFmpeg 5.1) as one playable track of
// each kind: exactly the source's track 0 packets, decoding cleanly.
func TestInteropMultitrackToLegacy(t *testing.T) {
	ff9 := interop.FFmpeg9(t, "ffmpeg")
	ffmpeg := interop.FFmpeg(t)
	src := testdata(t, "multitrack.flv")
	sh := startHub(t, Config{})
	out := filepath.Join(t.TempDir(), "out.flv")
	// FFmpeg 5.1 turns the |RtmpSampleAccess data message into a data
	// stream of its own; only audio and video are of interest here.
	playFirstMap(t, sh, ffmpeg, ff9, "mt", "", "-map 0:v -map 0:a", src, "-rtmp_enhanced_codecs hvc1,Opus", out)
	probe := interop.Run(t, time.Minute, interop.FFprobe(t), "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", out)
	if got := strings.Fields(string(probe)); strings.Join(got, ",") != "h264,aac" {
		t.Fatalf("legacy player's streams: %q, want h264,aac", got)
	}
	// The source's track 0 of each kind, as FFmpeg 9 reads it.
	track0 := filepath.Join(t.TempDir(), "track0.flv")
	interop.Run(t, time.Minute, ff9, "-hide_banner", "-loglevel", "error", "-i", src, "-map", "0:v:0", "-map", "0:a:0", "-c", "copy", "-f", "flv", track0)
	j := sameTail(t, frameMD5(t, ffmpeg, track0), frameMD5(t, ffmpeg, out), "multitrack")
	t.Logf("legacy player joined at source packet %d", j)
	if msg := interop.Run(t, time.Minute, ffmpeg, "-hide_banner", "-v", "error", "-i", out, "-f", "null", "-"); len(msg) != 0 {
		t.Errorf("the legacy player's stream does not decode cleanly:\n%s", msg)
	}
}
