package live

import (
	"context"
	"sync"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// SubscribeOptions are a subscriber's choices. The zero value is a legacy
// player with the hub's queue bounds and slow-consumer policy.
type SubscribeOptions struct {
	// Session describes the subscriber (protocol, address, ...); nil is an
	// anonymous internal one. The hub sets its ID, Kind, Key and Start.
	Session *Session

	// Capabilities select what the subscriber takes of Enhanced RTMP:
	// single-track enhanced tags of the codecs it declared, multitrack
	// tags whole if it declared multitrack and every codec in them, else
	// track 0 alone, else the legacy form of avc1, mp4a and .mp3. The zero
	// value takes legacy tags only.
	Capabilities rtmp.Capabilities
	// AllCodecs takes every packet as published, multitrack included
	// (recorders, relays, tools).
	AllCodecs bool

	// Wait is how long Subscribe waits for a publisher (0: the hub's
	// PlayWait; negative: not at all).
	Wait time.Duration

	// QueueMaxBytes, QueueMaxDelay and SlowConsumerTimeout override the
	// hub's bounds for this subscriber when non-zero (negative: no bound),
	// as in Config.
	QueueMaxBytes       int
	QueueMaxDelay       time.Duration
	SlowConsumerTimeout time.Duration
	// ReportLoss keeps a subscriber that falls behind instead of closing
	// it as a slow consumer: it loses video up to the next key frame and
	// gets a NoticeLoss item saying how many packets it lost, just before
	// the packet it resumes with (a recorder or a relay, usually with
	// larger bounds).
	ReportLoss bool

	// Prepare, when set, is called on the publisher's goroutine for each
	// packet queued for the subscriber, to make the encodings its reader
	// will write (Packet.Prepared, Packet.Bytes): they are then made once,
	// as the packet arrives, rather than by the first reader while the
	// others wait for it. It must be cheap once the encoding exists (both
	// are) and must not block.
	Prepare func(*Packet)

	// Stop, when set, is called once, from any goroutine, when the hub
	// ends the subscription while the subscriber may be blocked outside
	// Read (a slow consumer, a kick, a forced shutdown): it should unblock
	// the subscriber's writes, usually by closing its connection. It must
	// not block.
	Stop func(Reason)
}

// Notice is an event a subscriber gets in order with its packets.
type Notice uint8

const (
	// NoticeNone: the item is a packet.
	NoticeNone Notice = iota
	// NoticeUnpublished: the publisher left; the stream may come back
	// within Config.RepublishGrace (RTMP: NetStream.Play.UnpublishNotify).
	NoticeUnpublished
	// NoticePublished: a publisher came back (RTMP:
	// NetStream.Play.PublishNotify); its decoder configurations and its
	// first key frame follow.
	NoticePublished
	// NoticeLoss: a ReportLoss subscriber lost Item.Lost packets here.
	NoticeLoss
)

var noticeNames = [...]string{"packet", "unpublished", "published", "loss"}

func (n Notice) String() string {
	if int(n) < len(noticeNames) {
		return noticeNames[n]
	}
	return "notice?"
}

// Item is one entry of a subscription: a packet, or a notice.
type Item struct {
	Packet *Packet
	Notice Notice
	// Lost is the packet count of a NoticeLoss.
	Lost uint64
}

// entry is a queued item with the time it was queued.
type entry struct {
	Item
	at int64 // hub clock, ns
}

// EndError is what Read returns once the hub ended a subscription, or it
// was closed.
type EndError struct{ Reason Reason }

func (e *EndError) Error() string { return "live: subscription ended: " + e.Reason.String() }

type memoEntry struct {
	f     flv.FourCC
	audio bool
	ok    bool
}

// subLimits are a subscriber's effective queue bounds.
type subLimits struct {
	queueBytes              int
	queueDelay, slowTimeout time.Duration
	reportLoss              bool
}

// Subscription is one subscriber of a stream: a bounded queue filled by
// the publishing goroutine and drained by the subscriber's own goroutine
// with Read. The publisher never waits for it: enqueueing takes the
// subscription's mutex for a few instructions and does no I/O.
//
// Read and TryRead are for one goroutine; Close, Session, Stats and Ready
// may be called from any.
//
// Lock order: stream.mu, then Subscription.mu.
type Subscription struct {
	// Immutable after newSubscriber.
	hub        *Hub
	st         *stream
	sess       *Session
	caps       rtmp.Capabilities
	enhanced   bool // declared Enhanced RTMP capabilities
	anyCodec   bool // takes every single-track codec
	multitrack bool
	all        bool // AllCodecs
	lim        subLimits
	clock      func() int64
	stop       func(Reason)
	prepare    func(*Packet)
	wake       chan struct{}
	stopOnce   sync.Once
	closeOnce  sync.Once

	// Guarded by the stream's mutex: the codec memo (pick runs there),
	// waiting (a subscriber whose Subscribe still waits for a publisher)
	// and marked (in stream.dirty: to be woken at the next flush).
	memo    [8]memoEntry
	nmemo   int
	waiting bool
	marked  bool

	mu            sync.Mutex
	q             ring
	qbytes        int   // bytes queued and in flight
	inflightAt    int64 // queue time of the oldest entry in flight; 0 if none
	inflightBytes int
	inflightN     int
	inflightSize  int   // payload bytes in flight
	waitKey       bool  // skipping video up to the next key frame
	behind        int64 // when the queue overflowed; 0 once it emptied again
	dead          bool  // ended by the hub: reason says why; the queue is gone
	finishing     bool  // ends with reason once the queue is drained
	reason        Reason
	lost          uint64 // packets lost since the last NoticeLoss
	sent          uint64
	sentBytes     uint64
	dropped       uint64
	peak          int
	out           meter
}

func newSubscriber(h *Hub, lim subLimits) *Subscription {
	s := &Subscription{hub: h, lim: lim, wake: make(chan struct{}, 1), sess: &Session{}}
	if h != nil {
		s.clock = h.now
	}
	return s
}

func (h *Hub) subLimits(app string, o *SubscribeOptions) subLimits {
	al := h.appLimits(app)
	l := subLimits{queueBytes: al.queueBytes, queueDelay: al.queueDelay, slowTimeout: al.slowTimeout, reportLoss: o.ReportLoss}
	overrideInt(&l.queueBytes, o.QueueMaxBytes)
	overrideDur(&l.queueDelay, o.QueueMaxDelay)
	overrideDur(&l.slowTimeout, o.SlowConsumerTimeout)
	return l
}

// Session returns the subscriber's description.
func (s *Subscription) Session() *Session { return s.sess }

// Key returns the stream the subscription is attached to.
func (s *Subscription) Key() Key { return s.st.key }

// takes reports whether the subscriber can receive Enhanced RTMP audio or
// video of codec f. It runs under the stream's mutex; the answer is
// memoized, as Capabilities compares strings.
func (s *Subscription) takes(audio bool, f flv.FourCC) bool {
	if s.anyCodec {
		return true
	}
	if !s.enhanced {
		return false
	}
	for i := range s.nmemo {
		if m := &s.memo[i]; m.f == f && m.audio == audio {
			return m.ok
		}
	}
	var ok bool
	if audio {
		ok = s.caps.CanReceiveAudio(f)
	} else {
		ok = s.caps.CanReceiveVideo(f)
	}
	if s.nmemo < len(s.memo) {
		s.memo[s.nmemo] = memoEntry{f, audio, ok}
		s.nmemo++
	}
	return ok
}

func (s *Subscription) takesAll(p *Packet) bool {
	audio := p.typ == message.TypeAudio
	for _, f := range p.codecs[:p.ncodecs] {
		if !s.takes(audio, f) {
			return false
		}
	}
	return true
}

// pick chooses what the subscriber gets of p: p itself, its track 0 as a
// single-track tag, its legacy form, or nothing (nil).
//
//   - Legacy tags and data go to everyone.
//   - A single-track enhanced tag goes to subscribers that declared its
//     codec (fourCcList or the FourCC info maps, Enhanced RTMP v2).
//   - A multitrack tag goes whole to subscribers that declared multitrack
//     (capsEx) and every codec in it. Others get its track 0 as a plain
//     enhanced tag if they take that codec, else nothing: a player that
//     cannot demultiplex tracks gets one track of each kind, the default
//     one (Enhanced RTMP v2, "Track Ordering": track 0).
//   - A subscriber that takes none of these gets avc1, mp4a and .mp3
//     (alone or as track 0) rewritten as the legacy tags it can play.
func (s *Subscription) pick(p *Packet) *Packet {
	if p.flags&fEnhanced == 0 || s.all {
		return p
	}
	if p.flags&fMultitrack == 0 {
		if s.takesAll(p) {
			return p
		}
		return p.legacyPacket() // avc1, mp4a, .mp3 in legacy form, or nothing
	}
	if s.multitrack && p.flags&fManyCodecs == 0 && s.takesAll(p) {
		return p
	}
	if alt := p.altPacket(); alt != nil && s.takesAll(alt) {
		return alt
	}
	return p.legacyPacket()
}

// push queues e and wakes the reader; the caller holds s.mu.
func (s *Subscription) push(e entry) {
	if s.pushQuiet(e) {
		s.signal()
	}
}

// pushQuiet queues e without waking the reader; it reports whether the
// queue was empty (the reader may be waiting: it needs a signal). The
// caller holds s.mu.
func (s *Subscription) pushQuiet(e entry) bool {
	s.q.push(e)
	if e.Packet != nil {
		s.qbytes += e.Packet.size()
		s.peak = max(s.peak, s.qbytes)
	}
	return s.q.len() == 1
}

func (s *Subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// oldest returns the queue time of the oldest entry queued or in flight.
func (s *Subscription) oldest() int64 {
	t := s.inflightAt
	if s.q.len() > 0 && (t == 0 || s.q.front().at < t) {
		t = s.q.front().at
	}
	return t
}

// enqueue queues p (already picked for this subscriber) under the queue
// policy. It runs on the publishing goroutine and never blocks; when it
// ends the subscriber, it returns true and the caller calls kill once it
// holds no lock (closing a socket waits for a writer blocked on it to let
// go). The policy:
//
//   - While waitKey is set, video is skipped up to the next key frame.
//   - When the queue is over its byte bound, or its oldest entry has waited
//     longer than its delay bound, the subscriber has fallen behind: its
//     queued video is dropped (not sequence headers, metadata, data or
//     audio) and video is skipped up to the next key frame.
//   - A subscriber that stays behind longer than its slow-consumer timeout,
//     or whose queue is still over the byte bound with nothing left to
//     drop, is closed as a slow consumer, unless it reports loss instead.
//
// held is the bytes the subscriber then holds (queued and in flight), for
// the caller's memory budget (see stream.chargeQueues).
func (s *Subscription) enqueue(p *Packet, now int64) (kill, wake bool, held int) {
	s.mu.Lock()
	kill, wake = s.enqueueLocked(p, now)
	held = s.qbytes
	s.mu.Unlock()
	return kill, wake, held
}

func (s *Subscription) enqueueLocked(p *Packet, now int64) (kill, wake bool) {
	if s.dead || s.finishing {
		return false, false
	}
	lim := &s.lim
	if s.behind != 0 && lim.slowTimeout > 0 && now-s.behind > int64(lim.slowTimeout) && !lim.reportLoss {
		s.endLocked(ReasonSlowConsumer)
		return true, false
	}
	if p.droppable() && s.waitKey {
		if p.flags&fKey == 0 {
			s.drop(1)
			return false, false
		}
		s.waitKey = false
	}
	over := (lim.queueBytes > 0 && s.qbytes+p.size() > lim.queueBytes) ||
		(lim.queueDelay > 0 && s.qbytes > 0 && now-s.oldest() > int64(lim.queueDelay))
	if over {
		if s.behind == 0 {
			s.behind = now
		}
		b, n := s.q.filter(func(e *entry) bool { return e.Packet == nil || !e.Packet.droppable() })
		s.qbytes -= b
		s.drop(n)
		if p.droppable() && p.flags&fKey != 0 {
			s.waitKey = false // the next key frame is this one
		} else {
			s.waitKey = true
			if p.droppable() {
				s.drop(1)
				p = nil
			}
		}
		if p != nil && lim.queueBytes > 0 && s.qbytes+p.size() > lim.queueBytes {
			if lim.reportLoss {
				// Nothing left to drop: lose this one too.
				s.drop(1)
				return false, false
			}
			s.endLocked(ReasonSlowConsumer)
			return true, false
		}
	}
	if p != nil {
		if s.lost > 0 && s.lim.reportLoss {
			wake = s.pushQuiet(entry{Item: Item{Notice: NoticeLoss, Lost: s.lost}, at: now})
			s.lost = 0
		}
		wake = s.pushQuiet(entry{Item: Item{Packet: p}, at: now}) || wake
	}
	return false, wake
}

func (s *Subscription) drop(n int) {
	s.dropped += uint64(n)
	s.lost += uint64(n)
}

// enqueueJoin queues the start of a new subscriber (data frames, headers,
// the cached GOP) without the overflow checks: the GOP bounds bound it.
func (s *Subscription) enqueueJoin(p *Packet, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.droppable() && s.waitKey {
		if p.flags&fKey == 0 {
			return
		}
		s.waitKey = false
	}
	s.push(entry{Item: Item{Packet: p}, at: now})
}

// notify queues a notice; notices are never dropped.
func (s *Subscription) notify(n Notice, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dead && !s.finishing {
		s.push(entry{Item: Item{Notice: n}, at: now})
	}
}

// skipToKey makes the subscriber skip video up to the next key frame: a
// new publisher's stream starts there.
func (s *Subscription) skipToKey() {
	s.mu.Lock()
	s.waitKey = true
	s.mu.Unlock()
}

// end stops the subscription with a reason at once (its queue is
// dropped); Read returns it.
func (s *Subscription) end(r Reason) {
	s.mu.Lock()
	s.endLocked(r)
	s.mu.Unlock()
}

func (s *Subscription) endLocked(r Reason) {
	if s.dead {
		return
	}
	s.dead, s.reason = true, r
	s.qbytes = 0
	s.q.clear()
	s.signal()
}

// finish ends the subscription with r once what is queued was read.
func (s *Subscription) finish(r Reason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead || s.finishing {
		return
	}
	if s.q.len() == 0 {
		s.endLocked(r)
		return
	}
	s.finishing, s.reason = true, r
}

// kill ends the subscription and calls its Stop, once.
func (s *Subscription) kill(r Reason) {
	s.end(r)
	if s.stop != nil {
		s.stopOnce.Do(func() { s.stop(r) })
	}
}

// ended returns the reason the hub ended the subscription, or ReasonNone.
func (s *Subscription) ended() Reason {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dead {
		return ReasonNone
	}
	return s.reason
}

// Ready returns the subscription's own signal: it receives when items
// were queued or the subscription ended. A subscriber that waits on
// other things too (a ticker, a request's context) selects on it and then
// calls TryRead.
func (s *Subscription) Ready() <-chan struct{} { return s.wake }

// TryRead appends every queued item to buf, in order, and returns it
// without waiting (an empty result: nothing queued). The items returned by
// the previous read count against the queue bounds until this call: read,
// write what you got, read again. Once the subscription has ended and its
// queue is drained, it returns an *EndError with the reason.
func (s *Subscription) TryRead(buf []Item) ([]Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked()
	if s.dead {
		return buf, &EndError{Reason: s.reason}
	}
	if s.q.len() == 0 {
		if s.finishing {
			s.endLocked(s.reason)
			return buf, &EndError{Reason: s.reason}
		}
		return buf, nil
	}
	s.inflightAt = s.q.front().at
	n0 := len(buf)
	buf = s.q.drain(buf)
	size := 0
	for i := n0; i < len(buf); i++ {
		if p := buf[i].Packet; p != nil {
			s.inflightBytes += p.size()
			size += len(p.payload)
			s.sent++
		}
	}
	s.sentBytes += uint64(size)
	if s.clock != nil {
		s.out.add(s.clock(), size)
	}
	return buf, nil
}

// releaseLocked accounts for the items of the previous read as written:
// they stop counting against the queue bounds.
func (s *Subscription) releaseLocked() {
	if s.inflightAt == 0 && s.inflightBytes == 0 {
		return
	}
	if !s.dead {
		s.qbytes -= s.inflightBytes
	}
	s.inflightAt, s.inflightBytes = 0, 0
	if s.q.len() == 0 {
		s.behind = 0
	}
}

// Read waits until items are queued, then returns them as TryRead does. It
// returns ctx's error when ctx ends first.
func (s *Subscription) Read(ctx context.Context, buf []Item) ([]Item, error) {
	for {
		out, err := s.TryRead(buf)
		if err != nil || len(out) > len(buf) {
			return out, err
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return buf, ctx.Err()
		}
	}
}

// SubscriptionStats are a subscription's counters.
type SubscriptionStats struct {
	// Packets and Bytes count the packets handed out by reads (payload
	// bytes).
	Packets, Bytes uint64
	// Dropped counts packets skipped by the queue policy.
	Dropped uint64
	// Queued is the bytes queued and in flight; PeakQueue the most so far.
	Queued, PeakQueue int
	// Bitrate is the bits per second read over the last whole second.
	Bitrate int64
}

// Stats returns the subscription's counters.
func (s *Subscription) Stats() SubscriptionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SubscriptionStats{Packets: s.sent, Bytes: s.sentBytes, Dropped: s.dropped, Queued: s.qbytes, PeakQueue: s.peak}
	if s.clock != nil {
		st.Bitrate = s.out.rate(s.clock())
	}
	return st
}

// Close detaches the subscriber from the stream: the client went away.
func (s *Subscription) Close() { s.CloseWith(ReasonClientClosed, nil) }

// CloseWith detaches the subscriber with the reason (and error) it ended
// for; when the hub ended it first, the hub's reason wins. The End hook
// runs once, on the calling goroutine. Safe to call more than once.
func (s *Subscription) CloseWith(r Reason, err error) {
	s.closeOnce.Do(func() {
		// Use up Stop: once Close returns, Stop has run or never will (a
		// Stop in progress finishes first; sync.Once waits for it).
		s.stopOnce.Do(func() {})
		s.mu.Lock()
		s.releaseLocked()
		if s.dead && s.reason != ReasonNone {
			r, err = s.reason, nil
		}
		s.endLocked(r)
		e := SessionEnd{Reason: r, Err: err, Packets: s.sent, Bytes: s.sentBytes, Dropped: s.dropped, PeakQueue: s.peak}
		s.mu.Unlock()
		s.st.leave(s)
		s.hub.endSession(s.sess, s.st, e)
	})
}
