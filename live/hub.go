package live

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/message"
)

// Hub is a live streaming hub and an rtmp.Handler: publishers feed streams
// keyed by app and stream name, players watch them. Serve it with
// rtmp.Server{Handler: hub}. A Hub is safe for concurrent use; its Config
// must not change once it serves.
type Hub struct {
	// Immutable after NewHub.
	cfg   Config
	lim   limits
	log   *slog.Logger
	epoch time.Time

	// Guarded by mu.
	mu      sync.Mutex
	streams map[streamKey]*stream
	npub    int                     // streams with a publisher
	conns   map[*rtmp.Conn]struct{} // open sessions, for a forced Shutdown
	closing bool
	done    chan struct{} // closed by Shutdown
	// closed mirrors closing for code under a stream's mutex, which must
	// not take mu (lock order).
	closed atomic.Bool

	// wg counts running handlers (Add under mu, unless closing) and the
	// closers they start.
	wg sync.WaitGroup
}

// NewHub returns a Hub with cfg (see Config for the defaults of fields left
// zero).
func NewHub(cfg Config) *Hub {
	h := &Hub{cfg: cfg, lim: cfg.effective(), log: cfg.Logger, epoch: time.Now(),
		streams: map[streamKey]*stream{}, conns: map[*rtmp.Conn]struct{}{}, done: make(chan struct{})}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

// now is the hub's monotonic clock in nanoseconds.
func (h *Hub) now() int64 { return int64(time.Since(h.epoch)) }

// SessionInfo describes a session that ended, for OnSessionEnd.
type SessionInfo struct {
	Kind       rtmp.Kind
	App        string
	Stream     string
	RemoteAddr string
	// Reason says why it ended; Err is the error behind it, if any.
	Reason Reason
	Err    error
	Start  time.Time
	// Duration runs from the request to the end of the session.
	Duration time.Duration
	// BytesIn and BytesOut count the connection's bytes, chunk headers
	// included, from the handshake on.
	BytesIn, BytesOut uint64
	// Packets counts media and data messages: relayed from a publisher, or
	// written to a player.
	Packets uint64
	// Dropped counts a player's packets skipped by the queue policy.
	Dropped uint64
	// PeakQueue is the most bytes a player's queue held at once.
	PeakQueue int
}

// StreamInfo is a snapshot of one stream.
type StreamInfo struct {
	App, Name  string
	Publishing bool
	Players    int
	// Packets and Bytes count what the stream relayed (payload bytes).
	Packets, Bytes uint64
}

// Streams returns a snapshot of the streams the hub knows: published,
// waiting for their publisher to return, or awaited by players.
func (h *Hub) Streams() []StreamInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]StreamInfo, 0, len(h.streams))
	for k, st := range h.streams {
		st.mu.Lock()
		out = append(out, StreamInfo{App: k.app, Name: k.name, Publishing: st.pub != nil, Players: len(st.subs), Packets: st.packets, Bytes: st.bytes})
		st.mu.Unlock()
	}
	return out
}

// ServeRTMP serves one publish or play request until its session ends.
func (h *Hub) ServeRTMP(req *rtmp.Request) {
	info := SessionInfo{Kind: req.Kind, App: req.App, Stream: req.StreamName, Start: time.Now()}
	if req.RemoteAddr != nil {
		info.RemoteAddr = req.RemoteAddr.String()
	}
	h.log.Info("live: "+req.Kind.String()+" start", "app", info.App, "stream", info.Stream, "remote", info.RemoteAddr)
	h.mu.Lock()
	closing := h.closing
	if !closing {
		h.wg.Add(1)
	}
	h.mu.Unlock()
	switch {
	case closing:
		h.reject(req, &info, "", "server shutting down")
		info.Reason = ReasonShutdown
	default:
		defer h.wg.Done()
		if err := validName(req); err != nil {
			h.reject(req, &info, "", err.Error())
		} else if err := h.authorize(req); err != nil {
			code := message.CodePlayStreamNotFound
			if req.Kind == rtmp.KindPublish {
				code = message.CodePublishDenied
			}
			h.reject(req, &info, code, err.Error())
		} else if req.Kind == rtmp.KindPublish {
			h.servePublish(req, &info)
		} else {
			h.servePlay(req, &info)
		}
	}
	info.Duration = time.Since(info.Start)
	conn := req.Conn()
	info.BytesIn, info.BytesOut = conn.BytesRead(), conn.BytesWritten()
	attrs := []any{"app", info.App, "stream", info.Stream, "remote", info.RemoteAddr, "reason", info.Reason.String(),
		"duration", info.Duration.Round(time.Millisecond), "bytes_in", info.BytesIn, "bytes_out", info.BytesOut, "packets", info.Packets}
	if req.Kind == rtmp.KindPlay {
		attrs = append(attrs, "dropped", info.Dropped, "peak_queue", info.PeakQueue)
	}
	if info.Err != nil {
		attrs = append(attrs, "err", info.Err.Error())
	}
	h.log.Info("live: "+req.Kind.String()+" end", attrs...)
	if h.cfg.OnSessionEnd != nil {
		h.cfg.OnSessionEnd(info)
	}
}

