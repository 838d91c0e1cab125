package live

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	rtmp "github.com/ertmp/rtmp"
)

// Hub is a live streaming hub: sources publish streams keyed by app and
// stream name (Publish), subscribers of any protocol watch them
// (Subscribe). It is also an rtmp.Handler: RTMP publishers and players go
// through the same two seams. Serve it with rtmp.Server{Handler: hub}. A
// Hub is safe for concurrent use; its Config must not change once it
// serves.
type Hub struct {
	// Immutable after NewHub.
	cfg   Config
	lim   limits
	log   *slog.Logger
	epoch time.Time

	nextID atomic.Uint64

	// Guarded by mu.
	mu       sync.Mutex
	streams  map[Key]*stream
	npub     int // streams with a publisher
	sessions map[uint64]*sessionEntry
	conns    map[*rtmp.Conn]int // RTMP connections (with their sessions' count), for a forced Shutdown
	closing  bool
	// ctx is the context of decision hooks, cancelled by Shutdown; made
	// on first use.
	ctx    context.Context
	cancel context.CancelFunc
	// closed mirrors closing for code that must not take mu.
	closed atomic.Bool

	// wg counts the sessions in sessions and the RTMP handlers.
	wg sync.WaitGroup
	// reclaiming is set while a reclaim (see Config.Budget) runs;
	// fruitless is when the last one that found nothing to close ran
	// (hub clock), or 0.
	reclaiming atomic.Bool
	fruitless  atomic.Int64

	// pings is the RTMP players' ping clock (see pinger).
	pings pinger
}

// Budget returns the memory account of Config.Budget (nil if none).
func (h *Hub) Budget() *rtmp.MemoryBudget { return h.cfg.Budget }

// sessionEntry is a session the hub knows; ref is nil until it is taken.
type sessionEntry struct {
	sess *Session
	ref  interface{ kick(Reason) }
}

