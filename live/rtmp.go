package live

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// The RTMP side of the hub: an RTMP publisher is a Publication, an RTMP
// player a Subscription, through the same seams as any other source or
// subscriber.

// ServeConnect asks Hooks.Connect about an RTMP client's connect
// (rtmp.Server calls it when the handler has it).
func (h *Hub) ServeConnect(req *rtmp.Request) error {
	if h.cfg.Hooks.Connect == nil {
		return nil
	}
	s := SessionFromRequest(req)
	s.Kind = 0
	return h.cfg.Hooks.Connect(h.hookContext(), s)
}

// hookContext is the context of decision hooks: it ends when the hub shuts
// down.
func (h *Hub) hookContext() context.Context {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx == nil {
		h.ctx, h.cancel = context.WithCancel(context.Background())
		if h.closing {
			h.cancel()
		}
	}
	return h.ctx
}

// ServeRTMP serves one RTMP publish or play request until its session
// ends.
func (h *Hub) ServeRTMP(req *rtmp.Request) {
	// The handler is counted while it runs, so that the closers it starts
	// are counted too; once closing, Publish and Subscribe refuse it.
	h.mu.Lock()
	counted := !h.closing
	if counted {
		h.wg.Add(1)
	}
	h.mu.Unlock()
	if counted {
		defer h.wg.Done()
	}
	sess := SessionFromRequest(req)
	key := Key{req.App, req.StreamName}
	if req.Kind == rtmp.KindPublish {
		h.servePublish(req, sess, key)
	} else {
		h.servePlay(req, sess, key)
	}
}

// rejectRTMP answers a refused request with the onStatus code of its kind
// and the refusal's description.
func rejectRTMP(req *rtmp.Request, err error) {
	code := message.CodePlayStreamNotFound
	if req.Kind == rtmp.KindPublish {
		code = message.CodePublishBadName
		if errors.Is(err, ErrDenied) {
			code = message.CodePublishDenied
		}
	}
	req.Reject(code, describe(err))
}

// describe is the text a client sees for a refusal.
func describe(err error) string {
	var d *DeniedError
	if errors.As(err, &d) {
		return d.Text
	}
	return strings.TrimPrefix(err.Error(), "live: ")
}

// track counts an RTMP session in or out of its connection's count: a
// connection may carry several (one per NetStream).
func (h *Hub) track(c *rtmp.Conn, add bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if add {
		h.conns[c]++
	} else if h.conns[c]--; h.conns[c] <= 0 {
		delete(h.conns, c)
	}
}

// sessionsOn returns how many RTMP sessions the hub serves on c.
func (h *Hub) sessionsOn(c *rtmp.Conn) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns[c]
}

func (h *Hub) servePublish(req *rtmp.Request, sess *Session, key Key) {
	var mu sync.Mutex
	var ps *rtmp.PublishSession
	var stopped Reason
	finished := false
	defer func() {
		mu.Lock()
		finished = true
		mu.Unlock()
	}()
	stop := func(r Reason) {
		mu.Lock()
		defer mu.Unlock()
		stopped = r
		if s := ps; s != nil && !finished {
			// Close only signals the session's reader (and writes the
			// polite end); the reading goroutine sees it and returns.
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				s.Close()
			}()
		}
	}
	pub, err := h.Publish(h.hookContext(), key, PublishOptions{Session: sess, Stop: stop, Batch: true})
	if err != nil {
		rejectRTMP(req, err)
		return
	}
	s, err := req.AcceptPublish()
	if err != nil {
		pub.CloseWith(reasonFor(err), err)
		return
	}
	pub.setRTMPSession(s)
	conn := req.Conn()
	h.track(conn, true)
	defer h.track(conn, false)
	// Players wake once per batch of inbound messages: when everything
	// received so far was read and published.
	s.SetBeforeRead(pub.Flush)
	mu.Lock()
	ps = s
	r := stopped
	mu.Unlock()
	if r != ReasonNone {
		// Replaced, kicked or shut down between Publish and accept.
		pub.CloseWith(r, nil)
		s.Close()
		return
	}
	for {
		pk, rerr := s.ReadPacket()
		if rerr != nil {
			err = rerr
			break
		}
		if pub.Write(pk) != nil {
			err = nil // the hub ended it: CloseWith takes its reason
			break
		}
	}
	switch {
	case err == nil, errors.Is(err, io.EOF):
		pub.CloseWith(ReasonClientClosed, nil)
	default:
		pub.CloseWith(reasonFor(err), err)
	}
	s.Close()
}