func (h *Hub) authorize(req *rtmp.Request) error {
	if h.cfg.Authorize == nil {
		return nil
	}
	return h.cfg.Authorize(req)
}

func validName(req *rtmp.Request) error {
	switch {
	case req.StreamName == "":
		return errors.New("empty stream name")
	case len(req.StreamName) > MaxNameLength || len(req.App) > MaxNameLength:
		return errors.New("name too long")
	}
	return nil
}

// reject refuses a request (an empty code picks the kind's usual one).
func (h *Hub) reject(req *rtmp.Request, info *SessionInfo, code, desc string) {
	req.Reject(code, desc)
	info.Reason = ReasonRejected
	info.Err = errors.New(desc)
}

func (h *Hub) track(c *rtmp.Conn, add bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if add {
		h.conns[c] = struct{}{}
	} else {
		delete(h.conns, c)
	}
}

// acquire returns the stream of k, made if new, with a reference taken.
func (h *Hub) acquire(k streamKey) *stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.acquireLocked(k)
}

func (h *Hub) acquireLocked(k streamKey) *stream {
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
	defer h.mu.Unlock()
	st.refs--
	if st.refs == 0 && h.streams[st.key] == st {
		delete(h.streams, st.key)
	}
}

func (h *Hub) servePublish(req *rtmp.Request, info *SessionInfo) {
	k := streamKey{req.App, req.StreamName}
	me := &publisher{}
	h.mu.Lock()
	st := h.acquireLocked(k)
	st.mu.Lock()
	fresh := st.pub == nil
	st.mu.Unlock()
	var old *publisher
	var err error
	if fresh && h.lim.maxStreams > 0 && h.npub >= h.lim.maxStreams {
		err = errTooMany
	} else if old, err = st.claim(me, h.cfg.ReplacePublisher); err == nil && fresh {
		h.npub++
	}
	h.mu.Unlock()
	defer h.release(st)
	if err != nil {
		h.reject(req, info, message.CodePublishBadName, err.Error())
		return
	}
	if old != nil {
		h.closeReplaced(st, old)
	}
	defer h.unpublish(st, me)

	ps, err := req.AcceptPublish()
	if err != nil {
		info.Reason, info.Err = reasonFor(err), err
		return
	}
	h.track(req.Conn(), true)
	defer h.track(req.Conn(), false)
	if r := st.accepted(me, ps); r != ReasonNone {
		// Replaced, or the hub shut down, between claim and accept.
		ps.Close()
		info.Reason = r
		return
	}
	// Players that were waiting for this publisher start with its first
	// packet rather than from the cache: let them join first (bounded).
	st.awaitWaitingPlayers(joinWait)
	for {
		pk, rerr := ps.ReadPacket()
		if rerr != nil {
			err = rerr
			break
		}
		st.publish(me, pk, h.now())
		info.Packets++
	}
	st.mu.Lock()
	replaced := me.replaced
	st.mu.Unlock()
	switch {
	case replaced:
		info.Reason = ReasonReplaced
	case h.isClosing():
		info.Reason = ReasonShutdown
	case errors.Is(err, io.EOF):
		info.Reason = ReasonClientClosed
	default:
		info.Reason, info.Err = reasonFor(err), err
	}
	h.unpublish(st, me)
	ps.Close()
}

func (h *Hub) unpublish(st *stream, me *publisher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st.unpublish(me) {
		h.npub--
	}
}

// closeReplaced ends the session of a publisher a new one took over from.
func (h *Hub) closeReplaced(st *stream, old *publisher) {
	st.mu.Lock()
	ps := old.ps
	st.mu.Unlock()
	if ps == nil {
		return // it sees the replacement once accepted
	}
	// The calling handler holds a count of wg, so this Add cannot race
	// with Shutdown's Wait.
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		ps.Close()
	}()
}

func (h *Hub) isClosing() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closing
}

