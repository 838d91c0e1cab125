package live

import (
	"errors"
	"slices"
	"sync"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/message"
)

// streamKey names a stream: the connect app and the stream name (without
// its query string).
type streamKey struct{ app, name string }

// publisher is the session feeding a stream.
type publisher struct {
	ps       *rtmp.PublishSession // set once accepted; guarded by stream.mu
	replaced bool                 // guarded by stream.mu
}

var (
	errBusy       = errors.New("already publishing")
	errTooMany    = errors.New("too many streams")
	errTooManyPly = errors.New("too many players")
)

// stream is one stream key: its publisher, its players and what a new
// player starts with. The publishing goroutine does all the work of a
// message under mu (timestamps, caches, fan-out to every queue); players
// join and leave under mu, between two messages, so a new player gets the
// cache and then every live message, with no gap and no duplicate.
//
// Lock order: Hub.mu, stream.mu, subscriber.mu.
type stream struct {
	hub *Hub
	key streamKey

	// refs counts the sessions using the stream (publisher, waiting and
	// playing players); guarded by Hub.mu. At zero the hub forgets it.
	refs int

	mu   sync.Mutex
	pub  *publisher
	pubc chan struct{} // closed when a publisher arrives; a new one when it leaves
	// unpublished: players were told the publisher left.
	unpublished bool
	subs        []*subscriber
	reserved    int // players accepted or about to be
	tl          timeline

	// headers are the current decoder configurations, one per slot
	// (packet.hkey); copied on write, so a GOP can keep the set it began
	// with by reference.
	headers []*packet
	// frames are the @setDataFrame frames, unwrapped, by name.
	frames     []*packet
	frameNames []string

	// The GOP cache: every packet from the last key frame of track 0, and
	// the headers in force at that key frame.
	gop        []*packet
	gopBytes   int
	gopHeaders []*packet
	gopValid   bool

	packets, bytes uint64
}

func newStream(h *Hub, k streamKey) *stream {
	return &stream{hub: h, key: k, pubc: make(chan struct{})}
}

// claim makes me the stream's publisher. The caller holds Hub.mu. It
// returns the publisher me replaces, if any.
func (st *stream) claim(me *publisher, replace bool) (old *publisher, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub != nil {
		if !replace {
			return nil, errBusy
		}
		old = st.pub
		old.replaced = true
	}
	if st.pub == nil {
		close(st.pubc) // wake the waiting players
	}
	st.pub = me
	st.tl.restart()
	st.resetCaches()
	now := st.hub.now()
	for _, s := range st.subs {
		// The new stream starts at its first key frame.
		s.skipToKey()
		if st.unpublished {
			s.notify(ctlPublished, now)
		}
	}
	st.unpublished = false
	return old, nil
}

func (st *stream) resetCaches() {
	st.headers = nil
	st.frames, st.frameNames = nil, nil
	clear(st.gop)
	st.gop, st.gopBytes, st.gopHeaders, st.gopValid = st.gop[:0], 0, nil, false
}

// accepted records the publish session of me. If me was replaced, or the
// hub shut down, meanwhile, it returns why, and the caller closes the
// session (Shutdown closes the sessions it finds recorded here).
func (st *stream) accepted(me *publisher, ps *rtmp.PublishSession) Reason {
	st.mu.Lock()
	defer st.mu.Unlock()
	me.ps = ps
	switch {
	case me.replaced:
		return ReasonReplaced
	case st.hub.closed.Load():
		return ReasonShutdown
	}
	return ReasonNone
}

// unpublish ends me's turn: players are told and wait for a new publisher
// (RepublishGrace). It reports whether me was still the publisher.
func (st *stream) unpublish(me *publisher) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub != me {
		return false
	}
	st.pub = nil
	st.pubc = make(chan struct{})
	st.tl.restart()
	st.resetCaches()
	st.unpublished = true
	now := st.hub.now()
	for _, s := range st.subs {
		s.notify(ctlUnpublished, now)
	}
	return true
}

// publish relays one packet of me's: it maps its timestamp, keeps what late
// players need, and queues it for every player. It never blocks on a
// player.
func (st *stream) publish(me *publisher, pk rtmp.Packet, now int64) {
	st.mu.Lock()
	kills := st.publishLocked(me, pk, now, nil) // allocates only to end a player
	st.mu.Unlock()
	for _, s := range kills {
		s.kill()
	}
}

