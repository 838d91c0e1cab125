package live

import (
	"slices"
	"sync"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// stream is one stream key: its publisher, its subscribers and what a new
// subscriber starts with. The publishing goroutine does all the work of a
// packet under mu (timestamps, caches, fan-out to every queue);
// subscribers join and leave under mu, between two packets, so a new one
// gets the cache and then every live packet, with no gap and no duplicate.
//
// Lock order: Hub.mu, stream.mu, Subscription.mu.
type stream struct {
	hub *Hub
	key Key
	lim limits // the hub's, with its app's settings (Config.App)

	// refs counts the sessions using the stream (publisher and
	// subscribers, waiting or not); guarded by Hub.mu. At zero the hub
	// forgets it.
	refs int

	mu   sync.Mutex
	pub  *Publication
	pubc chan struct{} // closed when a publisher arrives; a new one when it leaves
	// unpublished: subscribers were told the publisher left.
	unpublished bool
	grace       *time.Timer // ends the subscribers when no publisher returns
	graceGen    uint64
	subs        []*Subscription
	tl          timeline
	// batch: the publisher wakes subscribers at its flushes (the end of
	// each read batch) rather than per packet; dirty are the subscribers
	// to wake at the next flush.
	batch bool
	dirty []*Subscription
	// The merge window (Config.MergeWindow, MergeBytes): since when
	// subscribers have packets they were not woken for, how many bytes,
	// whether one must go at once (a decoder configuration or data), and
	// the timer that flushes at the window's end.
	dirtySince int64
	dirtyBytes int
	dirtyNow   bool
	mergeTimer *time.Timer

	// headers are the current decoder configurations, one per slot
	// (Packet.hkey); copied on write, so a GOP can keep the set it began
	// with by reference.
	headers []*Packet
	// frames are the @setDataFrame frames, unwrapped, by name; frameBytes
	// their payload bytes.
	frames     []*Packet
	frameNames []string
	frameBytes int

	// The GOP cache: every packet from the last key frame of track 0, and
	// the headers in force at that key frame.
	gop        []*Packet
	gopBytes   int
	gopHeaders []*Packet
	gopValid   bool
	// gopCut: the GOP was cut to its key frame for the memory budget and
	// takes nothing more until the next key frame.
	gopCut bool
	// spare are media packets no subscriber had, that the GOP cache let go
	// of (or never took): nothing refers to them any more, and publishLocked
	// reuses them, so a stream nobody watches allocates no packet per
	// message. At most maxSpare; publisher's goroutine only, under mu.
	spare []*Packet
	// queued is what the subscribers' queues hold, as charged to the
	// budget (chargeQueues).
	queued int

	// Statistics of the current publisher.
	since          time.Time
	packets, bytes uint64
	in             meter
	tracks         []TrackInfo
	// dropped counts the drops of subscribers that left.
	dropped uint64
}

func newStream(h *Hub, k Key) *stream {
	return &stream{hub: h, key: k, pubc: make(chan struct{}), lim: h.appLimits(k.App)}
}

// claim makes me the stream's publisher. The caller holds Hub.mu. It
// returns the publisher me replaces, if any.
func (st *stream) claim(me *Publication, replace bool) (old *Publication, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub != nil {
		if !replace {
			return nil, ErrStreamBusy
		}
		old = st.pub
		old.ended, old.reason = true, ReasonReplaced
	} else {
		close(st.pubc) // wake the waiting subscribers
	}
	st.pub = me
	st.batch = me.batch
	st.flushLocked()
	if st.grace != nil {
		st.grace.Stop()
		st.graceGen++
	}
	st.tl.restart()
	st.resetCaches()
	st.since, st.packets, st.bytes, st.in, st.tracks = time.Now(), 0, 0, meter{}, nil
	now := st.hub.now()
	for _, s := range st.subs {
		// The new stream starts at its first key frame.
		s.skipToKey()
		if st.unpublished && !s.waiting {
			s.notify(NoticePublished, now)
		}
		s.waiting = false
	}
	st.unpublished = false
	return old, nil
}

func (st *stream) resetCaches() {
	b := st.hub.cfg.Budget
	st.headers = nil
	b.Release(st.frameBytes)
	st.frames, st.frameNames, st.frameBytes = nil, nil, 0
	st.dropGOP()
}

// dropGOP empties the GOP cache; it is invalid until the next key frame.
func (st *stream) dropGOP() {
	st.hub.cfg.Budget.Release(st.gopBytes)
	clear(st.gop)
	st.gop, st.gopBytes, st.gopHeaders, st.gopValid, st.gopCut = st.gop[:0], 0, nil, false, false
}

// unpublish ends me's turn: subscribers are told and wait for a new
// publisher (RepublishGrace). It reports whether me was still the
// publisher.
func (st *stream) unpublish(me *Publication) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pub != me {
		return false
	}
	st.flushLocked()
	st.pub = nil
	st.pubc = make(chan struct{})
	st.tl.restart()
	st.resetCaches()
	st.unpublished = true
	now := st.hub.now()
	for _, s := range st.subs {
		if !s.waiting {
			s.notify(NoticeUnpublished, now)
		}
	}
	st.graceGen++
	if g := st.hub.lim.grace; g > 0 {
		gen := st.graceGen
		st.grace = time.AfterFunc(g, func() { st.graceOver(gen) })
	} else {
		st.endSubscribersLocked()
	}
	return true
}