// waitPublished waits up to PlayWait for the stream's publisher.
func (h *Hub) waitPublished(st *stream) bool {
	var timeout <-chan time.Time
	if h.lim.playWait > 0 {
		t := time.NewTimer(h.lim.playWait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		ok, c := st.published()
		if ok {
			return true
		}
		if timeout == nil {
			return false
		}
		select {
		case <-c:
		case <-timeout:
			return false
		case <-h.done:
			return false
		}
	}
}

func (h *Hub) servePlay(req *rtmp.Request, info *SessionInfo) {
	st := h.acquire(streamKey{req.App, req.StreamName})
	defer h.release(st)
	if err := st.reserve(); err != nil {
		h.reject(req, info, message.CodePlayStreamNotFound, err.Error())
		return
	}
	joined := false
	defer func() {
		if !joined {
			st.unreserve()
		}
	}()
	if !h.waitPublished(st) {
		if h.isClosing() {
			h.reject(req, info, message.CodePlayStreamNotFound, "server shutting down")
			info.Reason = ReasonShutdown
			return
		}
		h.reject(req, info, message.CodePlayStreamNotFound, "stream not found")
		return
	}
	ps, err := req.AcceptPlay(nil)
	if err != nil {
		info.Reason, info.Err = reasonFor(err), err
		return
	}
	conn := req.Conn()
	if h.lim.pingInterval > 0 && h.lim.pingTimeout > 0 {
		// Players are pinged: one that answers nothing at all is gone.
		conn.SetReadTimeout(h.lim.pingTimeout)
	}
	h.track(conn, true)
	defer h.track(conn, false)
	if n := h.cfg.SendBuffer; n > 0 {
		setSendBuffer(conn.NetConn(), n)
	}
	s := newSubscriber(ps, &h.lim, h.now)
	s.note, s.ps = ps, ps
	s.chunkSize, s.sid, s.name = ps.ChunkSize(), ps.StreamID(), req.StreamName
	s.caps = ps.Capabilities()
	s.enhanced = s.caps.Enhanced
	s.multitrack = s.caps.Multitrack()
	s.anyCodec = !s.enhanced && h.cfg.ForwardUndeclared
	s.kill = func() { conn.Close() }

	st.join(s)
	joined = true
	reason, err := s.run(runEnv{hubDone: h.done, playerDone: ps.Done()})
	st.leave(s)
	if r := s.ended(); r != ReasonNone {
		reason, err = r, nil
	} else if reason == ReasonClientClosed && err == nil {
		reason, err = playerEnd(ps)
	}
	ps.Close()
	<-ps.Done()
	info.Reason, info.Err = reason, err
	info.Packets, info.Dropped, info.PeakQueue = s.stats()
}

// setSendBuffer sets SO_SNDBUF on a TCP connection, also under TLS.
func setSendBuffer(nc net.Conn, n int) {
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = u.NetConn()
	}
	if b, ok := nc.(interface{ SetWriteBuffer(int) error }); ok {
		b.SetWriteBuffer(n)
	}
}

// playerEnd classifies the end of a player's reads, once they ended: a
// closeStream, deleteStream or close is the client's; anything else is the
// error's.
func playerEnd(ps *rtmp.PlaySession) (Reason, error) {
	for {
		_, err := ps.ReadEvent()
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			return ReasonClientClosed, nil
		}
		return reasonFor(err), err
	}
}

// Shutdown ends every session with ReasonShutdown: new requests are
// rejected, waiting players are refused, players stop and are closed with
// StreamEOF and NetStream.Play.Stop, publishers are closed politely
// (StreamEOF, NetStream.Unpublish.Success). It waits for the sessions to end;
// when ctx ends first, it closes their connections at once and returns
// ctx.Err(). Call it before rtmp.Server.Shutdown. It is safe to call more
// than once.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	if !h.closing {
		h.closing = true
		h.closed.Store(true)
		close(h.done)
	}
	var pubs []*rtmp.PublishSession
	for _, st := range h.streams {
		st.mu.Lock()
		if st.pub != nil && st.pub.ps != nil {
			pubs = append(pubs, st.pub.ps)
		}
		st.mu.Unlock()
	}
	h.mu.Unlock()
	var closers sync.WaitGroup
	for _, ps := range pubs {
		closers.Add(1)
		go func() {
			defer closers.Done()
			ps.Close()
		}()
	}
	finished := make(chan struct{})
	go func() {
		h.wg.Wait()
		closers.Wait()
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
		<-finished
		return ctx.Err()
	}
}
