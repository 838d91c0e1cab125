package hls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/fmp4"
	"github.com/ertmp/rtmp/live"
)

// Limits on what one stream's muxer keeps, beyond the window: a lead
// track that sends no key frame for maxSegmentDuration, or a segment past
// maxSegmentBytes, ends the muxer (its playlists get EXT-X-ENDLIST).
const (
	maxSegmentDuration = 30 * time.Second
	maxSegmentBytes    = 64 << 20
	// maxRenditions bounds the tracks of a stream the muxer takes (Enhanced
	// RTMP track ids go to 255).
	maxRenditions = 16
	// maxPending bounds the samples a track keeps waiting for the lead
	// (pending); past it, the oldest is muxed without waiting.
	maxPending = 256
	// partListSegments is how many complete segments keep their EXT-X-PART
	// lines before the live edge (RFC 8216bis §4.4.4.9 asks for parts
	// within three target durations of the end; two segments of at least
	// one target duration each, plus the current one, cover it).
	partListSegments = 2
)

// part is a partial segment: one CMAF fragment (moof + mdat). Immutable
// once published.
type part struct {
	data        []byte
	start, dur  int64 // decode time and duration, ms
	independent bool  // starts with a sync sample
	at          time.Time
}

// segment is a media segment: the concatenation of its parts. parts,
// bytes, done and dur change under muxer.mu while it is the current one.
type segment struct {
	msn   uint64
	start int64 // decode time, ms
	dur   int64 // ms, once done
	pdt   time.Time
	parts []*part
	bytes int
	done  bool
	at    time.Time // when it was done
}

// rendition is one track of the stream, served as its own media playlist
// with its own initialization segment (the CMAF layout).
type rendition struct {
	// Immutable after newRendition.
	name  string // "v0", "a1": the resource names' prefix
	video bool
	id    uint8
	four  flv.FourCC

	// Owned by the muxer goroutine.
	config    []byte
	track     *fmp4.Track
	fseq      uint32
	started   bool
	partStart int64
	partKey   bool
	partN     int
	lastDTS   int64
	lastDelta int64
	maxDelta  int64
	// pending holds a track's samples (not the lead's) until the lead
	// reached their time: a key frame of another track at the time the
	// lead cuts a segment may come just before the lead's, and must see the
	// cut.
	pending []fmp4.Sample

	// Guarded by muxer.mu.
	codec    string // RFC 6381
	width    int
	height   int
	channels int
	init     []byte
	segs     []*segment // the window, then the current segment last
	bytes    int        // bytes held by segs
	peak     int64      // highest segment bit rate so far, b/s
	broken   error      // the track could not be muxed: not served
	partsOut uint64     // parts published
}

// cur is the segment being filled; nil before the rendition started.
func (r *rendition) cur() *segment {
	if len(r.segs) == 0 {
		return nil
	}
	return r.segs[len(r.segs)-1]
}

// muxer turns one live stream into LL-HLS: one subscription, read by one
// goroutine, which cuts fragments and publishes them under mu for the HTTP
// handlers. The publisher never waits for it (the hub queues for it) and it
// never waits for a viewer.
type muxer struct {
	// Immutable after newMuxer.
	srv   *Server
	key   live.Key
	inst  string // names this instance in segment URIs
	log   *slog.Logger
	ready chan struct{} // closed when the master playlist can be made, or the muxer failed
	done  chan struct{} // closed when the goroutine ended
	stop  context.CancelFunc

	lastReq atomic.Int64 // unix ns of the last request
	waiters atomic.Int32 // requests waiting on the muxer: it is not idle

	// Owned by the goroutine.
	unwrap chunk.Unwrapper
	lead   *rendition
	wall0  time.Time
	dts0   int64

	mu       sync.Mutex
	rends    []*rendition
	bounds   []int64 // the lead's segment starts, bounds[i] is msn boundsMSN+i
	boundMSN uint64
	target   int // EXT-X-TARGETDURATION, s
	changed  chan struct{}
	isReady  bool
	ended    bool  // no more media: EXT-X-ENDLIST
	err      error // failed before it was ready
	names    map[trackKey]label
	lost     uint64
}

type trackKey struct {
	video bool
	id    uint8
}

// label is a track's NAME and LANGUAGE from the stream's metadata.
type label struct{ name, lang string }

