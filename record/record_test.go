package record

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

func TestPath(t *testing.T) {
	at := time.Date(2025, 1, 2, 15, 4, 5, 0, time.Local)
	for _, c := range []struct {
		pattern, app, stream, want string
	}{
		{"", "live", "cam", "live/cam-20250102-150405.flv"},
		{"{stream}_{seq}.flv", "live", "cam", "cam_3.flv"},
		{"{app}/{unix}.flv", "a", "b", fmt.Sprintf("a/%d.flv", at.Unix())},
		{"{stream}.flv", "live", "../../etc/passwd", ".._.._etc_passwd.flv"},
		{"{app}/{stream}.flv", "..", "..", "_/_.flv"},
		{"{stream}.flv", "live", "a\x00b\nc", "a_b_c.flv"},
	} {
		cfg := Config{Dir: "/rec", Pattern: c.pattern}
		got, err := cfg.path(live.Key{App: c.app, Name: c.stream}, at, 3)
		if err != nil || got != filepath.Join("/rec", c.want) {
			t.Errorf("%q with %s/%s: %q, %v; want %q", c.pattern, c.app, c.stream, got, err, c.want)
		}
	}
	for _, c := range []Config{{}, {Dir: "/rec", Pattern: "../{stream}.flv"}, {Dir: "/rec", Pattern: "/abs/{stream}.flv"}, {Dir: "/rec", Pattern: "{stream}"}, {Dir: "/rec", RotateSize: -1}} {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", c, err)
		}
	}
}

