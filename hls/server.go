package hls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ertmp/rtmp/internal/cors"
	"github.com/ertmp/rtmp/live"
)

// Defaults and bounds of Options.
const (
	DefaultPart       = 500 * time.Millisecond
	MinPart           = 200 * time.Millisecond
	MaxPart           = time.Second
	DefaultSegment    = 2 * time.Second
	DefaultSegments   = 7
	MaxSegments       = 100
	DefaultIdle       = 30 * time.Second
	DefaultMaxBlocked = 1000
	// DefaultStartWait bounds how long the first request of a stream waits
	// for its first segment, publisher wait included.
	DefaultStartWait = 15 * time.Second
)

// ErrBadOption is returned by NewServer for an option out of range.
var ErrBadOption = errors.New("hls: option out of range")

// Options configure a Server. The zero value takes the defaults.
type Options struct {
	// Part is the part target duration (EXT-X-PART-INF PART-TARGET): 200
	// ms to 1 s; 0 means DefaultPart.
	Part time.Duration
	// Segment is the shortest segment: a segment is cut at the first key
	// frame of the lead track (the first video track) at least this long
	// after its start. From Part to 60 s; 0 means DefaultSegment.
	Segment time.Duration
	// Segments is how many complete segments each playlist keeps (the
	// window), 2 to MaxSegments; 0 means DefaultSegments.
	Segments int
	// Idle stops a stream's muxer after this long with no request; 0
	// means DefaultIdle.
	Idle time.Duration
	// MaxBlocked bounds the requests waiting at once (blocking playlist
	// reloads and preloaded parts, all streams together); past it, 503. 0
	// means DefaultMaxBlocked.
	MaxBlocked int
	// StartWait bounds how long the request that starts a stream's muxer
	// waits for its first segment (the hub's PlayWait for a publisher
	// included); 0 means DefaultStartWait.
	StartWait time.Duration
	// Logger gets a line per muxer start and end, and per refusal worth
	// knowing; nil means slog.Default().
	Logger *slog.Logger
}

// Validate reports an option out of range (ErrBadOption), as NewServer
// would.
func (o Options) Validate() error { return o.fill() }

