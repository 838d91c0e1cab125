package live

import (
	"sync"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// sink is where a subscriber's writer sends media: a *rtmp.PlaySession in
// the hub, a fake in benchmarks.
type sink interface {
	WritePrepared(*chunk.Prepared) error
	Flush() error
}

// notifier sends the in-band notices and pings of a player; nil in
// benchmarks.
type notifier interface {
	NotifyUnpublish() error
	SendPingRequest(uint32) error
}

type memoEntry struct {
	f     flv.FourCC
	audio bool
	ok    bool
}

// subscriber is one player of a stream: a bounded queue filled by the
// publishing goroutine and drained by the player's own writer goroutine
// (the connection's handler goroutine), which alone writes to the player's
// connection. The publisher never waits for it: enqueue takes the
// subscriber's mutex for a few instructions and never does I/O.
//
// Lock order: stream.mu, then subscriber.mu.
type subscriber struct {
	// Immutable after newSubscriber.
	out        sink
	note       notifier
	ps         *rtmp.PlaySession // nil in benchmarks
	chunkSize  uint32
	sid        uint32
	name       string
	caps       rtmp.Capabilities
	enhanced   bool // declared Enhanced RTMP capabilities
	anyCodec   bool // takes every single-track codec (ForwardUndeclared)
	multitrack bool
	lim        *limits
	clock      func() int64
	kill       func() // closes the connection: unblocks a writer stuck in a write
	wake       chan struct{}

	// Guarded by the stream's mutex: the codec memo (pick runs there).
	memo  [8]memoEntry
	nmemo int

	mu         sync.Mutex
	q          ring
	qbytes     int   // bytes queued and in flight
	inflightAt int64 // queue time of the oldest entry in flight; 0 if none
	waitKey    bool  // skipping video up to the next key frame
	behind     int64 // when the queue overflowed; 0 once it emptied again
	dead       bool  // ended by the hub: reason says why
	reason     Reason
	sent       uint64
	dropped    uint64
	peak       int

	// Owned by the writer goroutine.
	batch []entry
}

func newSubscriber(out sink, lim *limits, clock func() int64) *subscriber {
	return &subscriber{out: out, lim: lim, clock: clock, chunkSize: rtmp.DefaultChunkSize, sid: 1,
		wake: make(chan struct{}, 1), kill: func() {}}
}

// takes reports whether the player can receive Enhanced RTMP audio or video
// of codec f. It runs under the stream's mutex; the answer is memoized, as
// Capabilities compares strings.
func (s *subscriber) takes(audio bool, f flv.FourCC) bool {
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

func (s *subscriber) takesAll(p *packet) bool {
	audio := p.typ == message.TypeAudio
	for _, f := range p.codecs[:p.ncodecs] {
		if !s.takes(audio, f) {
			return false
		}
	}
	return true
}

// pick chooses what the player gets of p: p itself, its track 0 as a
// single-track tag, or nothing (nil).
//
//   - Legacy tags and data go to everyone.
//   - A single-track enhanced tag goes to players that declared its codec
//     (fourCcList or the FourCC info maps, Enhanced RTMP v2).
//   - A multitrack tag goes whole to players that declared multitrack
//     (capsEx) and every codec in it. Others get its track 0 as a plain
//     enhanced tag if they take that codec, else nothing: a player that
//     cannot demultiplex tracks gets one track of each kind, the default
//     one (Enhanced RTMP v2, "Track Ordering": track 0).
//   - A player that takes none of these gets avc1, mp4a and .mp3 (alone
//     or as track 0) rewritten as the legacy tags it can play.
func (s *subscriber) pick(p *packet) *packet {
	if p.flags&fEnhanced == 0 {
		return p
	}
	if p.flags&fMultitrack == 0 {
		if s.takesAll(p) {
			return p
		}
		return p.legacy // avc1, mp4a, .mp3 in legacy form, or nothing
	}
	if s.multitrack && p.flags&fManyCodecs == 0 && s.takesAll(p) {
		return p
	}
	if p.alt != nil && s.takesAll(p.alt) {
		return p.alt
	}
	return p.legacy
}

// push queues e and wakes the writer; the caller holds s.mu.
func (s *subscriber) push(e entry) {
	s.q.push(e)
	if e.p != nil {
		s.qbytes += e.p.size()
		s.peak = max(s.peak, s.qbytes)
	}
	if s.q.len() == 1 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// oldest returns the queue time of the oldest entry queued or in flight.
func (s *subscriber) oldest() int64 {
	t := s.inflightAt
	if s.q.len() > 0 && (t == 0 || s.q.front().at < t) {
		t = s.q.front().at
	}
	return t
}

// enqueue queues p (already picked for this player) under the queue
// policy. It runs on the publishing goroutine and never blocks; when it
// ends the player, it returns true and the caller calls kill once it holds
// no lock (closing a socket waits for a writer blocked on it to let go).
// The policy:
//
//   - While waitKey is set, video is skipped up to the next key frame.
//   - When the queue is over QueueMaxBytes, or its oldest entry has waited
//     longer than QueueMaxDelay, the player has fallen behind: its queued
//     video is dropped (not sequence headers, metadata, data or audio) and
//     video is skipped up to the next key frame.
//   - A player that stays behind longer than SlowConsumerTimeout, or whose
//     queue is still over the byte bound with nothing left to drop, is
//     closed as a slow consumer.
func (s *subscriber) enqueue(p *packet, now int64) (kill bool) {
	s.mu.Lock()
	if s.dead {
		s.mu.Unlock()
		return false
	}
	lim := s.lim
	if s.behind != 0 && lim.slowTimeout > 0 && now-s.behind > int64(lim.slowTimeout) {
		s.endLocked(ReasonSlowConsumer)
		s.mu.Unlock()
		return true
	}
	if p.droppable() && s.waitKey {
		if p.flags&fKey == 0 {
			s.dropped++
			s.mu.Unlock()
			return false
		}
		s.waitKey = false
	}
	over := (lim.queueBytes > 0 && s.qbytes+p.size() > lim.queueBytes) ||
		(lim.queueDelay > 0 && s.qbytes > 0 && now-s.oldest() > int64(lim.queueDelay))
	if over {
		if s.behind == 0 {
			s.behind = now
		}
		b, n := s.q.filter(func(e *entry) bool { return e.p == nil || !e.p.droppable() })
		s.qbytes -= b
		s.dropped += uint64(n)
		if p.droppable() && p.flags&fKey != 0 {
			s.waitKey = false // the next key frame is this one
		} else {
			s.waitKey = true
			if p.droppable() {
				s.dropped++
				p = nil
			}
		}
		if p != nil && lim.queueBytes > 0 && s.qbytes+p.size() > lim.queueBytes {
			s.endLocked(ReasonSlowConsumer)
			s.mu.Unlock()
			return true
		}
	}
	if p != nil {
		s.push(entry{p: p, at: now})
	}
	s.mu.Unlock()
	return false
}

// enqueueJoin queues the start of a new player (data frames, headers, the
// cached GOP) without the overflow checks: the GOP bounds bound it.
func (s *subscriber) enqueueJoin(p *packet, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.droppable() && s.waitKey {
		if p.flags&fKey == 0 {
			return
		}
		s.waitKey = false
	}
	s.push(entry{p: p, at: now})
}

// notify queues a notice; notices are never dropped.
func (s *subscriber) notify(c ctl, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dead {
		s.push(entry{ctl: c, at: now})
	}
}

// skipToKey makes the player skip video up to the next key frame: a new
// publisher's stream starts there.
func (s *subscriber) skipToKey() {
	s.mu.Lock()
	s.waitKey = true
	s.mu.Unlock()
}

// end stops the subscriber with a reason; the writer returns it.
func (s *subscriber) end(r Reason) {
	s.mu.Lock()
	s.endLocked(r)
	s.mu.Unlock()
}

func (s *subscriber) endLocked(r Reason) {
	if s.dead {
		return
	}
	s.dead, s.reason = true, r
	s.q.clear()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ended returns the reason the hub ended the subscriber, or ReasonNone.
func (s *subscriber) ended() Reason {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// runEnv is what the writer watches besides its queue.
type runEnv struct {
	hubDone    <-chan struct{}
	playerDone <-chan struct{}
}

// run is the writer: it waits for queued entries, takes all of them, writes
// them (packets by their shared chunked bytes) and flushes once. It
// returns why it stopped, with the write error if one did it.
func (s *subscriber) run(env runEnv) (Reason, error) {
	var pingC, graceC <-chan time.Time
	if s.note != nil && s.lim.pingInterval > 0 {
		t := time.NewTicker(s.lim.pingInterval)
		defer t.Stop()
		pingC = t.C
	}
	var grace *time.Timer
	defer func() {
		if grace != nil {
			grace.Stop()
		}
	}()
	start := s.clock()
	for {
		s.mu.Lock()
		for s.q.len() == 0 && !s.dead {
			s.mu.Unlock()
			select {
			case <-s.wake:
			case <-env.hubDone:
				s.end(ReasonShutdown)
			case <-env.playerDone:
				return ReasonClientClosed, nil
			case <-pingC:
				if err := s.note.SendPingRequest(uint32((s.clock() - start) / 1e6)); err != nil {
					return s.failed(err)
				}
			case <-graceC:
				s.mu.Lock()
				if s.q.len() == 0 {
					s.endLocked(ReasonPublisherGone)
				}
				s.mu.Unlock()
				graceC = nil
			}
			s.mu.Lock()
		}
		if s.dead {
			r := s.reason
			s.mu.Unlock()
			return r, nil
		}
		s.batch = s.q.drain(s.batch[:0])
		s.inflightAt = s.batch[0].at
		s.mu.Unlock()

		bytes, n := 0, 0
		var err error
		for i := range s.batch {
			e := &s.batch[i]
			if e.p != nil {
				bytes += e.p.size()
				n++
				var m *chunk.Prepared
				if m, err = e.p.prepared(s.chunkSize, s.sid); err == nil {
					err = s.out.WritePrepared(m)
				}
			} else {
				switch e.ctl {
				case ctlUnpublished:
					if err = s.notifyUnpublish(); err == nil {
						if s.lim.grace <= 0 {
							s.end(ReasonPublisherGone)
						} else {
							if grace == nil {
								grace = time.NewTimer(s.lim.grace)
							} else {
								grace.Reset(s.lim.grace)
							}
							graceC = grace.C
						}
					}
				case ctlPublished:
					graceC = nil
					err = s.notifyPublish()
				}
			}
			if err != nil {
				break
			}
		}
		if err == nil {
			err = s.out.Flush()
		}
		clear(s.batch)
		s.mu.Lock()
		s.qbytes -= bytes
		s.sent += uint64(n)
		s.inflightAt = 0
		if s.q.len() == 0 {
			s.behind = 0
		}
		s.mu.Unlock()
		if err != nil {
			return s.failed(err)
		}
		// A writer that never idles still pings: a player that only
		// watches answers pings and little else, and its connection's read
		// timeout counts on them.
		select {
		case <-env.hubDone:
			s.end(ReasonShutdown)
		case <-pingC:
			if err := s.note.SendPingRequest(uint32((s.clock() - start) / 1e6)); err != nil {
				return s.failed(err)
			}
		default:
		}
	}
}

// failed is the reason for a write error: the hub's own reason when it
// closed the connection (a slow consumer), else the error's.
func (s *subscriber) failed(err error) (Reason, error) {
	if r := s.ended(); r != ReasonNone {
		return r, nil
	}
	return reasonFor(err), err
}

func (s *subscriber) notifyUnpublish() error {
	if s.note == nil {
		return nil
	}
	return s.note.NotifyUnpublish()
}

// notifyPublish tells the player a publisher is back: StreamBegin, then
// onStatus NetStream.Play.PublishNotify, as after UnpublishNotify.
func (s *subscriber) notifyPublish() error {
	if s.ps == nil {
		return nil
	}
	conn := s.ps.Request().Conn()
	if err := conn.Write(rtmp.CSIDControl, 0, 0, message.NewStreamBegin(s.sid)); err != nil {
		return err
	}
	return conn.Write(rtmp.CSIDData, s.sid, 0, message.NewOnStatus("status", message.CodePlayPublishNotify, s.name+" is now published."))
}

// stats returns the counters for SessionInfo.
func (s *subscriber) stats() (sent, dropped uint64, peak int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent, s.dropped, s.peak
}