// NewHub returns a Hub with cfg (see Config for the defaults of fields left
// zero).
func NewHub(cfg Config) *Hub {
	h := &Hub{cfg: cfg, lim: cfg.effective(), log: cfg.Logger, epoch: time.Now(),
		streams: map[Key]*stream{}, sessions: map[uint64]*sessionEntry{}, conns: map[*rtmp.Conn]int{}}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

// now is the hub's monotonic clock in nanoseconds.
func (h *Hub) now() int64 { return int64(time.Since(h.epoch)) }

// begin starts a session's life in the hub: an ID, a start time, a log
// line. It returns nil once the hub is shutting down (the refusal is
// logged).
func (h *Hub) begin(s *Session, kind rtmp.Kind, key Key) *Session {
	if s == nil {
		s = &Session{Protocol: "internal", App: key.App, Stream: key.Name}
	}
	s.ID = h.nextID.Add(1)
	s.Kind, s.Key, s.Start = kind, key, time.Now()
	if s.App == "" && s.Stream == "" {
		s.App, s.Stream = key.App, key.Name
	}
	h.log.Info("live: "+kind.String()+" start", h.attrs(s)...)
	h.mu.Lock()
	closing := h.closing
	if !closing {
		h.sessions[s.ID] = &sessionEntry{sess: s}
		h.wg.Add(1)
	}
	h.mu.Unlock()
	if closing {
		h.finish(s, SessionEnd{Reason: ReasonShutdown, Err: ErrShutdown})
		return nil
	}
	return s
}

// open begins a session and admits it (names, Authorize); it returns the
// session and the key it attaches to, or the refusal (already recorded).
func (h *Hub) open(ctx context.Context, s *Session, kind rtmp.Kind, key Key) (*Session, Key, error) {
	s = h.begin(s, kind, key)
	if s == nil {
		return nil, key, ErrShutdown
	}
	key, err := h.admit(ctx, s)
	if err != nil {
		h.refuse(s, nil, err)
		return nil, key, err
	}
	return s, key, nil
}

// maxLogName bounds a peer's string in a log line.
const maxLogName = 128

// logString makes a peer's string safe for a log line: at most maxLogName
// bytes, control and invalid bytes escaped.
func logString(v string) string {
	cut := len(v) > maxLogName
	if cut {
		v = v[:maxLogName]
	}
	q := strconv.QuoteToGraphic(v)
	q = q[1 : len(q)-1]
	if cut {
		q += "..."
	}
	return q
}

func (h *Hub) attrs(s *Session, more ...any) []any {
	a := []any{"id", s.ID, "protocol", s.Protocol, "app", logString(s.App), "stream", logString(s.Stream), "remote", s.RemoteAddr}
	if s.Key != (Key{s.App, s.Stream}) && s.Key != (Key{}) {
		a = append(a, "key", logString(s.Key.String()))
	}
	return append(a, more...)
}

// admit checks a session's names and asks Authorize; it returns the key
// the session attaches to.
func (h *Hub) admit(ctx context.Context, s *Session) (Key, error) {
	k := s.Key
	switch {
	case k.Name == "":
		return k, fmt.Errorf("%w: empty stream name", ErrBadName)
	case len(k.Name) > MaxNameLength || len(k.App) > MaxNameLength:
		return k, fmt.Errorf("%w: name too long", ErrBadName)
	}
	if h.cfg.Hooks.Authorize != nil {
		name, err := h.cfg.Hooks.Authorize(ctx, s)
		if err != nil {
			if !errors.Is(err, ErrDenied) {
				err = &DeniedError{Text: err.Error()}
			}
			return k, err
		}
		if name != "" && name != k.Name {
			if len(name) > MaxNameLength {
				return k, fmt.Errorf("%w: name too long", ErrBadName)
			}
			k.Name = name
			s.Key = k
		}
	}
	return k, nil
}

// refuse ends a session the hub did not take.
func (h *Hub) refuse(s *Session, st *stream, err error) {
	r := ReasonRejected
	switch {
	case errors.Is(err, ErrShutdown):
		r = ReasonShutdown
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		r = ReasonClientClosed // the subscriber gave up waiting
	}
	h.endSession(s, st, SessionEnd{Reason: r, Err: err})
}

// register makes a taken session known to Kick and Sessions.
func (h *Hub) register(s *Session, ref interface{ kick(Reason) }) {
	h.mu.Lock()
	if e := h.sessions[s.ID]; e != nil {
		e.ref = ref
	}
	h.mu.Unlock()
}

func (h *Hub) started(s *Session) {
	if h.cfg.Hooks.Start != nil {
		h.cfg.Hooks.Start(s)
	}
}

// endSession ends a session: its log line, the End hook, its reference
// to the stream.
func (h *Hub) endSession(s *Session, st *stream, e SessionEnd) {
	if st != nil {
		h.release(st)
	}
	h.mu.Lock()
	_, known := h.sessions[s.ID]
	delete(h.sessions, s.ID)
	h.mu.Unlock()
	h.finish(s, e)
	if known {
		h.wg.Done()
	}
}

func (h *Hub) finish(s *Session, e SessionEnd) {
	s.end(&e)
	attrs := h.attrs(s, "reason", e.Reason.String(), "duration", e.Duration.Round(time.Millisecond),
		"bytes_in", e.BytesIn, "bytes_out", e.BytesOut, "packets", e.Packets)
	if s.Kind == rtmp.KindPlay {
		attrs = append(attrs, "dropped", e.Dropped, "peak_queue", e.PeakQueue)
	}
	if e.Err != nil {
		attrs = append(attrs, "err", logString(e.Err.Error()))
	}
	h.log.Info("live: "+s.Kind.String()+" end", attrs...)
	if h.cfg.Hooks.End != nil {
		h.cfg.Hooks.End(s, e)
	}
}

// acquireLocked returns the stream of k, made if new, with a reference
// taken. The caller holds mu.
func (h *Hub) acquireLocked(k Key) *stream {
	st := h.streams[k]
	if st == nil {
		st = newStream(h, k)
		h.streams[k] = st
	}
	st.refs++
	return st
}

// release drops a reference; the last one forgets the stream.
func (h *Hub) release(st *stream) {
	h.mu.Lock()
	st.refs--
	gone := st.refs == 0
	if gone && h.streams[st.key] == st {
		delete(h.streams, st.key)
	}
	h.mu.Unlock()
	if gone {
		st.mu.Lock()
		st.chargeQueues(0)
		st.mu.Unlock()
	}
}

func (h *Hub) unpublish(st *stream, p *Publication) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st.unpublish(p) {
		h.npub--
	}
}