func (h *Hub) servePlay(req *rtmp.Request, sess *Session, key Key) {
	conn := req.Conn()
	// Packets are chunked on the publisher's goroutine as they arrive, at
	// this connection's chunk size (nearly always the server's, shared by
	// every player).
	chunkSize, sid := conn.ChunkSize(), req.StreamID
	sub, err := h.Subscribe(h.hookContext(), key, SubscribeOptions{
		Session:      sess,
		Capabilities: req.Capabilities,
		Prepare:      func(p *Packet) { p.Prepared(chunkSize, sid) },
		// The writer may be blocked in a write: closing the connection
		// frees it. A connection that carries other sessions (several
		// NetStreams) stays: the writer wakes, ends this stream alone
		// (StreamEOF, NetStream.Play.Stop) and a write blocked meanwhile
		// ends at the write timeout.
		Stop: func(Reason) {
			if h.sessionsOn(conn) <= 1 {
				conn.Close()
			}
		},
	})
	if err != nil {
		rejectRTMP(req, err)
		return
	}
	ps, err := req.AcceptPlay(nil)
	if err != nil {
		sub.CloseWith(reasonFor(err), err)
		return
	}
	if h.lim.pingInterval > 0 && h.lim.pingTimeout > 0 {
		// Players are pinged: one that answers nothing at all is gone.
		conn.SetReadTimeout(h.lim.pingTimeout)
	}
	h.track(conn, true)
	defer h.track(conn, false)
	if n := h.cfg.SendBuffer; n > 0 {
		setSendBuffer(conn.NetConn(), n)
	}
	reason, err := h.writePlayer(sub, ps)
	sub.CloseWith(reason, err)
	ps.Close()
	<-ps.Done()
}

// writePlayer is an RTMP player's writer: it waits on its subscription's
// own signal, takes everything queued, writes each packet's shared chunked
// bytes and flushes once. It returns why it stopped.
func (h *Hub) writePlayer(sub *Subscription, ps *rtmp.PlaySession) (Reason, error) {
	var pingC <-chan time.Time
	if h.lim.pingInterval > 0 {
		t := time.NewTicker(h.lim.pingInterval)
		defer t.Stop()
		pingC = t.C
	}
	start := h.now()
	ping := func() error { return ps.SendPingRequest(uint32((h.now() - start) / 1e6)) }
	failed := func(err error) (Reason, error) {
		// The hub's own reason when it closed the connection (a slow
		// consumer), else the error's.
		if r := sub.ended(); r != ReasonNone {
			return r, nil
		}
		return reasonFor(err), err
	}
	chunkSize, sid := ps.ChunkSize(), ps.StreamID()
	var items []Item
	var batch []*chunk.Prepared
	for {
		var err error
		if cap(items) > ringKeep && len(items) <= ringKeep/4 {
			// The join's burst is over: do not hold its storage.
			items, batch = nil, nil
		}
		items, err = sub.TryRead(items[:0])
		if err != nil {
			var e *EndError
			if errors.As(err, &e) {
				return e.Reason, nil
			}
			return ReasonProtocolError, err
		}
		if len(items) == 0 {
			select {
			case <-sub.Ready():
			case <-ps.Done():
				return playerEnd(ps)
			case <-pingC:
				if err := ping(); err != nil {
					return failed(err)
				}
			}
			continue
		}
		// Packets go out as one batch (one lock, deadline and flush on the
		// connection); a notice first sends the packets before it.
		batch = batch[:0]
		for i := range items {
			it := &items[i]
			if it.Notice == NoticeNone {
				if m, perr := it.Packet.Prepared(chunkSize, sid); perr == nil {
					batch = append(batch, m)
				}
				continue
			}
			if len(batch) > 0 {
				if err = ps.WritePreparedBatch(batch, false); err != nil {
					break
				}
				batch = batch[:0]
			}
			switch it.Notice {
			case NoticeUnpublished:
				err = ps.NotifyUnpublish()
			case NoticePublished:
				err = ps.NotifyPublish()
			}
			if err != nil {
				break
			}
		}
		if err == nil {
			err = ps.WritePreparedBatch(batch, true)
		}
		clear(batch)
		clear(items)
		if err != nil {
			return failed(err)
		}
		// A writer that never idles still pings: a player that only
		// watches answers pings and little else, and its connection's read
		// timeout counts on them.
		select {
		case <-pingC:
			if err := ping(); err != nil {
				return failed(err)
			}
		default:
		}
	}
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
