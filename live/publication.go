package live

import (
	"context"
	"sync"
	"sync/atomic"

	rtmp "github.com/ertmp/rtmp"
)

// PublishOptions are a publisher's choices.
type PublishOptions struct {
	// Session describes the source (protocol, address, ...); nil is an
	// anonymous internal one. The hub sets its ID, Kind, Key and Start.
	Session *Session
	// Batch wakes subscribers only at Flush (and when the publication
	// ends) instead of after each Write: a source that reads in batches
	// (an RTMP connection: every message already received) writes the
	// batch and flushes once, so each subscriber wakes once per batch.
	Batch bool
	// Stop, when set, is called once, from any goroutine, when the hub
	// ends the publication (replaced by a new publisher, kicked, shut
	// down): the source should stop and call Close. Write fails from then
	// on. It must not block.
	Stop func(Reason)
	// Recycle, when set, is given back the payload of each audio and
	// video packet the hub kept for late subscribers (the GOP cache) and
	// let go of with no subscriber ever having had it: nothing refers to
	// it any more, and the source may read later packets into its memory
	// (rtmp.PublishSession.Recycle). Packets nobody watches then cost no
	// garbage. It is called during Write, on the goroutine calling Write,
	// and must not call the hub.
	Recycle func(payload []byte)
}

// Publication is the source of a stream: an RTMP publisher, a relay that
// pulls from another server, a file, a test. It follows the rules of the
// stream's key: one publisher at a time (or replace), republish grace,
// timestamps kept monotonic, the hub's limits.
//
// Write is for one goroutine; Close and Session may be called from any.
type Publication struct {
	hub     *Hub
	st      *stream
	sess    *Session
	stop    func(Reason)
	recycle func([]byte)
	batch   bool

	// Guarded by st.mu: the hub ended it (replaced, kicked, shutdown).
	ended  bool
	reason Reason

	stopOnce  sync.Once
	closeOnce sync.Once
	// Counters, written by the writing goroutine.
	packets, bytes atomic.Uint64
	// rmu guards the RTMP publisher's session, once accepted, and a
	// reconnect request that came before it was (RequestReconnect).
	rmu         sync.Mutex
	rtmpSession *rtmp.PublishSession
	reconnect   *[2]string // tcUrl, description
}

// Publish makes a new publication of the stream key. Config.Hooks
// Authorize may refuse it or map it to another name; it is refused when
// the key has a publisher (unless Config.ReplacePublisher: the old one
// ends with ReasonReplaced) or past Config.MaxStreams. Subscribers that
// were waiting for the key start with its first packet.
func (h *Hub) Publish(ctx context.Context, key Key, o PublishOptions) (*Publication, error) {
	sess, key, err := h.open(ctx, o.Session, rtmp.KindPublish, key)
	if err != nil {
		return nil, err
	}
	p := &Publication{hub: h, sess: sess, stop: o.Stop, recycle: o.Recycle, batch: o.Batch}
	h.mu.Lock()
	st := h.acquireLocked(key)
	st.mu.Lock()
	fresh := st.pub == nil
	st.mu.Unlock()
	var old *Publication
	if fresh && h.lim.maxStreams > 0 && h.npub >= h.lim.maxStreams {
		err = ErrTooManyStreams
	} else if old, err = st.claim(p, h.cfg.ReplacePublisher); err == nil && fresh {
		h.npub++
	}
	h.mu.Unlock()
	if err != nil {
		h.refuse(sess, st, err)
		return nil, err
	}
	p.st = st
	h.register(sess, p)
	if old != nil {
		old.callStop(ReasonReplaced)
	}
	h.started(sess)
	return p, nil
}

// Session returns the publisher's description.
func (p *Publication) Session() *Session { return p.sess }

// Key returns the stream the publication feeds.
func (p *Publication) Key() Key { return p.st.key }

// Write publishes one packet: audio, video or data (@setDataFrame and
// @clearDataFrame are kept for late subscribers as from RTMP); other types
// are ignored. The hub keeps pk.Payload (shared, never copied): the caller
// must not modify it afterwards. Its timestamp is the source's; the hub
// maps it onto the stream's monotonic time line. Write never waits for a
// subscriber. Once the hub ended the publication it returns an *EndError.
func (p *Publication) Write(pk rtmp.Packet) error {
	if !p.st.publish(p, pk, p.hub.now()) {
		return &EndError{Reason: p.endReason()}
	}
	p.packets.Add(1)
	p.bytes.Add(uint64(len(pk.Payload)))
	return nil
}

// Flush ends a batch (PublishOptions.Batch): it wakes the subscribers that
// have packets queued since the last Flush, at once or at the end of the
// merge window (Config.MergeWindow).
func (p *Publication) Flush() {
	p.st.mu.Lock()
	if p.st.pub == p {
		p.st.flushBatchLocked(p.hub.now())
	}
	p.st.mu.Unlock()
}

func (p *Publication) endReason() Reason {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	if p.reason == ReasonNone {
		return ReasonClientClosed
	}
	return p.reason
}

// callStop tells the source the hub ended it.
func (p *Publication) callStop(r Reason) {
	if p.stop == nil {
		return
	}
	p.stopOnce.Do(func() { p.stop(r) })
}

// endBy ends the publication from the hub's side: subscribers are told,
// writes fail, the source is asked to stop.
func (p *Publication) endBy(r Reason) {
	p.st.mu.Lock()
	if !p.ended {
		p.ended, p.reason = true, r
	}
	p.st.mu.Unlock()
	p.hub.unpublish(p.st, p)
	p.callStop(r)
}

// Close unpublishes: the source is done (ReasonClientClosed).
func (p *Publication) Close() { p.CloseWith(ReasonClientClosed, nil) }

// CloseWith unpublishes with the reason (and error) the source ended for;
// when the hub ended it first, the hub's reason wins. Subscribers get
// NoticeUnpublished and wait for RepublishGrace. The End hook runs once,
// on the calling goroutine. Safe to call more than once.
func (p *Publication) CloseWith(r Reason, err error) {
	p.closeOnce.Do(func() {
		p.stopOnce.Do(func() {}) // no Stop after Close (see Subscription.CloseWith)
		p.st.mu.Lock()
		if p.ended {
			r, err = p.reason, nil
		}
		p.ended = true
		if p.reason == ReasonNone {
			p.reason = r
		}
		p.st.mu.Unlock()
		p.hub.unpublish(p.st, p)
		p.hub.endSession(p.sess, p.st, SessionEnd{Reason: r, Err: err, Packets: p.packets.Load(), Bytes: p.bytes.Load()})
	})
}