func newMuxer(srv *Server, key live.Key, inst string) *muxer {
	m := &muxer{srv: srv, key: key, inst: inst, log: srv.log, ready: make(chan struct{}), done: make(chan struct{}),
		changed: make(chan struct{}), names: map[trackKey]label{}}
	m.target = int((srv.o.Segment + time.Second - 1) / time.Second)
	m.lastReq.Store(time.Now().UnixNano())
	return m
}

func (m *muxer) touch() { m.lastReq.Store(time.Now().UnixNano()) }

// notifyLocked wakes every request waiting for a change.
func (m *muxer) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// run subscribes and muxes until the stream ends, the muxer is idle or the
// server closes; then it lingers, serving what it has, until idle.
func (m *muxer) run(ctx context.Context, sess *live.Session) {
	defer close(m.done)
	defer m.srv.remove(m)
	sub, err := m.srv.hub.Subscribe(ctx, live.Key{App: sess.App, Name: sess.Stream}, live.SubscribeOptions{
		Session: sess, AllCodecs: true, ReportLoss: true,
		QueueMaxBytes: 64 << 20, QueueMaxDelay: 10 * time.Second,
	})
	if err != nil {
		m.fail(err)
		return
	}
	m.log.Info("hls: start", "stream", m.key.String(), "instance", m.inst)
	reason := m.mux(ctx, sub)
	sub.Close()
	m.finish()
	m.log.Info("hls: end of media", "stream", m.key.String(), "instance", m.inst, "reason", reason)
	// Serve what is held (the ENDLIST tells players) until idle.
	m.idleWait(ctx)
}

// fail ends a muxer that never got media.
func (m *muxer) fail(err error) {
	m.mu.Lock()
	m.err, m.ended = err, true
	if !m.isReady {
		close(m.ready)
	}
	m.notifyLocked()
	m.mu.Unlock()
	m.log.Debug("hls: not started", "stream", m.key.String(), "err", err)
}

func (m *muxer) idle() bool {
	return m.waiters.Load() == 0 && time.Since(time.Unix(0, m.lastReq.Load())) > m.srv.o.Idle
}