// graceOver ends the subscribers when no publisher came back in time.
func (st *stream) graceOver(gen uint64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.graceGen == gen && st.pub == nil {
		st.endSubscribersLocked()
	}
}

func (st *stream) endSubscribersLocked() {
	for _, s := range st.subs {
		if !s.waiting {
			s.finish(ReasonPublisherGone)
		}
	}
}

// publish relays one packet of me's: it maps its timestamp, keeps what
// late subscribers need, and queues it for every subscriber. It never
// blocks on a subscriber. It reports false when me is no longer the
// publisher.
func (st *stream) publish(me *Publication, pk rtmp.Packet, now int64) bool {
	st.mu.Lock()
	var kills []*Subscription
	ok := st.pub == me
	if ok {
		kills = st.publishLocked(pk, now, nil) // allocates only to end a subscriber
	}
	st.mu.Unlock()
	for _, s := range kills {
		s.kill(ReasonSlowConsumer)
	}
	if b := st.hub.cfg.Budget; b.Excess(7) > 0 {
		// Like the kills above, with no lock held. From 7/8 of the limit,
		// before the limit itself: there, publishers' new messages are
		// refused, and a slow player's backlog should not cost them.
		st.hub.reclaim()
	}
	return ok
}

// publishLocked does the work of publish under st.mu; it appends the
// subscribers the queue policy ended to kills.
func (st *stream) publishLocked(pk rtmp.Packet, now int64, kills []*Subscription) []*Subscription {
	var p *Packet
	switch pk.Type {
	case message.TypeAudio, message.TypeVideo:
		p = st.newPacket()
		p.typ, p.ts, p.payload = pk.Type, uint32(st.tl.next(pk.Timestamp)), pk.Payload
		var keep bool
		if pk.Type == message.TypeVideo {
			keep = classifyVideo(p)
		} else {
			keep = classifyAudio(p)
		}
		if keep {
			st.setHeader(p)
		}
		st.noteTrack(p)
		p.given = keep || len(st.subs) > 0
		if !st.cache(p) && !p.given {
			defer st.release(p) // after every use below
		}
	case message.TypeDataAMF0, message.TypeDataAMF3:
		ts := uint32(st.tl.next(pk.Timestamp))
		d, err := message.UnmarshalData(pk.Type, pk.Payload)
		switch {
		case err == nil && d.IsSetDataFrame():
			// Subscribers get what @setDataFrame wraps (usually
			// onMetaData), now and when they join.
			u := d.Unwrap()
			b, err := u.AppendPayload(nil)
			if err != nil {
				return kills
			}
			name, _ := u.Name()
			p = &Packet{typ: pk.Type, ts: ts, payload: b, flags: fConfig}
			st.setFrame(name, p)
		case err == nil && d.IsClearDataFrame():
			// "@clearDataFrame", name
			if len(d.Values) > 1 {
				name, _ := message.Data{Values: d.Values[1:]}.Name()
				st.clearFrame(name)
			}
			return kills
		default:
			p = &Packet{typ: pk.Type, ts: ts, payload: pk.Payload, flags: fConfig}
			if err == nil {
				if name, _ := d.Name(); name == "onMetaData" {
					// A bare onMetaData (some encoders send it without
					// @setDataFrame) is kept like one.
					st.setFrame(name, p)
				}
			}
		}
	default:
		// Commands and shared objects of the publisher are not relayed.
		return kills
	}
	st.packets++
	st.bytes += uint64(len(p.payload))
	st.in.add(now, len(p.payload))
	if st.batch {
		if st.dirtySince == 0 {
			st.dirtySince = now
		}
		st.dirtyBytes += len(p.payload)
		if p.flags&fConfig != 0 {
			st.dirtyNow = true
		}
	}
	most := 0
	for _, s := range st.subs {
		q := s.pick(p)
		if q == nil {
			continue
		}
		kill, wake, held := s.enqueue(q, now)
		most = max(most, held)
		if !kill && s.prepare != nil {
			s.prepare(q)
		}
		switch {
		case kill:
			kills = append(kills, s)
		case wake && !st.batch:
			s.signal()
		case wake && !s.marked:
			s.marked = true
			st.dirty = append(st.dirty, s)
		}
	}
	st.chargeQueues(most)
	return kills
}