// Subscribe attaches a subscriber to the stream key. Config.Hooks
// Authorize may refuse it or map it to another name. When the key is not
// published it waits for a publisher (o.Wait, ctx), then fails with
// ErrStreamNotFound. The subscription starts from the cached GOP with the
// decoder configurations and data frames in force; read it with Read or
// TryRead, and Close it when done.
func (h *Hub) Subscribe(ctx context.Context, key Key, o SubscribeOptions) (*Subscription, error) {
	sess, key, err := h.open(ctx, o.Session, rtmp.KindPlay, key)
	if err != nil {
		return nil, err
	}
	s := newSubscriber(h, h.subLimits(key.App, &o))
	s.sess, s.stop, s.prepare = sess, o.Stop, o.Prepare
	s.caps, s.all = o.Capabilities, o.AllCodecs
	s.enhanced = s.caps.Enhanced
	s.multitrack = s.caps.Multitrack()
	s.anyCodec = o.AllCodecs || (!s.enhanced && h.cfg.ForwardUndeclared)

	h.mu.Lock()
	st := h.acquireLocked(key)
	h.mu.Unlock()
	if err := st.join(s); err != nil {
		h.refuse(sess, st, err)
		return nil, err
	}
	if err := h.awaitPublisher(ctx, st, s, o.Wait); err != nil {
		st.leave(s)
		h.refuse(sess, st, err)
		return nil, err
	}
	h.register(sess, s)
	h.started(sess)
	return s, nil
}

// awaitPublisher waits until the stream of a subscriber that joined is
// published.
func (h *Hub) awaitPublisher(ctx context.Context, st *stream, s *Subscription, wait time.Duration) error {
	d := h.lim.playWait
	if wait != 0 {
		d = durOr(wait, 0)
	}
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	for {
		ok, c := st.published()
		if ok {
			return nil
		}
		if r := s.ended(); r == ReasonShutdown {
			return ErrShutdown
		}
		if timeout == nil {
			return ErrStreamNotFound
		}
		select {
		case <-c:
		case <-s.wake:
			// Items from the new publisher, or the hub ended s: look again,
			// and keep the signal for the reader.
			s.signal()
			if s.ended() != ReasonNone {
				return ErrShutdown
			}
			if ok, _ := st.published(); !ok {
				select {
				case <-c:
				case <-timeout:
					return ErrStreamNotFound
				case <-ctx.Done():
					return h.ctxErr(ctx)
				}
			}
		case <-timeout:
			return ErrStreamNotFound
		case <-ctx.Done():
			return h.ctxErr(ctx)
		}
	}
}

// ctxErr is why a wait ended with ctx: the hook context ends at Shutdown.
func (h *Hub) ctxErr(ctx context.Context) error {
	if h.closed.Load() {
		return ErrShutdown
	}
	return ctx.Err()
}

// kick ends a subscription from outside (Hub.Kick).
func (s *Subscription) kick(r Reason) { s.kill(r) }

// kick ends a publication from outside (Hub.Kick).
func (p *Publication) kick(r Reason) { p.endBy(r) }

// Kick ends one session (publisher or subscriber of any protocol) by ID
// with ReasonKicked.
func (h *Hub) Kick(id uint64) error {
	h.mu.Lock()
	e := h.sessions[id]
	h.mu.Unlock()
	if e == nil || e.ref == nil {
		return ErrNoSession
	}
	e.ref.kick(ReasonKicked)
	return nil
}

