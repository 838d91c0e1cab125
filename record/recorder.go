package record

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

// Reason says why a file, or a whole recording, ended.
type Reason uint8

// File and recording end reasons.
const (
	ReasonNone Reason = iota
	// ReasonRotated: the file reached Config.RotateAfter or RotateSize;
	// the recording goes on in a new file.
	ReasonRotated
	// ReasonStopped: Recorder.Stop (the API, or the manager).
	ReasonStopped
	// ReasonUnpublished: the publisher left.
	ReasonUnpublished
	// ReasonError: a write failed (a full disk, an I/O error); the
	// recording stopped, the stream did not.
	ReasonError
	// ReasonShutdown: the hub shut down.
	ReasonShutdown
	// ReasonEnded: the hub ended the recorder's subscription otherwise
	// (a kick).
	ReasonEnded
)

var reasonNames = [...]string{"none", "rotated", "stopped", "unpublished", "error", "shutdown", "ended"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// MarshalText writes the reason's name (JSON).
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// File describes a finished file: what an on_record_done hook gets.
type File struct {
	Key live.Key
	// Path is the file's path.
	Path string
	// Start is when it was opened.
	Start time.Time
	// Duration is its media time; Size its bytes; Tags its tags.
	Duration time.Duration
	Size     int64
	Tags     uint64
	// Reason is why it ended; Err the write error of ReasonError.
	Reason Reason
	Err    error
}

// Options are what a recording reports to.
type Options struct {
	// OnFile is called on the recorder's goroutine for each finished
	// file (the on_record_done hook, a metric). It should not block long:
	// the recorder's queue fills meanwhile.
	OnFile func(File)
	// Logger gets a line per file and per loss or error; nil means
	// slog.Default().
	Logger *slog.Logger

	stats *counters // a Manager's, shared by its recorders
}

// counters are a recorder's (or a manager's) totals; atomic.
type counters struct {
	files, bytes, errors, lost, lossEvents atomic.Uint64
}

// ErrStopped is what Err returns once Stop ended a recording: not a
// failure.
var ErrStopped = errors.New("record: stopped")

// Recorder records one stream into FLV files: a subscriber of the hub
// that takes every packet as published (Enhanced RTMP codecs and
// multitrack included) with a large queue that reports loss rather than
// dropping silently. Each file starts with onMetaData (the publisher's
// properties, and duration and filesize patched in when it closes), the
// decoder configurations in force, and a key frame at time 0, so that it
// plays on its own.
//
// A write error (a full disk) stops the recording, never the stream:
// the subscription is closed, the file is cut back to its last whole tag
// and closed, and the error is logged, counted and passed to OnFile.
//
// Stop, Done, Err and Status are safe for concurrent use.
type Recorder struct {
	// Immutable after Start.
	key   live.Key
	cfg   Config
	opts  Options
	log   *slog.Logger
	sub   *live.Subscription
	stats *counters
	own   counters // when no manager shares its counters
	since time.Time
	stop  chan struct{}
	done  chan struct{}
	// create makes files (a test's fake).
	create func(string) (osFile, error)

	stopOnce sync.Once

	// Owned by the recording goroutine.
	file     *flvFile
	seq      int
	meta     amf0.Object
	hdrs     headers
	pending  []*live.Packet // data frames for the start of the first file
	pendingN int
	sawVideo bool
	sawAudio bool

	// mu guards what Status and Err read.
	mu       sync.Mutex
	path     string
	files    int
	bytes    uint64
	lost     uint64
	err      error
	endedFor Reason
}

// Start records the stream key, which must be published, with cfg,
// until Stop, the publisher leaves, the hub shuts down or a write fails.
func Start(ctx context.Context, hub *live.Hub, key live.Key, cfg Config, o Options) (*Recorder, error) {
	return start(ctx, hub, key, cfg, o, createFile)
}

func start(ctx context.Context, hub *live.Hub, key live.Key, cfg Config, o Options, create func(string) (osFile, error)) (*Recorder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Recorder{key: key, cfg: cfg, opts: o, log: o.Logger, stats: o.stats, since: time.Now(),
		stop: make(chan struct{}), done: make(chan struct{}), create: create}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.stats == nil {
		r.stats = &r.own
	}
	sub, err := hub.Subscribe(ctx, key, live.SubscribeOptions{
		Session:       &live.Session{Protocol: "record", App: key.App, Stream: key.Name},
		AllCodecs:     true,
		ReportLoss:    true,
		Wait:          -1,
		QueueMaxBytes: cfg.queueMaxBytes(),
		QueueMaxDelay: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("record: %v: %w", key, err)
	}
	r.sub = sub
	go r.run()
	return r, nil
}

// Key returns the stream recorded.
func (r *Recorder) Key() live.Key { return r.key }

// Stop ends the recording: what is queued is written, the file is
// closed (ReasonStopped). It returns once the recorder is done.
func (r *Recorder) Stop() {
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.done
}

// Done is closed when the recording has ended.
func (r *Recorder) Done() <-chan struct{} { return r.done }

// Err returns why the recording ended, once Done: nil when the
// publisher left or the hub shut down, ErrStopped after Stop, else the
// error that stopped it.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Status is a snapshot of a recording.
type Status struct {
	Key live.Key `json:"key"`
	// Path is the file being written ("" before the first media packet
	// and after the end).
	Path  string    `json:"path"`
	Since time.Time `json:"since"`
	// Files counts the files finished; Bytes the bytes written to all.
	Files int    `json:"files"`
	Bytes uint64 `json:"bytes"`
	// Lost counts the packets lost because the recorder fell behind.
	Lost uint64 `json:"lost"`
	// Ended is why the recording ended (ReasonNone while it runs); Error
	// the write error of ReasonError.
	Ended Reason `json:"ended,omitempty"`
	Error string `json:"error,omitempty"`
}

// Status returns a snapshot of the recording.
func (r *Recorder) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := Status{Key: r.key, Path: r.path, Since: r.since, Files: r.files, Bytes: r.bytes, Lost: r.lost, Ended: r.endedFor}
	if r.err != nil && r.endedFor == ReasonError {
		st.Error = r.err.Error()
	}
	return st
}

// run is the recording goroutine: it alone touches the file.
func (r *Recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(r.cfg.flushInterval())
	defer tick.Stop()
	items := make([]live.Item, 0, 64)
	stopping := false
	for {
		var err error
		items, err = r.sub.TryRead(items[:0])
		if err != nil {
			var end *live.EndError
			reason := ReasonEnded
			if errors.As(err, &end) {
				switch end.Reason {
				case live.ReasonPublisherGone:
					reason = ReasonUnpublished
				case live.ReasonShutdown:
					reason = ReasonShutdown
				}
			}
			r.finish(reason, nil)
			return
		}
		if len(items) == 0 {
			if stopping {
				r.finish(ReasonStopped, nil)
				return
			}
			select {
			case <-r.sub.Ready():
			case <-tick.C:
				if r.file != nil {
					if err := r.file.flush(); err != nil {
						r.finish(ReasonError, err)
						return
					}
				}
			case <-r.stop:
				stopping = true // write what is queued, then stop
			}
			continue
		}
		for _, it := range items {
			if reason, err := r.item(it); reason != ReasonNone {
				clear(items)
				r.finish(reason, err)
				return
			}
		}
		clear(items)
		if stopping {
			r.finish(ReasonStopped, nil)
			return
		}
	}
}

// item handles one item; a Reason other than ReasonNone ends the
// recording.
func (r *Recorder) item(it live.Item) (Reason, error) {
	switch it.Notice {
	case live.NoticeLoss:
		r.stats.lost.Add(it.Lost)
		r.stats.lossEvents.Add(1)
		r.mu.Lock()
		r.lost += it.Lost
		r.mu.Unlock()
		r.log.Warn("record: fell behind, packets lost", "stream", r.key.String(), "lost", it.Lost, "path", r.path)
		return ReasonNone, nil
	case live.NoticeUnpublished:
		return ReasonUnpublished, nil
	case live.NoticeNone:
		return r.packet(it.Packet)
	}
	return ReasonNone, nil
}

func (r *Recorder) packet(p *live.Packet) (Reason, error) {
	switch {
	case p.IsData():
		return r.data(p)
	case p.IsSequenceHeader():
		r.hdrs.note(p)
		r.saw(p)
		if r.file != nil {
			return r.write(p)
		}
		return ReasonNone, nil
	}
	r.saw(p)
	if r.file == nil {
		return r.open(p)
	}
	if r.rotateDue(p) {
		if reason, err := r.closeFile(ReasonRotated, nil); reason != ReasonNone {
			return reason, err
		}
		return r.open(p)
	}
	return r.write(p)
}

func (r *Recorder) saw(p *live.Packet) {
	if p.IsVideo() {
		r.sawVideo = true
	} else {
		r.sawAudio = true
	}
}

// data keeps onMetaData for the start of each file (and writes updates
// into the current one); other data frames are written as they come, or
// kept for the first file when they precede it.
func (r *Recorder) data(p *live.Packet) (Reason, error) {
	d, err := message.UnmarshalData(p.Type(), p.Payload())
	if err == nil {
		if props, ok := d.MetaData(); ok {
			r.meta = props
			if r.file != nil && !p.IsJoin() {
				return r.write(p)
			}
			return ReasonNone, nil
		}
	}
	if r.file != nil {
		return r.write(p)
	} else if len(r.pending) < maxPending && r.pendingN+len(p.Payload()) <= maxPendingBytes {
		r.pending = append(r.pending, p)
		r.pendingN += len(p.Payload())
	}
	return ReasonNone, nil
}

// rotateDue reports whether p starts the next file: the current one is
// full by time or size and p is a key frame (audio, when the stream has
// no video).
func (r *Recorder) rotateDue(p *live.Packet) bool {
	f := r.file
	due := (r.cfg.RotateAfter > 0 && time.Duration(f.rel(p.Timestamp()))*time.Millisecond >= r.cfg.RotateAfter) ||
		(r.cfg.RotateSize > 0 && f.pending() >= r.cfg.RotateSize)
	if !due {
		return false
	}
	if p.IsVideo() {
		return p.IsKeyFrame()
	}
	return !r.sawVideo && p.IsAudio()
}

// open starts a file whose time 0 is p: header, onMetaData, the decoder
// configurations in force, the data frames kept, then p.
func (r *Recorder) open(p *live.Packet) (Reason, error) {
	path, err := r.cfg.path(r.key, time.Now(), r.seq)
	if err != nil {
		return r.fail(err)
	}
	var flags uint8
	if r.sawAudio || r.hdrs.has(true) {
		flags |= flv.FlagAudio
	}
	if r.sawVideo || r.hdrs.has(false) {
		flags |= flv.FlagVideo
	}
	f, err := openFile(r.create, path, flags, r.meta)
	if err != nil {
		return r.fail(err)
	}
	f.base = p.Timestamp()
	r.file = f
	r.seq++
	r.mu.Lock()
	r.path = f.path
	r.mu.Unlock()
	r.log.Info("record: file open", "stream", r.key.String(), "path", f.path)
	for _, h := range r.hdrs.slots {
		err = cmp.Or(err, f.writeTag(tagType(h.p), 0, h.p.Payload()))
	}
	for _, d := range r.pending {
		err = cmp.Or(err, f.writeTag(flv.TagScript, 0, scriptBody(d)))
	}
	clear(r.pending)
	r.pending, r.pendingN = r.pending[:0], 0
	if err != nil {
		return ReasonError, err
	}
	return r.write(p)
}

// write writes p in the current file at its file time; a write error
// ends the recording (ReasonError).
func (r *Recorder) write(p *live.Packet) (Reason, error) {
	f := r.file
	body := p.Payload()
	if p.IsData() {
		body = scriptBody(p)
	}
	if len(body) > 1<<24-1 {
		return ReasonNone, nil // no FLV tag holds it (DataSize is UI24)
	}
	if err := f.writeTag(tagType(p), f.rel(p.Timestamp()), body); err != nil {
		return ReasonError, err
	}
	return ReasonNone, nil
}

func tagType(p *live.Packet) flv.TagType {
	switch {
	case p.IsVideo():
		return flv.TagVideo
	case p.IsAudio():
		return flv.TagAudio
	}
	return flv.TagScript
}

// scriptBody is a data packet as an FLV script tag body: AMF0 (an AMF3
// data message is AMF0 after its format selector, RTMP §7.1.2).
func scriptBody(p *live.Packet) []byte {
	b := p.Payload()
	if p.Type() == message.TypeDataAMF3 && len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// fail ends the recording for err (a file that cannot be made or
// written).
func (r *Recorder) fail(err error) (Reason, error) { return ReasonError, err }

// closeFile closes the current file for reason; a write error turns
// into ReasonError.
func (r *Recorder) closeFile(reason Reason, failed error) (Reason, error) {
	f := r.file
	if f == nil {
		return ReasonNone, nil
	}
	r.file = nil
	err := f.close()
	if failed != nil {
		err = failed
	}
	if err != nil {
		reason = ReasonError
	}
	size := f.size()
	file := File{Key: r.key, Path: f.path, Start: f.opened, Duration: f.duration(), Size: size, Tags: uint64(f.w.Tags()), Reason: reason, Err: err}
	r.stats.files.Add(1)
	r.stats.bytes.Add(uint64(size))
	r.mu.Lock()
	r.files++
	r.bytes += uint64(size)
	r.path = ""
	r.mu.Unlock()
	attrs := []any{"stream", r.key.String(), "path", f.path, "reason", reason.String(),
		"duration", file.Duration, "size", size}
	if err != nil {
		r.log.Error("record: file closed", append(attrs, "err", err.Error())...)
	} else {
		r.log.Info("record: file closed", attrs...)
	}
	if r.opts.OnFile != nil {
		r.opts.OnFile(file)
	}
	if err != nil {
		return ReasonError, err
	}
	return ReasonNone, nil
}

// finish ends the recording: the file is closed, the subscription too.
func (r *Recorder) finish(reason Reason, err error) {
	if r.file != nil {
		if reason == ReasonError && err != nil {
			r.closeFile(reason, err)
		} else if rr, e := r.closeFile(reason, nil); rr != ReasonNone {
			reason, err = rr, e
		}
	}
	if reason == ReasonError {
		r.stats.errors.Add(1)
		r.log.Error("record: recording stopped", "stream", r.key.String(), "err", fmt.Sprint(err))
		r.sub.CloseWith(live.ReasonProtocolError, err)
	} else {
		r.sub.Close()
	}
	r.mu.Lock()
	r.endedFor = reason
	switch reason {
	case ReasonError:
		r.err = err
	case ReasonStopped:
		r.err = ErrStopped
	}
	r.mu.Unlock()
}