// chargeQueues charges the hub's budget with what the subscribers' queues
// hold, given the largest of them. The queues share their packets: each
// holds a part of the same run of the stream's latest packets, so together
// they hold no more than the longest (plus what one skipped and another
// kept: audio, headers). A thousand players with a second of backlog each
// hold one second of the stream, not a thousand. It runs with each packet
// published, so drained queues are released by the next one, and when the
// stream is forgotten.
func (st *stream) chargeQueues(most int) {
	if b := st.hub.cfg.Budget; b != nil && most != st.queued {
		b.Charge(most - st.queued)
	}
	st.queued = most
}

// flushBatchLocked ends a batch of the publisher's: it wakes the
// subscribers at once, or, with a merge window, once the window since the
// first packet they were not woken for has passed, or MergeBytes arrived,
// or a decoder configuration or data message is waiting.
func (st *stream) flushBatchLocked(now int64) {
	lim := &st.hub.lim
	if len(st.dirty) == 0 {
		// No subscriber waits to be woken (none has joined, or all are
		// behind their own limits): no timer for nothing.
		st.dirtySince, st.dirtyBytes, st.dirtyNow = 0, 0, false
		return
	}
	if lim.mergeWindow <= 0 || st.dirtyNow || st.dirtySince == 0 ||
		now-st.dirtySince >= int64(lim.mergeWindow) || (lim.mergeBytes > 0 && st.dirtyBytes >= lim.mergeBytes) {
		st.flushLocked()
		return
	}
	if st.mergeTimer == nil {
		st.mergeTimer = time.AfterFunc(time.Duration(st.dirtySince+int64(lim.mergeWindow)-now), func() {
			st.mu.Lock()
			st.mergeTimer = nil
			st.flushLocked()
			st.mu.Unlock()
		})
	}
}

// flushLocked wakes the subscribers that got packets since the last flush.
func (st *stream) flushLocked() {
	st.dirtySince, st.dirtyBytes, st.dirtyNow = 0, 0, false
	if st.mergeTimer != nil {
		st.mergeTimer.Stop()
		st.mergeTimer = nil
	}
	for i, s := range st.dirty {
		s.marked = false
		s.signal()
		st.dirty[i] = nil
	}
	st.dirty = st.dirty[:0]
}