// KickPublisher ends the publisher of a stream with ReasonKicked; its
// subscribers stay for the republish grace.
func (h *Hub) KickPublisher(k Key) error {
	h.mu.Lock()
	st := h.streams[k]
	var p *Publication
	if st != nil {
		st.mu.Lock()
		p = st.pub
		st.mu.Unlock()
	}
	h.mu.Unlock()
	if p == nil {
		return ErrNoSession
	}
	p.endBy(ReasonKicked)
	return nil
}

// StreamInfo is a snapshot of one stream.
type StreamInfo struct {
	Key
	// Publishing: a publisher is on; Publisher describes it.
	Publishing bool      `json:"publishing"`
	Publisher  *Session  `json:"publisher,omitempty"`
	Since      time.Time `json:"since,omitzero"`
	// Tracks are the audio and video tracks the publisher sent.
	Tracks []TrackInfo `json:"tracks"`
	// Subscribers counts the subscribers (waiting ones too), Players
	// those of RTMP, by protocol in Protocols.
	Subscribers int            `json:"subscribers"`
	Protocols   map[string]int `json:"protocols,omitempty"`
	// BitrateIn is the publisher's bits per second, BitrateOut the sum of
	// the subscribers', over the last whole second.
	BitrateIn  int64 `json:"bitrate_in"`
	BitrateOut int64 `json:"bitrate_out"`
	// Packets and Bytes count what the current publisher relayed (payload
	// bytes); Dropped the packets the subscribers' queue policies skipped.
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	Dropped uint64 `json:"dropped"`
}