func (o *Options) fill() error {
	if o.Part == 0 {
		o.Part = DefaultPart
	}
	if o.Segment == 0 {
		o.Segment = max(DefaultSegment, o.Part)
	}
	if o.Segments == 0 {
		o.Segments = DefaultSegments
	}
	if o.Idle == 0 {
		o.Idle = DefaultIdle
	}
	if o.MaxBlocked == 0 {
		o.MaxBlocked = DefaultMaxBlocked
	}
	if o.StartWait == 0 {
		o.StartWait = DefaultStartWait
	}
	switch {
	case o.Part < MinPart || o.Part > MaxPart:
		return fmt.Errorf("%w: part %v (%v to %v)", ErrBadOption, o.Part, MinPart, MaxPart)
	case o.Segment < o.Part || o.Segment > time.Minute:
		return fmt.Errorf("%w: segment %v (part %v to 1m)", ErrBadOption, o.Segment, o.Part)
	case o.Segments < 2 || o.Segments > MaxSegments:
		return fmt.Errorf("%w: segments %d (2 to %d)", ErrBadOption, o.Segments, MaxSegments)
	case o.Idle < 0 || o.MaxBlocked < 0 || o.StartWait < 0:
		return fmt.Errorf("%w: idle %v, max blocked %d, start wait %v", ErrBadOption, o.Idle, o.MaxBlocked, o.StartWait)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// Server serves the live streams of a hub as Low-Latency HLS: an
// http.Handler for /APP/STREAM/index.m3u8 and the resources it names under
// /APP/STREAM/ (see the package documentation). A Server is safe for
// concurrent use.
type Server struct {
	// Immutable after NewServer.
	hub *live.Hub
	o   Options
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	seq    atomic.Uint64
	// blocked counts the requests waiting now.
	blocked atomic.Int64
	// maxSegDur and maxSegBytes are maxSegmentDuration and maxSegmentBytes
	// (tests lower them).
	maxSegDur   time.Duration
	maxSegBytes int

	mu     sync.Mutex
	muxers map[live.Key]*muxer
	closed bool
	auth   authCache
}

// NewServer returns the HLS server of hub's streams.
func NewServer(hub *live.Hub, o Options) (*Server, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	s := &Server{hub: hub, o: o, log: o.Logger, muxers: map[live.Key]*muxer{}, maxSegDur: maxSegmentDuration, maxSegBytes: maxSegmentBytes}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.auth.entries = map[string]authEntry{}
	return s, nil
}

// Close stops every muxer and waits for them. Requests after it get 503.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// tick is how often a muxer looks at its idle time.
func (s *Server) tick() time.Duration { return min(max(s.o.Idle/4, 10*time.Millisecond), time.Second) }

// StreamStats is what the server holds for one stream.
type StreamStats struct {
	Key live.Key `json:"key"`
	// Renditions counts the tracks served (one media playlist each).
	Renditions int `json:"renditions"`
	// Segments and Parts count the complete segments and the parts held,
	// all renditions together; Bytes the bytes of media held (segments,
	// the current one included, and initialization segments).
	Segments int `json:"segments"`
	Parts    int `json:"parts"`
	Bytes    int `json:"bytes"`
	// MaxSegments is the most complete segments one rendition holds.
	MaxSegments int `json:"max_segments"`
	// Ended: the stream's media ended (EXT-X-ENDLIST).
	Ended bool `json:"ended"`
	// Lost counts packets the muxer lost by falling behind the publisher.
	Lost uint64 `json:"lost"`
}

// Stats returns what the server holds, per stream, sorted by key.
func (s *Server) Stats() []StreamStats {
	s.mu.Lock()
	ms := make([]*muxer, 0, len(s.muxers))
	for _, m := range s.muxers {
		ms = append(ms, m)
	}
	s.mu.Unlock()
	out := make([]StreamStats, 0, len(ms))
	for _, m := range ms {
		m.mu.Lock()
		st := StreamStats{Key: m.key, Ended: m.ended, Lost: m.lost}
		for _, r := range m.rends {
			if r.track == nil {
				continue
			}
			st.Renditions++
			seg, parts, b := r.heldLocked()
			st.Segments += seg
			st.Parts += parts
			st.Bytes += b
			st.MaxSegments = max(st.MaxSegments, seg)
		}
		m.mu.Unlock()
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b StreamStats) int { return strings.Compare(a.Key.String(), b.Key.String()) })
	return out
}

// remove forgets a muxer that stopped.
func (s *Server) remove(m *muxer) {
	s.mu.Lock()
	if s.muxers[m.key] == m {
		delete(s.muxers, m.key)
	}
	s.mu.Unlock()
}

// muxerFor returns the running muxer of key, starting one when there is
// none (or, for restart, when the one there has ended), and waits until it
// can serve a master playlist.
func (s *Server) muxerFor(ctx context.Context, key live.Key, asked *live.Session, restart bool) (*muxer, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, live.ErrShutdown
	}
	m := s.muxers[key]
	if m != nil && restart {
		// A run whose media ended keeps serving (its playlists end with
		// EXT-X-ENDLIST) until idle, unless the stream is live again.
		m.mu.Lock()
		ended := m.ended
		m.mu.Unlock()
		if ended && s.published(key) {
			m = nil
		}
	}
	if m == nil {
		m = newMuxer(s, key, strconv.FormatUint(s.seq.Add(1), 36)+strconv.FormatInt(time.Now().UnixMilli()%1296, 36))
		s.muxers[key] = m
		sess := &live.Session{Protocol: "hls", App: asked.App, Stream: asked.Stream, Query: asked.Query, RemoteAddr: asked.RemoteAddr}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			m.run(s.ctx, sess)
		}()
	}
	m.waiters.Add(1)
	s.mu.Unlock()
	defer m.waiters.Add(-1)
	defer m.touch()
	t := time.NewTimer(s.o.StartWait)
	defer t.Stop()
	select {
	case <-m.ready:
	case <-t.C:
		return nil, errStartTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	m.mu.Lock()
	err := m.err
	m.mu.Unlock()
	return m, err
}

var errStartTimeout = errors.New("hls: no segment yet")

// published reports whether key has a publisher now.
func (s *Server) published(key live.Key) bool {
	for _, si := range s.hub.Streams() {
		if si.Key == key {
			return si.Publishing
		}
	}
	return false
}

func (s *Server) lookup(key live.Key) *muxer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.muxers[key]
}

// authCache remembers the hub's answers for viewers' (stream, query,
// address) so that a player's many requests cost one Authorize: allowed
// for authTTL, refused for a tenth of it. Bounded: when full, it is
// emptied.
type authCache struct {
	entries map[string]authEntry // guarded by Server.mu
}

type authEntry struct {
	key     live.Key
	err     error
	expires time.Time
}

const (
	authTTL        = 10 * time.Second
	maxAuthEntries = 4096
)