// setHeader keeps a decoder configuration in its slot, replacing the
// previous one (copy on write: a GOP may hold the old slice).
func (st *stream) setHeader(p *Packet) {
	i := slices.IndexFunc(st.headers, func(h *Packet) bool { return h.hkey == p.hkey })
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

// setFrame keeps a data frame by name, within MaxDataFrames frames and
// MaxDataFrameBytes bytes; past either it is relayed but not kept.
//
// With a memory budget, a frame that grows what is kept is kept only if the
// budget grants the growth.
func (st *stream) setFrame(name string, p *Packet) {
	b := st.hub.cfg.Budget
	if i := slices.Index(st.frameNames, name); i >= 0 {
		d := len(p.payload) - len(st.frames[i].payload)
		if st.frameBytes+d > MaxDataFrameBytes || !b.Reserve(d) {
			return
		}
		if d < 0 {
			b.Release(-d)
		}
		st.frameBytes += d
		st.frames[i] = p
		return
	}
	if len(st.frames) >= MaxDataFrames || st.frameBytes+len(p.payload) > MaxDataFrameBytes || !b.Reserve(len(p.payload)) {
		return
	}
	st.frames = append(st.frames, p)
	st.frameNames = append(st.frameNames, name)
	st.frameBytes += len(p.payload)
}

func (st *stream) clearFrame(name string) {
	if i := slices.Index(st.frameNames, name); i >= 0 {
		st.hub.cfg.Budget.Release(len(st.frames[i].payload))
		st.frameBytes -= len(st.frames[i].payload)
		st.frames = slices.Delete(st.frames, i, i+1)
		st.frameNames = slices.Delete(st.frameNames, i, i+1)
	}
}

// cache updates the GOP cache with p: a key frame of track 0 starts a new
// GOP; other packets join the current one while it stays within
// GOPMaxPackets and GOPMaxBytes, past which it is dropped until the next
// key frame. It reports whether p is kept. It runs on the publisher's
// goroutine (publishLocked): what it drops that no subscriber had goes
// back to the publisher (releaseGOP).
func (st *stream) cache(p *Packet) bool {
	lim := &st.lim
	if lim.gopPackets == 0 || lim.gopBytes == 0 {
		return false
	}
	b := st.hub.cfg.Budget
	if p.flags&(fVideo|fKey) == fVideo|fKey {
		st.releaseGOP(0)
		st.dropGOP()
		st.gopValid = true
		st.gopHeaders = st.headers
	}
	if !st.gopValid || st.gopCut {
		return false
	}
	if len(st.gop)+1 > lim.gopPackets || st.gopBytes+p.size() > lim.gopBytes {
		st.releaseGOP(0)
		st.dropGOP()
		return false
	}
	if len(st.gop) > 0 && b.Excess(7) > 0 && (st.gopBytes >= int(b.Limit()/32) || b.Over()) {
		// Near the memory budget's limit (past 7/8): a large GOP (or any,
		// once over the limit) is cut to its key frame.
		st.hub.cfg.Budget.NoteTrimmed()
		n := 0
		for _, q := range st.gop[1:] {
			n += q.size()
		}
		b.Release(n)
		st.releaseGOP(1)
		clear(st.gop[1:])
		st.gop, st.gopBytes, st.gopCut = st.gop[:1], st.gop[0].size(), true
		return false
	}
	b.Charge(p.size())
	st.gop = append(st.gop, p)
	st.gopBytes += p.size()
	return true
}

// releaseGOP releases the packets of the GOP cache from index from on that
// no subscriber had, as the cache is about to drop them. Only the
// publisher's goroutine calls it (cache).
func (st *stream) releaseGOP(from int) {
	for _, q := range st.gop[from:] {
		if !q.given {
			st.release(q)
		}
	}
}

// maxSpare bounds the packets a stream keeps for reuse: a GOP's worth at
// common frame rates (a 2 s GOP of 30 fps video and 48 kHz AAC is about
// 155 packets).
const maxSpare = 256

// release takes back a media packet no subscriber had and nothing keeps:
// its payload goes back to the publisher (PublishOptions.Recycle), the
// packet to the stream's spares.
func (st *stream) release(p *Packet) {
	if st.pub != nil && st.pub.recycle != nil {
		st.pub.recycle(p.payload)
	}
	if len(st.spare) < maxSpare {
		st.spare = append(st.spare, p)
	}
}

// newPacket returns a zero packet, a spare one if there is one.
func (st *stream) newPacket() *Packet {
	n := len(st.spare)
	if n == 0 {
		return new(Packet)
	}
	p := st.spare[n-1]
	st.spare[n-1] = nil
	st.spare = st.spare[:n-1]
	*p = Packet{}
	return p
}

// join adds a subscriber. If the stream is published it gets, stamped at
// the time of its first packet, the data frames and the decoder
// configurations, then the cached GOP, then every live packet; with no GOP
// to give, it skips video up to the next key frame. If not, it waits
// (s.waiting) and starts with the next publisher's first packet. It
// returns ErrTooManyPlayers past MaxPlayers.
func (st *stream) join(s *Subscription) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if max := st.hub.lim.maxPlayers; max > 0 && len(st.subs) >= max {
		return ErrTooManyPlayers
	}
	s.st = st
	s.skipToKey()
	st.subs = append(st.subs, s)
	if st.pub == nil {
		s.waiting = true
		return nil
	}
	now := st.hub.now()
	headers := st.headers
	ts := uint32(st.tl.out)
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
			p.given = true
			if q := s.pick(p); q != nil {
				s.enqueueJoin(q, now)
			}
		}
		if st.gopCut {
			// The GOP was cut to its key frame: what follows it live
			// cannot be decoded without what was cut.
			s.skipToKey()
		}
	}
	return nil
}