// A file starts with onMetaData: the publisher's properties with
// duration and filesize (the publisher's own replaced by placeholders),
// which are patched when it closes.
func TestFileMetadata(t *testing.T) {
	mfs := &memFS{}
	f, err := openFile(mfs.create, "x.flv", flv.FlagVideo, amf0.Object{{Key: "width", Value: 320.0}, {Key: "duration", Value: 99.0}, {Key: "encoder", Value: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	for ts := uint32(0); ts <= 10000; ts += 40 {
		if err := f.writeTag(flv.TagVideo, ts, avcFrame(ts == 0, 10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.close(); err != nil {
		t.Fatal(err)
	}
	b := mfs.get("x.flv").bytes()
	_, tags := parseFLV(t, b)
	a := metadata(t, tags[0])
	var keys []string
	for _, p := range a.Props {
		keys = append(keys, p.Key)
	}
	if strings.Join(keys, ",") != "width,duration,encoder,filesize" || a.Count != 4 {
		t.Fatalf("properties %v (count %d)", keys, a.Count)
	}
	if v, _ := a.GetNumber("duration"); v != 10.04 || f.duration() != 10040*time.Millisecond {
		t.Errorf("patched duration %v, reported %v", v, f.duration())
	}
	if v, _ := a.GetNumber("filesize"); v != float64(len(b)) || f.size() != int64(len(b)) {
		t.Errorf("patched filesize %v, reported %d, file %d bytes", v, f.size(), len(b))
	}
}

// A stream recorded from its publish to its end (the manager's Start
// hook): one file, onMetaData first (the publisher's properties, duration
// and filesize patched), the sequence headers at 0, then every media
// packet at its time from the first one, and the End reported.
func TestRecordStream(t *testing.T) {
	dir := t.TempDir()
	fs := newFiles()
	m := NewManager(ManagerOptions{App: func(app string) (Config, bool) {
		return Config{Dir: dir}, app == "live"
	}, OnFile: fs.add, Logger: logger(t)})
	h := newHub(t, m.Hooks())
	m.SetHub(h)
	key := live.Key{App: "live", Name: "cam"}
	pub := publish(t, h, key)
	if m.Recording(key) == nil {
		t.Fatal("the publish started no recording")
	}
	setMeta(t, pub, 1000, amf0.Property{Key: "width", Value: 320.0}, amf0.Property{Key: "duration", Value: 99.0})
	write(t, pub, message.TypeVideo, 1000, avcSeq())
	write(t, pub, message.TypeAudio, 1000, aacSeq())
	var want []string
	for i := range uint32(50) {
		ts := 1000 + i*40
		body := avcFrame(i%25 == 0, i)
		write(t, pub, message.TypeVideo, ts, body)
		want = append(want, fmt.Sprintf("video %d %x", ts-1000, body))
		body = aacFrame(i)
		write(t, pub, message.TypeAudio, ts+5, body)
		want = append(want, fmt.Sprintf("audio %d %x", ts+5-1000, body))
	}
	pub.Close()
	f := fs.wait(t)
	if f.Reason != ReasonUnpublished || f.Err != nil || f.Key != key {
		t.Fatalf("file %+v", f)
	}
	st, _ := os.Stat(f.Path)
	// The last audio frame, at 1965 ms, lasts 40 ms like those before it.
	if st.Size() != f.Size || f.Duration != 2005*time.Millisecond {
		t.Fatalf("file of %d bytes, %v; reported %d, %v", st.Size(), 2005*time.Millisecond, f.Size, f.Duration)
	}
	if want := filepath.Join(dir, "live"); filepath.Dir(f.Path) != want || !strings.HasPrefix(base(f.Path), "cam-") {
		t.Fatalf("path %s", f.Path)
	}
	h0, tags := readFLV(t, f.Path)
	if !h0.HasAudio() || !h0.HasVideo() {
		t.Errorf("header flags %#x", h0.Flags)
	}
	meta := metadata(t, tags[0])
	if d, _ := meta.GetNumber("duration"); d != 2.005 {
		t.Errorf("duration %v", d)
	}
	if s, _ := meta.GetNumber("filesize"); s != float64(f.Size) {
		t.Errorf("filesize %v, want %d", s, f.Size)
	}
	if w, _ := meta.GetNumber("width"); w != 320 {
		t.Errorf("width %v: the publisher's properties are lost", w)
	}
	if tags[1].Timestamp != 0 || fmt.Sprintf("%x", tags[1].Data) != fmt.Sprintf("%x", avcSeq()) ||
		tags[2].Timestamp != 0 || fmt.Sprintf("%x", tags[2].Data) != fmt.Sprintf("%x", aacSeq()) {
		t.Errorf("sequence headers: %v %v", tags[1], tags[2])
	}
	var got []string
	for _, tag := range tags[3:] {
		got = append(got, fmt.Sprintf("%v %d %x", tag.Type, tag.Timestamp, tag.Data))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("media tags differ:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	waitFor(t, "the recording to end", func() bool { return m.Recording(key) == nil })
	if s := m.Stats(); s.Files != 1 || s.Bytes != uint64(f.Size) || s.Errors != 0 || s.Active != 0 {
		t.Errorf("stats %+v", s)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s, still waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Rotation by media time and by size: each file starts at a key frame
// at time 0 with onMetaData and the headers in force (a multitrack
// stream: the headers of every track), and together the files hold every
// packet once.
func TestRotate(t *testing.T) {
	hevcSeq := exVideo(t, flv.VideoTag{Enhanced: true, FrameType: flv.FrameKey, PacketType: flv.VideoSequenceStart, Multitrack: true, MultitrackType: flv.OneTrack, FourCC: flv.FourCCHEVC,
		Data: []byte{1, 0, 0, 0, 'h'}}) // track 1: its id, a 24-bit size, the record
	hevcFrame := func(n byte) []byte {
		return exVideo(t, flv.VideoTag{Enhanced: true, FrameType: flv.FrameKey, PacketType: flv.VideoCodedFrames, Multitrack: true, MultitrackType: flv.OneTrack, FourCC: flv.FourCCHEVC,
			Data: []byte{1, 0, 0, 4, 0, 0, 0, n}})
	}
	for _, c := range []struct {
		name  string
		cfg   Config
		files int
	}{
		{"time", Config{RotateAfter: time.Second}, 3}, // key frames at 0, 1.44 s and 2.88 s
		{"size", Config{RotateSize: 1000}, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := newFiles()
			cfg := c.cfg
			cfg.Dir = t.TempDir()
			h := newHub(t, live.Hooks{})
			key := live.Key{App: "live", Name: "cam"}
			pub := publish(t, h, key)
			r, err := Start(ctx5(t), h, key, cfg, Options{OnFile: fs.add, Logger: logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			setMeta(t, pub, 0, amf0.Property{Key: "width", Value: 320.0})
			write(t, pub, message.TypeVideo, 0, avcSeq())
			write(t, pub, message.TypeAudio, 0, aacSeq())
			write(t, pub, message.TypeVideo, 0, hevcSeq)
			sent := 0
			for i := range uint32(80) { // 3.2 s, a key frame every 0.5 s
				ts := i * 40
				write(t, pub, message.TypeVideo, ts, avcFrame(i%12 == 0, i))
				write(t, pub, message.TypeAudio, ts+3, aacFrame(i))
				sent += 2
				if i%12 == 0 {
					write(t, pub, message.TypeVideo, ts, hevcFrame(byte(i)))
					sent++
				}
			}
			pub.Close()
			<-r.Done()
			if r.Err() != nil {
				t.Fatal(r.Err())
			}
			fs.mu.Lock()
			all := fs.all
			fs.mu.Unlock()
			if len(all) != c.files {
				t.Fatalf("%d files, want %d", len(all), c.files)
			}
			got := 0
			for i, f := range all {
				_, tags := readFLV(t, f.Path)
				if w, ok := metadata(t, tags[0]).GetNumber("width"); !ok || w != 320 {
					t.Errorf("file %d: onMetaData without the publisher's properties", i)
				}
				for j, want := range [][]byte{avcSeq(), aacSeq(), hevcSeq} {
					if tg := tags[1+j]; tg.Timestamp != 0 || string(tg.Data) != string(want) {
						t.Errorf("file %d: tag %d is not header %d at 0: %v", i, 1+j, j, tg)
					}
				}
				var v flv.VideoTag
				if v.Unmarshal(tags[4].Data); tags[4].Timestamp != 0 || !v.IsKeyFrame() {
					t.Errorf("file %d starts with %v at %d", i, v.FrameType, tags[4].Timestamp)
				}
				got += len(tags) - 4
				want := ReasonRotated
				if i == len(all)-1 {
					want = ReasonUnpublished
				}
				if f.Reason != want {
					t.Errorf("file %d ended %v, want %v", i, f.Reason, want)
				}
				if c.cfg.RotateAfter > 0 && i < len(all)-1 && (f.Duration < c.cfg.RotateAfter || f.Duration >= c.cfg.RotateAfter+480*time.Millisecond) {
					t.Errorf("file %d: %v", i, f.Duration)
				}
			}
			if got != sent {
				t.Errorf("%d media packets in the files, %d sent", got, sent)
			}
		})
	}
}

// A full disk stops the recording, not the stream: the publisher and
// another subscriber carry on; the file is cut back to its last whole
// tag and patched; the error is reported and counted.
func TestWriteError(t *testing.T) {
	mfs := &memFS{mk: func() *memFile { return &memFile{limit: 3000} }}
	fs := newFiles()
	m := NewManager(ManagerOptions{OnFile: fs.add, Logger: logger(t)})
	h := newHub(t, m.Hooks())
	m.SetHub(h)
	key := live.Key{App: "live", Name: "cam"}
	pub := publish(t, h, key)
	defer pub.Close()
	player, err := h.Subscribe(ctx5(t), key, live.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer player.Close()
	r, err := start(ctx5(t), h, key, Config{Dir: t.TempDir(), FlushInterval: time.Millisecond}, Options{OnFile: fs.add, Logger: logger(t), stats: &m.stats}, mfs.create)
	if err != nil {
		t.Fatal(err)
	}
	write(t, pub, message.TypeVideo, 0, avcSeq())
	const n = 400
	for i := range uint32(n) {
		write(t, pub, message.TypeVideo, i*40, avcFrame(i%25 == 0, i))
		if i == 10 {
			time.Sleep(20 * time.Millisecond) // a flush before the disk fills
		}
	}
	f := fs.wait(t)
	<-r.Done()
	if !errors.Is(r.Err(), syscall.ENOSPC) || f.Reason != ReasonError || !errors.Is(f.Err, syscall.ENOSPC) {
		t.Fatalf("recording ended with %v; file %+v", r.Err(), f)
	}
	if st := r.Status(); st.Ended != ReasonError || !strings.Contains(st.Error, "no space") {
		t.Errorf("status %+v", st)
	}
	if s := m.Stats(); s.Errors != 1 {
		t.Errorf("stats %+v", s)
	}
	mf := mfs.get(f.Path)
	b := mf.bytes()
	if int64(len(b)) != f.Size || len(b) > 3000 || !mf.closed {
		t.Fatalf("file of %d bytes (reported %d, closed %v)", len(b), f.Size, mf.closed)
	}
	_, tags := parseFLV(t, b) // whole tags only
	if d, _ := metadata(t, tags[0]).GetNumber("filesize"); d != float64(len(b)) {
		t.Errorf("filesize %v, want %d", d, len(b))
	}
	// The stream went on: the publisher was never refused, the player
	// gets every packet.
	got := 0
	for got < n+1 {
		items, err := player.Read(ctx5(t), nil)
		if err != nil {
			t.Fatalf("player after %d packets: %v", got, err)
		}
		got += len(items)
	}
	write(t, pub, message.TypeVideo, n*40, avcFrame(false, n))
	t.Logf("the disk filled after %d tags (%d bytes); the player got all %d packets", len(tags), len(b), got)
}

// A recorder that falls behind loses video up to a key frame, keeps
// recording, and reports the loss.
func TestLoss(t *testing.T) {
	gate := make(chan struct{})
	mfs := &memFS{mk: func() *memFile { return &memFile{gate: gate} }}
	h := newHub(t, live.Hooks{})
	key := live.Key{App: "live", Name: "cam"}
	pub := publish(t, h, key)
	r, err := start(ctx5(t), h, key, Config{Dir: t.TempDir(), QueueMaxBytes: 2000, FlushInterval: time.Millisecond}, Options{Logger: logger(t)}, mfs.create)
	if err != nil {
		t.Fatal(err)
	}
	write(t, pub, message.TypeVideo, 0, avcSeq())
	write(t, pub, message.TypeVideo, 0, avcFrame(true, 0))
	time.Sleep(20 * time.Millisecond) // the recorder is blocked in its first write
	for i := uint32(1); i < 200; i++ {
		write(t, pub, message.TypeVideo, i*40, avcFrame(i%25 == 0, i))
	}
	close(gate)
	write(t, pub, message.TypeVideo, 200*40, avcFrame(true, 200))
	pub.Close()
	<-r.Done()
	st := r.Status()
	if st.Lost == 0 || r.own.lost.Load() != st.Lost || r.own.lossEvents.Load() == 0 {
		t.Fatalf("no loss reported: %+v", st)
	}
	t.Logf("lost %d packets in %d events; the recording went on", st.Lost, r.own.lossEvents.Load())
}

// The API's start and stop for one stream.
func TestManagerStartStop(t *testing.T) {
	dir := t.TempDir()
	fs := newFiles()
	m := NewManager(ManagerOptions{App: func(app string) (Config, bool) { return Config{Dir: dir}, app == "rec" }, OnFile: fs.add, Logger: logger(t)})
	h := newHub(t, live.Hooks{})
	if _, err := m.Start(ctx5(t), live.Key{App: "rec", Name: "x"}); !errors.Is(err, ErrNoHub) {
		t.Fatalf("without a hub: %v", err)
	}
	m.SetHub(h)
	if _, err := m.Start(ctx5(t), live.Key{App: "rec", Name: "x"}); !errors.Is(err, live.ErrStreamNotFound) {
		t.Fatalf("unpublished: %v", err)
	}
	if _, err := m.Start(ctx5(t), live.Key{App: "other", Name: "x"}); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("no config: %v", err)
	}
	key := live.Key{App: "rec", Name: "x"}
	pub := publish(t, h, key)
	write(t, pub, message.TypeVideo, 0, avcSeq())
	write(t, pub, message.TypeVideo, 0, avcFrame(true, 0))
	r, err := m.Start(ctx5(t), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start(ctx5(t), key); !errors.Is(err, ErrRecording) {
		t.Fatalf("second start: %v", err)
	}
	if rs := m.Recordings(); len(rs) != 1 || rs[0].Key != key {
		t.Fatalf("recordings %+v", rs)
	}
	write(t, pub, message.TypeVideo, 40, avcFrame(false, 1))
	if err := m.Stop(key); err != nil {
		t.Fatal(err)
	}
	f := fs.wait(t)
	if f.Reason != ReasonStopped || !errors.Is(r.Err(), ErrStopped) {
		t.Fatalf("file %+v, err %v", f, r.Err())
	}
	// Joined late: the file starts with the header and the cached GOP.
	_, tags := readFLV(t, f.Path)
	if len(tags) != 4 || string(tags[1].Data) != string(avcSeq()) || tags[3].Timestamp != 40 {
		t.Fatalf("tags %v", tags)
	}
	waitFor(t, "the recording to be gone", func() bool { return m.Recording(key) == nil })
	if err := m.Stop(key); !errors.Is(err, ErrNotRecording) {
		t.Fatalf("second stop: %v", err)
	}
	// Again, then the manager's shutdown ends it.
	if _, err := m.Start(ctx5(t), key); err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	if f := fs.wait(t); f.Reason != ReasonStopped {
		t.Fatalf("at shutdown: %+v", f)
	}
	if _, err := m.Start(ctx5(t), key); !errors.Is(err, live.ErrShutdown) {
		t.Fatalf("after shutdown: %v", err)
	}
	pub.Close()
}

// The hub's shutdown ends a recording with its file closed.
func TestHubShutdown(t *testing.T) {
	fs := newFiles()
	h := live.NewHub(live.Config{Logger: logger(t)})
	key := live.Key{App: "live", Name: "x"}
	pub := publish(t, h, key)
	r, err := Start(ctx5(t), h, key, Config{Dir: t.TempDir()}, Options{OnFile: fs.add, Logger: logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	write(t, pub, message.TypeAudio, 0, aacSeq())
	write(t, pub, message.TypeAudio, 0, aacFrame(0))
	waitFor(t, "a file", func() bool { return r.Status().Path != "" })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go pub.Close()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if f := fs.wait(t); f.Reason != ReasonShutdown && f.Reason != ReasonUnpublished {
		t.Fatalf("file %+v", f)
	}
	<-r.Done()
}

// Recording a media packet allocates nothing once the file's buffer has
// grown.
func TestPacketAllocs(t *testing.T) {
	mfs := &memFS{}
	r := &Recorder{key: live.Key{App: "a", Name: "b"}, cfg: Config{Dir: t.TempDir()}, log: logger(t), create: mfs.create}
	r.stats = &r.own
	first := live.NewPacket(message.TypeVideo, 0, avcFrame(true, 0))
	if reason, err := r.packet(first); reason != ReasonNone {
		t.Fatal(reason, err)
	}
	p := live.NewPacket(message.TypeVideo, 40, avcFrame(false, 1))
	a := live.NewPacket(message.TypeAudio, 40, aacFrame(1))
	n := testing.AllocsPerRun(1000, func() {
		r.packet(p)
		r.packet(a)
	})
	if n != 0 {
		t.Fatalf("%v allocations per packet pair", n)
	}
	if r.file.pending() > flushBytes/2 {
		t.Fatalf("%d bytes buffered: the test wrote through", r.file.pending())
	}
	r.closeFile(ReasonStopped, nil)
}