// authorize admits a viewer's request through the hub's Authorize hook (as
// an RTMP play: keys and play hooks apply) and returns the stream key.
func (s *Server) authorize(ctx context.Context, sess *live.Session) (live.Key, error) {
	host, _, err := net.SplitHostPort(sess.RemoteAddr)
	if err != nil {
		host = sess.RemoteAddr
	}
	ck := sess.App + "\x00" + sess.Stream + "\x00" + sess.Query.Encode() + "\x00" + host
	now := time.Now()
	s.mu.Lock()
	e, ok := s.auth.entries[ck]
	s.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, e.err
	}
	key, err := s.hub.Authorize(ctx, sess)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, live.ErrShutdown) {
		return key, err
	}
	ttl := authTTL
	if err != nil {
		ttl /= 10
	}
	s.mu.Lock()
	if len(s.auth.entries) >= maxAuthEntries {
		clear(s.auth.entries)
	}
	s.auth.entries[ck] = authEntry{key: key, err: err, expires: now.Add(ttl)}
	s.mu.Unlock()
	return key, err
}

// splitPath splits /APP/STREAM/RESOURCE; APP may hold slashes.
func splitPath(p string) (app, stream, res string, ok bool) {
	p = strings.TrimPrefix(p, "/")
	i := strings.LastIndexByte(p, '/')
	if i <= 0 || i == len(p)-1 {
		return "", "", "", false
	}
	p, res = p[:i], p[i+1:]
	j := strings.LastIndexByte(p, '/')
	if j <= 0 || j == len(p)-1 {
		return "", "", "", false
	}
	return p[:j], p[j+1:], res, true
}

// Path reports whether path names an HLS resource: /APP/STREAM/NAME.m3u8,
// .mp4 or .m4s.
func Path(path string) bool {
	_, _, res, ok := splitPath(path)
	return ok && (strings.HasSuffix(res, ".m3u8") || strings.HasSuffix(res, ".mp4") || strings.HasSuffix(res, ".m4s"))
}

// resource is a parsed resource name.
type resource struct {
	kind     byte // 'M' master, 'p' media playlist, 'i' init, 's' segment, 'P' part
	rend     string
	inst     string
	msn      uint64
	part     int
	playlist bool
}

func parseResource(res string) (resource, bool) {
	if res == "index.m3u8" {
		return resource{kind: 'M', playlist: true}, true
	}
	if name, ok := strings.CutSuffix(res, ".m3u8"); ok {
		return resource{kind: 'p', rend: name, playlist: true}, validRend(name)
	}
	if base, ok := strings.CutSuffix(res, ".mp4"); ok {
		name, inst, ok := strings.Cut(base, "-")
		return resource{kind: 'i', rend: name, inst: inst}, ok && validRend(name) && inst != ""
	}
	base, ok := strings.CutSuffix(res, ".m4s")
	if !ok {
		return resource{}, false
	}
	f := strings.Split(base, "-")
	if len(f) != 3 || !validRend(f[0]) || f[1] == "" {
		return resource{}, false
	}
	rs := resource{kind: 's', rend: f[0], inst: f[1]}
	num, partStr, isPart := strings.Cut(f[2], ".")
	msn, err := strconv.ParseUint(num, 10, 64)
	if err != nil || (len(num) > 1 && num[0] == '0') {
		return resource{}, false
	}
	rs.msn = msn
	if isPart {
		p, err := strconv.Atoi(partStr)
		if err != nil || p < 0 || p > 1<<16 {
			return resource{}, false
		}
		rs.kind, rs.part = 'P', p
	}
	return rs, true
}

func validRend(n string) bool {
	if len(n) < 2 || len(n) > 4 || (n[0] != 'v' && n[0] != 'a') {
		return false
	}
	id, err := strconv.Atoi(n[1:])
	return err == nil && id >= 0 && id <= 255
}

// Blocking request directives (RFC 8216bis §6.2.5.2).
type blockReq struct {
	msn     uint64
	part    int
	hasMSN  bool
	hasPart bool
}

// errBadRequest marks a request the server answers 400.
var errBadRequest = errors.New("bad request")