// Streams returns a snapshot of the streams the hub knows, sorted by app
// and name: published, waiting for their publisher to return, or awaited
// by subscribers.
func (h *Hub) Streams() []StreamInfo {
	h.mu.Lock()
	sts := make([]*stream, 0, len(h.streams))
	for _, st := range h.streams {
		sts = append(sts, st)
	}
	h.mu.Unlock()
	now := h.now()
	out := make([]StreamInfo, 0, len(sts))
	for _, st := range sts {
		st.mu.Lock()
		si := StreamInfo{Key: st.key, Publishing: st.pub != nil, Subscribers: len(st.subs),
			Packets: st.packets, Bytes: st.bytes, Dropped: st.dropped, Tracks: slices.Clone(st.tracks)}
		if st.pub != nil {
			si.Publisher, si.Since = st.pub.sess, st.since
			si.BitrateIn = st.in.rate(now)
		}
		subs := slices.Clone(st.subs)
		st.mu.Unlock()
		for _, s := range subs {
			ss := s.Stats()
			si.BitrateOut += ss.Bitrate
			si.Dropped += ss.Dropped
			if si.Protocols == nil {
				si.Protocols = map[string]int{}
			}
			si.Protocols[s.sess.Protocol]++
		}
		if si.Tracks == nil {
			si.Tracks = []TrackInfo{}
		}
		out = append(out, si)
	}
	slices.SortFunc(out, func(a, b StreamInfo) int {
		return cmp.Or(cmp.Compare(a.App, b.App), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// DataFrame returns the data frame that the publisher of k keeps for late
// subscribers under handler (the name after "@setDataFrame", or
// "onMetaData" for a bare onMetaData): the packet subscribers get, its
// payload the unwrapped data message (handler, values...). It reports
// false when k is not published or keeps no frame of that name. The
// packet is shared: read it, never change it.
func (h *Hub) DataFrame(k Key, handler string) (*Packet, bool) {
	h.mu.Lock()
	st := h.streams[k]
	h.mu.Unlock()
	if st == nil {
		return nil, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub == nil {
		return nil, false
	}
	if i := slices.Index(st.frameNames, handler); i >= 0 {
		return st.frames[i], true
	}
	return nil, false
}

// DataFrameNames returns the handler names of the data frames the
// publisher of k keeps, in the order they were first set.
func (h *Hub) DataFrameNames(k Key) []string {
	h.mu.Lock()
	st := h.streams[k]
	h.mu.Unlock()
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub == nil {
		return nil
	}
	return slices.Clone(st.frameNames)
}

// SessionInfo is a snapshot of one session the hub took.
type SessionInfo struct {
	*Session
	Kind string `json:"kind"`
	// BytesIn and BytesOut are the transport's (Session.Counters).
	BytesIn  uint64 `json:"bytes_in"`
	BytesOut uint64 `json:"bytes_out"`
	// Packets and Bytes: relayed by a publisher, read by a subscriber.
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	// Dropped, Queued and Bitrate are a subscriber's (SubscriptionStats).
	Dropped uint64 `json:"dropped,omitempty"`
	Queued  int    `json:"queued,omitempty"`
	Bitrate int64  `json:"bitrate,omitempty"`
}

// Sessions returns the sessions the hub took (publishing or subscribed),
// sorted by ID.
func (h *Hub) Sessions() []SessionInfo {
	h.mu.Lock()
	es := make([]sessionEntry, 0, len(h.sessions))
	for _, e := range h.sessions {
		if e.ref != nil {
			es = append(es, *e)
		}
	}
	h.mu.Unlock()
	out := make([]SessionInfo, 0, len(es))
	for _, e := range es {
		si := SessionInfo{Session: e.sess, Kind: e.sess.Kind.String()}
		if c := e.sess.Counters; c != nil {
			si.BytesIn, si.BytesOut = c()
		}
		switch r := e.ref.(type) {
		case *Subscription:
			ss := r.Stats()
			si.Packets, si.Bytes, si.Dropped, si.Queued, si.Bitrate = ss.Packets, ss.Bytes, ss.Dropped, ss.Queued, ss.Bitrate
		case *Publication:
			si.Packets, si.Bytes = r.packets.Load(), r.bytes.Load()
		}
		out = append(out, si)
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Shutdown ends every session with ReasonShutdown: new sessions are
// refused, waiting subscribers are refused, subscribers' reads end (RTMP
// players get StreamEOF and NetStream.Play.Stop), publishers are asked to
// stop (RTMP: a polite close). It waits for the sessions to end; when ctx
// ends first, it closes the RTMP connections and calls every subscriber's
// Stop, waits briefly for them, and returns ctx.Err(). Call it before
// rtmp.Server.Shutdown. It is safe to call more than once.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	h.closed.Store(true)
	if h.cancel != nil {
		h.cancel()
	}
	var subs []*Subscription
	var pubs []*Publication
	for _, st := range h.streams {
		st.mu.Lock()
		subs = append(subs, st.subs...)
		if st.pub != nil {
			pubs = append(pubs, st.pub)
		}
		st.mu.Unlock()
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.end(ReasonShutdown)
	}
	for _, p := range pubs {
		p.endBy(ReasonShutdown)
	}
	finished := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		for c := range h.conns {
			c.Close()
		}
		h.mu.Unlock()
		for _, s := range subs {
			s.kill(ReasonShutdown)
		}
		// Sessions whose owners close them promptly once forced are
		// waited for briefly; Shutdown does not wait for the others.
		t := time.NewTimer(forceWait)
		defer t.Stop()
		select {
		case <-finished:
		case <-t.C:
		}
		return ctx.Err()
	}
}

// forceWait bounds how long Shutdown waits for sessions after forcing them.
const forceWait = time.Second

// Authorize admits a viewer that is not a subscription of its own (an HLS
// viewer: one subscription serves every viewer of a stream, each of which
// is authorized on its own): it checks the names and asks
// Config.Hooks.Authorize about s as a play, and returns the key s attaches
// to (the hook may rename it) or the refusal (ErrBadName, a DeniedError).
// s.App and s.Stream name what the viewer asked for; Authorize sets Kind
// and Key. No session is recorded: the caller's subscription is one.
func (h *Hub) Authorize(ctx context.Context, s *Session) (Key, error) {
	if h.closed.Load() {
		return Key{}, ErrShutdown
	}
	s.Kind = rtmp.KindPlay
	s.Key = Key{App: s.App, Name: s.Stream}
	return h.admit(ctx, s)
}