// publishLocked does the work of publish under st.mu; it appends the
// subscribers the queue policy ended to kills.
func (st *stream) publishLocked(me *publisher, pk rtmp.Packet, now int64, kills []*subscriber) []*subscriber {
	if st.pub != me {
		return kills
	}
	var p *packet
	switch pk.Type {
	case message.TypeAudio, message.TypeVideo:
		p = &packet{typ: pk.Type, ts: uint32(st.tl.next(pk.Timestamp)), payload: pk.Payload}
		var keep bool
		if pk.Type == message.TypeVideo {
			keep = classifyVideo(p)
		} else {
			keep = classifyAudio(p)
		}
		if keep {
			st.setHeader(p)
		}
		st.cache(p)
	case message.TypeDataAMF0, message.TypeDataAMF3:
		ts := uint32(st.tl.next(pk.Timestamp))
		d, err := message.UnmarshalData(pk.Type, pk.Payload)
		switch {
		case err == nil && d.IsSetDataFrame():
			// Players get what @setDataFrame wraps (usually onMetaData),
			// now and when they join.
			u := d.Unwrap()
			b, err := u.AppendPayload(nil)
			if err != nil {
				return kills
			}
			name, _ := u.Name()
			p = &packet{typ: pk.Type, ts: ts, payload: b, flags: fConfig}
			st.setFrame(name, p)
		case err == nil && d.IsClearDataFrame():
			// "@clearDataFrame", name
			if len(d.Values) > 1 {
				name, _ := message.Data{Values: d.Values[1:]}.Name()
				st.clearFrame(name)
			}
			return kills
		default:
			p = &packet{typ: pk.Type, ts: ts, payload: pk.Payload, flags: fConfig}
		}
	default:
		// Commands and shared objects of the publisher are not relayed.
		return kills
	}
	st.packets++
	st.bytes += uint64(len(p.payload))
	for _, s := range st.subs {
		if q := s.pick(p); q != nil && s.enqueue(q, now) {
			kills = append(kills, s)
		}
	}
	return kills
}

// setHeader keeps a decoder configuration in its slot, replacing the
// previous one (copy on write: a GOP may hold the old slice).
func (st *stream) setHeader(p *packet) {
	i := slices.IndexFunc(st.headers, func(h *packet) bool { return h.hkey == p.hkey })
	if i < 0 && len(st.headers) >= MaxHeaders {
		return
	}
	h := slices.Clone(st.headers)
	if i < 0 {
		h = append(h, p)
	} else {
		h[i] = p
	}
	st.headers = h
}

func (st *stream) setFrame(name string, p *packet) {
	if i := slices.Index(st.frameNames, name); i >= 0 {
		st.frames[i] = p
		return
	}
	if len(st.frames) >= MaxDataFrames {
		return
	}
	st.frames = append(st.frames, p)
	st.frameNames = append(st.frameNames, name)
}

func (st *stream) clearFrame(name string) {
	if i := slices.Index(st.frameNames, name); i >= 0 {
		st.frames = slices.Delete(st.frames, i, i+1)
		st.frameNames = slices.Delete(st.frameNames, i, i+1)
	}
}

// cache updates the GOP cache with p: a key frame of track 0 starts a new
// GOP; other packets join the current one while it stays within
// GOPMaxPackets and GOPMaxBytes, past which it is dropped until the next
// key frame.
func (st *stream) cache(p *packet) {
	lim := &st.hub.lim
	if lim.gopPackets == 0 || lim.gopBytes == 0 {
		return
	}
	if p.flags&(fVideo|fKey) == fVideo|fKey {
		clear(st.gop)
		st.gop, st.gopBytes, st.gopValid = st.gop[:0], 0, true
		st.gopHeaders = st.headers
	}
	if !st.gopValid {
		return
	}
	if len(st.gop)+1 > lim.gopPackets || st.gopBytes+p.size() > lim.gopBytes {
		clear(st.gop)
		st.gop, st.gopBytes, st.gopHeaders, st.gopValid = st.gop[:0], 0, nil, false
		return
	}
	st.gop = append(st.gop, p)
	st.gopBytes += p.size()
}

// reserve counts a player in before it is accepted (MaxPlayers).
func (st *stream) reserve() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if max := st.hub.lim.maxPlayers; max > 0 && st.reserved >= max {
		return errTooManyPly
	}
	st.reserved++
	return nil
}

// joinWait bounds how long a new publisher waits for the players that were
// waiting for it to join.
const joinWait = 500 * time.Millisecond

// awaitWaitingPlayers returns once every reserved player has joined (or
// given up), or after d.
func (st *stream) awaitWaitingPlayers(d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		st.mu.Lock()
		waiting := st.reserved - len(st.subs)
		st.mu.Unlock()
		if waiting <= 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (st *stream) unreserve() {
	st.mu.Lock()
	st.reserved--
	st.mu.Unlock()
}

// join adds a player. It gets, stamped at the time of its first packet, the
// data frames and the decoder configurations, then the cached GOP, then
// every live packet; with no GOP to give, it skips video up to the next key
// frame. A player that joins while the publisher is away is told so.
func (st *stream) join(s *subscriber) {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.hub.now()
	headers := st.headers
	ts := uint32(st.tl.out)
	s.skipToKey()
	if st.gopValid && len(st.gop) > 0 {
		headers = st.gopHeaders
		ts = st.gop[0].ts
	}
	for _, f := range st.frames {
		if q := s.pick(f); q != nil {
			s.enqueueJoin(q.restamped(ts), now)
		}
	}
	for _, h := range headers {
		if q := s.pick(h); q != nil {
			s.enqueueJoin(q.restamped(ts), now)
		}
	}
	if st.gopValid {
		for _, p := range st.gop {
			if q := s.pick(p); q != nil {
				s.enqueueJoin(q, now)
			}
		}
	}
	if st.pub == nil {
		s.notify(ctlUnpublished, now)
	}
	st.subs = append(st.subs, s)
}

// leave removes a player.
func (st *stream) leave(s *subscriber) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if i := slices.Index(st.subs, s); i >= 0 {
		st.subs = slices.Delete(st.subs, i, i+1)
	}
	st.reserved--
}

// published reports whether a publisher is on, and a channel closed when
// one arrives.
func (st *stream) published() (bool, <-chan struct{}) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.pub != nil, st.pubc
}