// parseBlock reads _HLS_msn and _HLS_part and removes every _HLS_
// directive from q (what is left is the viewer's own query).
func parseBlock(q url.Values) (blockReq, error) {
	var b blockReq
	var err error
	if v, ok := q["_HLS_msn"]; ok {
		if len(v) != 1 {
			return b, fmt.Errorf("%w: _HLS_msn given %d times", errBadRequest, len(v))
		}
		if b.msn, err = strconv.ParseUint(v[0], 10, 64); err != nil {
			return b, fmt.Errorf("%w: _HLS_msn %q", errBadRequest, v[0])
		}
		b.hasMSN = true
	}
	if v, ok := q["_HLS_part"]; ok {
		if len(v) != 1 {
			return b, fmt.Errorf("%w: _HLS_part given %d times", errBadRequest, len(v))
		}
		p, err := strconv.ParseUint(v[0], 10, 16)
		if err != nil {
			return b, fmt.Errorf("%w: _HLS_part %q", errBadRequest, v[0])
		}
		b.part, b.hasPart = int(p), true
	}
	// §6.2.5.2: _HLS_part without _HLS_msn is an error.
	if b.hasPart && !b.hasMSN {
		return b, fmt.Errorf("%w: _HLS_part without _HLS_msn", errBadRequest)
	}
	for k := range q {
		if strings.HasPrefix(k, "_HLS_") {
			delete(q, k)
		}
	}
	return b, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !cors.Handle(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	app, name, resName, ok := splitPath(r.URL.Path)
	res, ok2 := parseResource(resName)
	if !ok || !ok2 {
		http.NotFound(w, r)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		http.Error(w, "bad query", http.StatusBadRequest)
		return
	}
	block, err := parseBlock(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if (block.hasMSN) && res.kind != 'p' {
		http.Error(w, "_HLS_msn on a resource that is not a media playlist", http.StatusBadRequest)
		return
	}
	sess := &live.Session{Protocol: "hls", App: app, Stream: name, Query: q, RemoteAddr: r.RemoteAddr}
	key, err := s.authorize(r.Context(), sess)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	viewerQ := ""
	if len(q) > 0 {
		viewerQ = "?" + q.Encode()
	}
	var m *muxer
	if res.playlist {
		m, err = s.muxerFor(r.Context(), key, sess, res.kind == 'M')
		if err != nil {
			s.refuse(w, r, err)
			return
		}
	} else if m = s.lookup(key); m == nil || m.inst != res.inst {
		http.NotFound(w, r)
		return
	}
	m.touch()
	switch res.kind {
	case 'M':
		m.mu.Lock()
		body := m.masterLocked(viewerQ)
		m.mu.Unlock()
		writeBody(w, "application/vnd.apple.mpegurl", "no-cache", body)
	case 'p':
		s.servePlaylist(w, r, m, res.rend, block, viewerQ)
	case 'i':
		m.mu.Lock()
		rd := m.find(res.rend)
		var init []byte
		if rd != nil {
			init = rd.init
		}
		m.mu.Unlock()
		if init == nil {
			http.NotFound(w, r)
			return
		}
		writeBody(w, contentType(rd), "max-age=3600", init)
	case 's', 'P':
		s.serveMedia(w, r, m, res)
	}
}

func contentType(r *rendition) string {
	if r.video {
		return "video/mp4"
	}
	return "audio/mp4"
}

func writeBody(w http.ResponseWriter, ctype, cache string, bufs ...[]byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cache)
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	h.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	for _, b := range bufs {
		if _, err := w.Write(b); err != nil {
			return
		}
	}
}

// find returns the rendition named n that is served; the caller holds m.mu.
func (m *muxer) find(n string) *rendition {
	for _, r := range m.rends {
		if r.name == n && r.track != nil && r.broken == nil && r.started {
			return r
		}
	}
	return nil
}

// wait blocks until cond (called under m.mu) holds, the muxer ended, the
// timeout passed or the request went away; it reports whether cond held.
// Waiters are bounded by MaxBlocked: over it, wait gives errBusy.
func (s *Server) wait(ctx context.Context, m *muxer, timeout time.Duration, cond func() bool) (bool, error) {
	m.mu.Lock()
	ok, ch, ended := cond(), m.changed, m.ended
	m.mu.Unlock()
	if ok || ended {
		return ok, nil
	}
	if s.blocked.Add(1) > int64(s.o.MaxBlocked) {
		s.blocked.Add(-1)
		return false, errBusy
	}
	defer s.blocked.Add(-1)
	m.waiters.Add(1)
	defer m.waiters.Add(-1)
	defer m.touch()
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-ch:
		case <-t.C:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		case <-s.ctx.Done():
			return false, live.ErrShutdown
		}
		m.mu.Lock()
		ok, ch, ended = cond(), m.changed, m.ended
		m.mu.Unlock()
		if ok || ended {
			return ok, nil
		}
	}
}