// leave removes a subscriber.
func (st *stream) leave(s *Subscription) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.marked {
		st.dirty = slices.DeleteFunc(st.dirty, func(d *Subscription) bool { return d == s })
		s.marked = false
	}
	if i := slices.Index(st.subs, s); i >= 0 {
		st.subs = slices.Delete(st.subs, i, i+1)
		s.mu.Lock()
		st.dropped += s.dropped
		s.mu.Unlock()
	}
}

// published reports whether a publisher is on, and a channel closed when
// one arrives.
func (st *stream) published() (bool, <-chan struct{}) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.pub != nil, st.pubc
}

// TrackInfo is one audio or video track of a stream.
type TrackInfo struct {
	// Type is "video" or "audio".
	Type string `json:"type"`
	// ID is the Enhanced RTMP track id (0 for single-track streams).
	ID uint8 `json:"id"`
	// Codec is the codec's FourCC (avc1, hvc1, av01, vp09, mp4a, Opus,
	// fLaC, ac-3, ec-3, .mp3, ...), or the legacy FLV codec's name.
	Codec string `json:"codec"`
}

// noteTrack records the tracks of a stream as packets show them: every
// packet of a single track, and the decoder configurations of multitrack
// tags (which name every track).
func (st *stream) noteTrack(p *Packet) {
	kind := "audio"
	if p.typ == message.TypeVideo {
		kind = "video"
	}
	if p.flags&fMultitrack == 0 {
		st.addTrack(kind, 0, p)
		return
	}
	if p.flags&fConfig == 0 {
		return
	}
	if p.typ == message.TypeVideo {
		var v flv.VideoTag
		if v.Unmarshal(p.payload) == nil {
			for it := v.Tracks(); it.Next(); {
				st.addTrackCodec(kind, it.Track().ID, it.Track().FourCC.String())
			}
		}
		return
	}
	var a flv.AudioTag
	if a.Unmarshal(p.payload) == nil {
		for it := a.Tracks(); it.Next(); {
			st.addTrackCodec(kind, it.Track().ID, it.Track().FourCC.String())
		}
	}
}

func (st *stream) addTrack(kind string, id uint8, p *Packet) {
	for i := range st.tracks {
		if t := &st.tracks[i]; t.Type == kind && t.ID == id {
			return // known: the common case costs a scan of a few tracks
		}
	}
	st.addTrackCodec(kind, id, codecName(p))
}

func (st *stream) addTrackCodec(kind string, id uint8, codec string) {
	for i := range st.tracks {
		if t := &st.tracks[i]; t.Type == kind && t.ID == id {
			t.Codec = codec
			return
		}
	}
	if len(st.tracks) < MaxHeaders {
		st.tracks = append(st.tracks, TrackInfo{Type: kind, ID: id, Codec: codec})
	}
}

// codecName names the codec of a single-track packet.
func codecName(p *Packet) string {
	if f := p.Codec(); f != 0 {
		return f.String()
	}
	if len(p.payload) == 0 {
		return ""
	}
	if p.typ == message.TypeVideo {
		return flv.VideoCodecID(p.payload[0] & 0x0f).String()
	}
	return flv.SoundFormat(p.payload[0] >> 4).String()
}
