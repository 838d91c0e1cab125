package live

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/internal/pool"
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
	// What the hub drops unwatched goes back to the session's reader; the
	// hub calls recycle only from Write, on this goroutine, which sets ps.
	recycle := func(b []byte) {
		if ps != nil {
			ps.Recycle(b)
		}
	}
	pub, err := h.Publish(h.hookContext(), key, PublishOptions{Session: sess, Stop: stop, Batch: true, Recycle: recycle})
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
	// The frames below this one stay on the stack while the writer waits:
	// they are kept small, so that a waiting player's stack is small
	// enough for the runtime to shrink (1500 players: 6 MB).
	w := h.startPlay(req, sess, key)
	if w == nil {
		return
	}
	conn := req.Conn()
	h.track(conn, true)
	defer h.track(conn, false)
	reason, err := w.run()
	w.stop()
	w.sub.CloseWith(reason, err)
	w.ps.Close()
	<-w.ps.Done()
}

// startPlay subscribes an RTMP player and accepts its play; nil when
// either was refused (and answered).
func (h *Hub) startPlay(req *rtmp.Request, sess *Session, key Key) *playerWriter {
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
		return nil
	}
	ps, err := req.AcceptPlay(nil)
	if err != nil {
		sub.CloseWith(reasonFor(err), err)
		return nil
	}
	if h.lim.pingInterval > 0 && h.lim.pingTimeout > 0 {
		// Players are pinged: one that answers nothing at all is gone.
		conn.SetReadTimeout(h.lim.pingTimeout)
	}
	if n := h.cfg.SendBuffer; n > 0 {
		setSendBuffer(conn.NetConn(), n)
	}
	w := &playerWriter{h: h, sub: sub, ps: ps, start: h.now(), chunkSize: ps.ChunkSize(), sid: ps.StreamID()}
	if h.lim.pingInterval > 0 {
		h.pings.add(w, h.lim.pingInterval)
	}
	return w
}

// pinger is the hub's one ping clock for all its RTMP players: at each
// PingInterval it marks every player's writer due and wakes it (a clock
// per player held a ticker, its timer and channel each: 1500 players,
// about 0.5 MB, and as many timers). Its goroutine runs while there are
// players.
type pinger struct {
	mu   sync.Mutex
	ws   map[*playerWriter]struct{}
	stop chan struct{} // closed to end the goroutine; nil when none runs
}

func (p *pinger) add(w *playerWriter, every time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ws == nil {
		p.ws = map[*playerWriter]struct{}{}
	}
	p.ws[w] = struct{}{}
	if p.stop == nil {
		p.stop = make(chan struct{})
		go p.run(p.stop, every)
	}
}

func (p *pinger) remove(w *playerWriter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.ws, w)
	if len(p.ws) == 0 && p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
}

func (p *pinger) run(stop <-chan struct{}, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		for w := range p.ws {
			w.pingDue.Store(true)
			w.sub.signal()
		}
		p.mu.Unlock()
	}
}

// playerWriter is an RTMP player's writer: it waits on its subscription's
// own signal, takes everything queued, writes each packet's shared chunked
// bytes and flushes once.
type playerWriter struct {
	h         *Hub
	sub       *Subscription
	ps        *rtmp.PlaySession
	pingDue   atomic.Bool // set by the hub's pinger
	start     int64
	chunkSize uint32
	sid       uint32
	items     []Item
	batch     []*chunk.Prepared
	// Between writes the writer holds neither: they go back to itemPool
	// and batchPool (unless grown for a burst).
	itemsHold *[]Item
	batchHold *[]*chunk.Prepared
}

var (
	itemPool  = pool.Slices[Item]{N: ringKeep}
	batchPool = pool.Slices[*chunk.Prepared]{N: ringKeep}
)

// giveBack returns the writer's emptied slices to their pools.
func (w *playerWriter) giveBack() {
	if itemPool.Put(&w.itemsHold, w.items) {
		w.items = nil
	}
	if batchPool.Put(&w.batchHold, w.batch) {
		w.batch = nil
	}
}

// stop takes the writer off the hub's ping clock.
func (w *playerWriter) stop() { w.h.pings.remove(w) }

// run writes until the subscription or the player ends, and returns why.
// Its frame is small: it is where a player's writer waits.
func (w *playerWriter) run() (Reason, error) {
	for {
		w.events()
		wrote, reason, err := w.write()
		if reason != ReasonNone || err != nil {
			return reason, err
		}
		// A writer that never idles pings too: a player that only
		// watches answers pings and little else, and its connection's
		// read timeout counts on them.
		if w.pingDue.Load() && w.pingDue.Swap(false) {
			if err := w.ping(); err != nil {
				return w.failed(err)
			}
		}
		if wrote {
			continue
		}
		select {
		case <-w.sub.Ready():
		case <-w.ps.Done():
			return playerEnd(w.ps)
		}
	}
}

// events takes what the player sent (ping responses, pause, seek): a live
// stream is neither paused nor sought, so they are dropped; taken, they
// do not pile up in the session's queue for the player's life.
func (w *playerWriter) events() {
	for {
		if _, ok := w.ps.TryReadEvent(); !ok {
			return
		}
	}
}

func (w *playerWriter) ping() error {
	return w.ps.SendPingRequest(uint32((w.h.now() - w.start) / 1e6))
}

// failed is the end for a write that failed: the hub's own reason when it
// closed the connection (a slow consumer), else the error's.
func (w *playerWriter) failed(err error) (Reason, error) {
	if r := w.sub.ended(); r != ReasonNone {
		return r, nil
	}
	return reasonFor(err), err
}

// write takes everything queued and writes it as one batch (one lock,
// deadline and flush on the connection; a notice first sends the packets
// before it). It reports whether there was anything, and the end of the
// subscription or of the write.
func (w *playerWriter) write() (wrote bool, _ Reason, _ error) {
	if cap(w.items) > ringKeep && len(w.items) <= ringKeep/4 {
		// The join's burst is over: do not hold its storage.
		w.items, w.batch = nil, nil
	}
	if w.items == nil {
		w.items = itemPool.Get(&w.itemsHold)
	}
	items, err := w.sub.TryRead(w.items[:0])
	w.items = items
	defer w.giveBack()
	if err != nil {
		var e *EndError
		if errors.As(err, &e) {
			return false, e.Reason, nil
		}
		return false, ReasonProtocolError, err
	}
	if len(items) == 0 {
		return false, ReasonNone, nil
	}
	ps := w.ps
	if w.batch == nil {
		w.batch = batchPool.Get(&w.batchHold)
	}
	batch := w.batch[:0]
	for i := range items {
		it := &items[i]
		if it.Notice == NoticeNone {
			if m, perr := it.Packet.Prepared(w.chunkSize, w.sid); perr == nil {
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
	w.batch = batch
	if err != nil {
		r, ferr := w.failed(err)
		return true, r, ferr
	}
	return true, ReasonNone, nil
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