var errBusy = errors.New("hls: too many blocked requests")

// servePlaylist answers a media playlist request, blocking when it asks
// for a segment or part to come (RFC 8216bis §6.2.5.2).
func (s *Server) servePlaylist(w http.ResponseWriter, r *http.Request, m *muxer, rend string, b blockReq, q string) {
	m.mu.Lock()
	rd := m.find(rend)
	if rd == nil {
		m.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	timeout := m.blockTimeoutLocked()
	if b.hasMSN {
		// §6.2.5.2: more than two segments past the last one, or a part
		// past the Advance Part Limit (three seconds of parts), is a
		// request the server cannot satisfy in time: 400 at once.
		last, lastPart, _ := rd.position()
		limit := int(3 * time.Second / m.srv.o.Part)
		bad := b.msn > last+2 ||
			(b.hasPart && b.msn == last && b.part > lastPart+limit) ||
			(b.hasPart && b.msn > last && b.part >= limit)
		if bad && !m.ended {
			m.mu.Unlock()
			http.Error(w, fmt.Sprintf("_HLS_msn=%d _HLS_part=%d is too far ahead of %d.%d", b.msn, b.part, last, lastPart), http.StatusBadRequest)
			return
		}
	}
	m.mu.Unlock()
	if b.hasMSN {
		ok, err := s.wait(r.Context(), m, timeout, func() bool {
			if b.hasPart {
				msn, p, ok := rd.position()
				return ok && (msn > b.msn || msn == b.msn && p >= b.part)
			}
			msn, ok := rd.lastComplete()
			return ok && msn >= b.msn
		})
		if err != nil {
			s.refuse(w, r, err)
			return
		}
		m.mu.Lock()
		ended := m.ended
		m.mu.Unlock()
		if !ok && !ended {
			// §6.2.5.2: not satisfied within three target durations.
			http.Error(w, "the playlist did not reach the requested segment in time", http.StatusServiceUnavailable)
			return
		}
	}
	m.mu.Lock()
	body := m.mediaLocked(rd, q)
	m.mu.Unlock()
	writeBody(w, "application/vnd.apple.mpegurl", "no-cache", body)
}

// serveMedia answers a segment or part request; one not complete yet (the
// preload hint, or the segment being filled) is answered once it is.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, m *muxer, res resource) {
	m.mu.Lock()
	rd := m.find(res.rend)
	timeout := m.blockTimeoutLocked()
	m.mu.Unlock()
	if rd == nil {
		http.NotFound(w, r)
		return
	}
	var bufs [][]byte
	// look finds the resource (ok) or says it will never be (gone).
	look := func() (ok, gone bool) {
		bufs = bufs[:0]
		cur := rd.cur()
		if cur == nil || len(rd.segs) == 0 || res.msn < rd.segs[0].msn {
			return false, true
		}
		if res.msn > cur.msn+1 || (res.msn == cur.msn+1 && (res.kind != 'P' || res.part != 0)) {
			return false, true
		}
		if res.msn == cur.msn+1 {
			return false, false // the next segment's first part
		}
		sg := rd.segs[res.msn-rd.segs[0].msn]
		if res.kind == 's' {
			if !sg.done {
				return false, false
			}
			for _, p := range sg.parts {
				bufs = append(bufs, p.data)
			}
			return true, false
		}
		if res.part < len(sg.parts) {
			bufs = append(bufs, sg.parts[res.part].data)
			return true, false
		}
		return false, sg.done || res.part > len(sg.parts)
	}
	m.mu.Lock()
	ok, gone := look()
	m.mu.Unlock()
	if !ok && !gone {
		_, err := s.wait(r.Context(), m, timeout, func() bool {
			ok, gone = look()
			return ok || gone
		})
		if err != nil {
			s.refuse(w, r, err)
			return
		}
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	writeBody(w, contentType(rd), "max-age=3600", bufs...)
}

// refuse answers a request that cannot be served.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	code, text, ok := live.HTTPStatus(err)
	switch {
	case errors.Is(err, errBusy):
		code, text = http.StatusServiceUnavailable, "too many waiting requests"
		s.log.Warn("hls: request refused", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", "too many blocked requests")
	case errors.Is(err, errStartTimeout):
		code, text = http.StatusServiceUnavailable, "no segment yet"
	case !ok:
		return // the viewer gave up waiting
	case code == http.StatusInternalServerError:
		s.log.Warn("hls: request failed", "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
	}
	http.Error(w, text, code)
}