func (m *muxer) idleWait(ctx context.Context) {
	t := time.NewTicker(m.srv.tick())
	defer t.Stop()
	for !m.idle() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// mux reads the subscription until it ends; it returns why.
func (m *muxer) mux(ctx context.Context, sub *live.Subscription) string {
	t := time.NewTicker(m.srv.tick())
	defer t.Stop()
	var items []live.Item
	for {
		select {
		case <-ctx.Done():
			return "server closed"
		case <-t.C:
			if m.idle() {
				return "idle"
			}
			continue
		case <-sub.Ready():
		}
		var err error
		items, err = sub.TryRead(items[:0])
		now := time.Now()
		for i := range items {
			it := &items[i]
			switch it.Notice {
			case live.NoticeUnpublished:
				return "publisher gone"
			case live.NoticeLoss:
				m.mu.Lock()
				m.lost += it.Lost
				m.mu.Unlock()
				m.log.Warn("hls: lost packets", "stream", m.key.String(), "packets", it.Lost, "reason", "fell behind the publisher")
			case live.NoticeNone:
				if err := m.packet(it.Packet, now); err != nil {
					return err.Error()
				}
			}
		}
		clear(items)
		if err != nil {
			var e *live.EndError
			if errors.As(err, &e) {
				return e.Reason.String()
			}
			return err.Error()
		}
	}
}

// packet takes one packet of the stream.
func (m *muxer) packet(p *live.Packet, now time.Time) error {
	ms := m.unwrap.Unwrap(p.Timestamp())
	switch {
	case p.IsData():
		m.metadata(p.Payload())
	case p.IsVideo():
		var v flv.VideoTag
		if v.Unmarshal(p.Payload()) != nil {
			return nil
		}
		for it := v.Tracks(); it.Next(); {
			tr := it.Track()
			r := m.rendition(true, tr.ID, tr.FourCC)
			if r == nil {
				continue
			}
			if v.IsSequenceHeader() {
				m.setConfig(r, tr.Data)
				continue
			}
			if s, ok := fmp4.VideoSample(&v, tr, ms); ok {
				if err := m.add(r, s, now); err != nil {
					return err
				}
			}
		}
	case p.IsAudio():
		var a flv.AudioTag
		if a.Unmarshal(p.Payload()) != nil {
			return nil
		}
		for it := a.Tracks(); it.Next(); {
			tr := it.Track()
			r := m.rendition(false, tr.ID, tr.FourCC)
			if r == nil {
				continue
			}
			if a.IsSequenceHeader() {
				m.setConfig(r, tr.Data)
				continue
			}
			if s, ok := fmp4.AudioSample(&a, tr, ms); ok {
				if err := m.add(r, s, now); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// rendition returns the rendition of a track, made on first sight; nil past
// maxRenditions or when the track changed codec.
func (m *muxer) rendition(video bool, id uint8, f flv.FourCC) *rendition {
	for _, r := range m.rends {
		if r.video == video && r.id == id {
			if r.four != f {
				return nil
			}
			return r
		}
	}
	if len(m.rends) >= maxRenditions || f == 0 {
		return nil
	}
	name := "a"
	if video {
		name = "v"
	}
	r := &rendition{name: fmt.Sprintf("%s%d", name, id), video: video, id: id, four: f}
	m.mu.Lock()
	m.rends = append(m.rends, r)
	m.mu.Unlock()
	return r
}

// setConfig keeps a track's decoder configuration. Once the track is made,
// a new configuration is ignored: FFmpeg repeats FLAC's at the end with its
// MD5, and a codec change would need a new initialization segment that
// players already holding the old one would not fetch.
func (m *muxer) setConfig(r *rendition, config []byte) {
	if r.track == nil {
		r.config = append(r.config[:0], config...)
	}
}

// add muxes one sample of r: the lead's at once, the others' once the
// lead reached their time.
func (m *muxer) add(r *rendition, s fmp4.Sample, now time.Time) error {
	if r.track == nil && !m.makeTrack(r, s) {
		return nil
	}
	if m.lead == nil || (!m.lead.started && m.lead.broken != nil) {
		if m.lead = m.pickLead(); m.lead == nil {
			return nil
		}
	}
	if r != m.lead {
		if len(r.pending) == maxPending {
			if err := m.addNow(r, r.pending[0], now); err != nil {
				return err
			}
			r.pending = append(r.pending[:0], r.pending[1:]...)
		}
		r.pending = append(r.pending, s)
		return m.drain(now, false)
	}
	if err := m.addNow(r, s, now); err != nil {
		return err
	}
	return m.drain(now, false)
}

// drain muxes the other tracks' pending samples up to the lead's time, or
// all of them.
func (m *muxer) drain(now time.Time, all bool) error {
	if m.lead == nil || !m.lead.started && !all {
		return nil
	}
	for _, o := range m.rends {
		n := 0
		for n < len(o.pending) && (all || o.pending[n].Time <= m.lead.lastDTS) {
			if err := m.addNow(o, o.pending[n], now); err != nil {
				return err
			}
			n++
		}
		if n > 0 {
			clear(o.pending[:n])
			o.pending = append(o.pending[:0], o.pending[n:]...)
		}
	}
	return nil
}

// addNow muxes one sample of r.
func (m *muxer) addNow(r *rendition, s fmp4.Sample, now time.Time) error {
	if !r.started && !m.start(r, s, now) {
		return nil
	}
	partTarget := m.srv.o.Part.Milliseconds()
	cur := r.cur()
	if r == m.lead {
		long := s.Time-cur.start >= m.srv.o.Segment.Milliseconds()
		if s.Key && long && r.partN+len(cur.parts) > 0 {
			m.cut(r, s.Time, now)
		} else if s.Time-cur.start > m.srv.maxSegDur.Milliseconds() {
			return fmt.Errorf("no key frame for %v", m.srv.maxSegDur)
		}
	} else if b, ok := m.bound(cur.msn + 1); ok && s.Time >= b && (!r.video || s.Key) {
		m.cut(r, s.Time, now)
	}
	// A part ends before the sample that would take it past the part
	// target, judged by the longest sample interval seen (capped).
	if r.partN > 0 && s.Time-r.partStart+r.maxDelta > partTarget {
		m.flushPart(r, s.Time, now)
	}
	if err := r.track.Add(s); err != nil {
		if errors.Is(err, fmp4.ErrDecodeOrder) {
			m.log.Debug("hls: sample dropped", "stream", m.key.String(), "track", r.name, "err", err)
			return nil
		}
		return err
	}
	if r.partN == 0 {
		r.partStart, r.partKey = s.Time, s.Key
	} else {
		r.lastDelta = s.Time - r.lastDTS
		r.maxDelta = min(max(r.maxDelta, r.lastDelta), partTarget/2)
	}
	r.partN++
	r.lastDTS = s.Time
	if _, b := r.track.Pending(); cur.bytes+b > m.srv.maxSegBytes {
		return fmt.Errorf("segment over %d bytes", m.srv.maxSegBytes)
	}
	return nil
}

// makeTrack makes r's fMP4 track from its configuration and the first
// sample (or the first key frame, for VP9's picture size).
func (m *muxer) makeTrack(r *rendition, s fmp4.Sample) bool {
	m.mu.Lock()
	broken := r.broken
	m.mu.Unlock()
	if broken != nil {
		return false
	}
	t, err := fmp4.NewTrack(1, r.four, r.config, s.Data)
	if errors.Is(err, fmp4.ErrNeedFrame) && !s.Key {
		return false
	}
	var init []byte
	if err == nil {
		init, err = fmp4.AppendInit(nil, t)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		r.broken = err
		m.log.Warn("hls: track not served", "stream", m.key.String(), "track", r.name, "codec", r.four.String(), "err", err)
		return false
	}
	r.track, r.init = t, init
	r.codec = codecString(r.four, r.config)
	r.width, r.height, r.channels = t.Video.Width, t.Video.Height, t.Audio.Channels
	return true
}

// start begins r's first segment with s, or reports false to drop s. The
// lead track (the first video track, else the first audio track, among
// those whose decoder configuration came first) sets the segment
// boundaries; the others start at the lead's current segment and cut where
// the lead did (video at its next key frame from there).
func (m *muxer) start(r *rendition, s fmp4.Sample, now time.Time) bool {
	if r.video && !s.Key {
		return false
	}
	var msn uint64
	if r == m.lead {
		m.wall0, m.dts0 = now, s.Time
		m.mu.Lock()
		m.bounds, m.boundMSN = append(m.bounds, s.Time), 0
		m.mu.Unlock()
	} else {
		if !m.lead.started {
			return false
		}
		m.mu.Lock()
		i := len(m.bounds) - 1
		for i >= 0 && m.bounds[i] > s.Time {
			i--
		}
		m.mu.Unlock()
		if i < 0 {
			return false // before the lead's first segment
		}
		msn = m.boundMSN + uint64(i)
	}
	r.started = true
	m.mu.Lock()
	r.segs = append(r.segs, &segment{msn: msn, start: s.Time, pdt: m.pdt(s.Time)})
	m.mu.Unlock()
	return true
}

// pickLead chooses the track whose key frames cut segments: the first
// video track that can be muxed, else the first audio track.
func (m *muxer) pickLead() *rendition {
	var audio *rendition
	for _, r := range m.rends {
		if r.broken != nil {
			continue
		}
		if r.video {
			return r
		}
		if audio == nil {
			audio = r
		}
	}
	return audio
}

func (m *muxer) pdt(ms int64) time.Time {
	return m.wall0.Add(time.Duration(ms-m.dts0) * time.Millisecond)
}

// bound returns where the lead's segment msn starts, if known.
func (m *muxer) bound(msn uint64) (int64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if msn < m.boundMSN || msn-m.boundMSN >= uint64(len(m.bounds)) {
		return 0, false
	}
	return m.bounds[msn-m.boundMSN], true
}

// flushPart writes r's queued samples as a part ending at end (ms).
func (m *muxer) flushPart(r *rendition, end int64, now time.Time) {
	if r.partN == 0 {
		return
	}
	_, n := r.track.Pending()
	r.track.EndAt(end)
	r.fseq++
	data, err := fmp4.AppendFragment(make([]byte, 0, n+256+16*r.partN), r.fseq, r.track)
	r.partN = 0
	if err != nil {
		m.log.Warn("hls: fragment dropped", "stream", m.key.String(), "track", r.name, "err", err)
		return
	}
	p := &part{data: data, start: r.partStart, dur: end - r.partStart, independent: r.partKey || !r.video, at: now}
	m.mu.Lock()
	cur := r.cur()
	cur.parts = append(cur.parts, p)
	cur.bytes += len(data)
	r.bytes += len(data)
	r.partsOut++
	m.notifyLocked()
	m.mu.Unlock()
}

// cut ends r's current segment at end (ms) and starts the next one there.
func (m *muxer) cut(r *rendition, end int64, now time.Time) {
	m.flushPart(r, end, now)
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := r.cur()
	m.closeLocked(r, cur, end, now)
	r.segs = append(r.segs, &segment{msn: cur.msn + 1, start: end, pdt: m.pdt(end)})
	if r == m.lead {
		m.bounds = append(m.bounds, end)
		// Keep the boundaries of the window and a little more, for tracks
		// that lag behind the lead.
		if over := len(m.bounds) - 2*(m.srv.o.Segments+2); over > 0 {
			m.bounds = append(m.bounds[:0], m.bounds[over:]...)
			m.boundMSN += uint64(over)
		}
	}
	if !m.isReady && m.allCutLocked() {
		m.isReady = true
		close(m.ready)
	}
	// The window: Segments complete ones, and the current.
	for len(r.segs)-1 > m.srv.o.Segments {
		r.bytes -= r.segs[0].bytes
		r.segs[0] = nil
		r.segs = r.segs[1:]
	}
	m.notifyLocked()
}

// allCutLocked reports whether every rendition that started has a
// complete segment (a master playlist then names no rendition with an
// empty playlist: FFmpeg 5.1 crashes on one), or the lead has three (a
// track whose key frames come seldom is left out of the master).
func (m *muxer) allCutLocked() bool {
	if n, _ := m.lead.lastComplete(); n >= 2 {
		return true
	}
	for _, r := range m.rends {
		if _, ok := r.lastComplete(); r.started && !ok {
			return false
		}
	}
	return true
}

// closeLocked marks a segment done at end.
func (m *muxer) closeLocked(r *rendition, s *segment, end int64, now time.Time) {
	s.done, s.dur, s.at = true, end-s.start, now
	if s.dur > 0 {
		r.peak = max(r.peak, int64(s.bytes)*8000/s.dur)
	}
	// RFC 8216bis §4.4.3.1: every EXTINF rounded to the nearest integer is
	// at most the target duration.
	m.target = max(m.target, int((s.dur+500)/1000))
}

// finish closes every rendition's last part and segment: the stream
// ended.
func (m *muxer) finish() {
	now := time.Now()
	if err := m.drain(now, true); err != nil {
		m.log.Debug("hls: samples dropped at the end", "stream", m.key.String(), "err", err)
	}
	for _, r := range m.rends {
		if !r.started {
			continue
		}
		m.flushPart(r, r.lastDTS+max(r.lastDelta, 1), now)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rends {
		cur := r.cur()
		if cur == nil {
			continue
		}
		if len(cur.parts) == 0 {
			r.segs = r.segs[:len(r.segs)-1]
			continue
		}
		last := cur.parts[len(cur.parts)-1]
		m.closeLocked(r, cur, last.start+last.dur, now)
	}
	m.ended = true
	if !m.isReady {
		m.isReady = true
		if m.lead == nil || !m.lead.started {
			m.err = live.ErrStreamNotFound
		}
		close(m.ready)
	}
	m.notifyLocked()
}

// metadata takes track names and languages from onMetaData: the top level
// for track 0, the track info maps (Enhanced RTMP v2) for the others.
func (m *muxer) metadata(b []byte) {
	sd, err := flv.ParseScript(b)
	if err != nil {
		return
	}
	md, ok := sd.Metadata()
	if !ok {
		return
	}
	names := map[trackKey]label{}
	if l := labelOf(md); l != (label{}) {
		names[trackKey{false, 0}] = l
		names[trackKey{true, 0}] = l
	}
	for _, t := range md.AudioTracks {
		if t.Meta != nil {
			names[trackKey{false, t.ID}] = labelOf(t.Meta)
		}
	}
	for _, t := range md.VideoTracks {
		if t.Meta != nil {
			names[trackKey{true, t.ID}] = labelOf(t.Meta)
		}
	}
	m.mu.Lock()
	m.names = names
	m.mu.Unlock()
}

func labelOf(md *flv.Metadata) label {
	var l label
	for _, p := range md.Unknown {
		s, ok := p.Value.(string)
		if !ok {
			continue
		}
		switch strings.ToLower(p.Key) {
		case "name", "title", "trackname":
			l.name = cleanName(s)
		case "language", "lang":
			l.lang = cleanLang(s)
		}
	}
	return l
}

// cleanName makes a quoted-string of HLS (RFC 8216bis §4.2): no double
// quote, CR or LF, and no more than 64 bytes.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '"' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 64 {
		s = strings.ToValidUTF8(s[:64], "")
	}
	return s
}

// cleanLang keeps a language tag of RFC 5646's alphabet (letters, digits,
// hyphens; at most 35 bytes), else nothing.
func cleanLang(s string) string {
	if len(s) == 0 || len(s) > 35 {
		return ""
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return ""
		}
	}
	return s
}
