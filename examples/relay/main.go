// Command relay is a small example of the ertmp server API: one publisher
// per stream name is relayed to any number of players. Late players get the
// metadata and the latest sequence headers first, then video from the next
// key frame. (The real live server, with a GOP cache, Enhanced RTMP track
// selection and more, is ertmp serve.)
//
//	go run ./examples/relay -listen :1935
//	ffmpeg -re -i in.flv -c copy -f flv rtmp://127.0.0.1/live/key
//	ffplay rtmp://127.0.0.1/live/key
//
// It is written to be copied, so it keeps the two rules a relay lives by:
//
//   - The publisher never waits for a player. Each player has its own
//     queue, bounded by packets and bytes; the publisher appends to it
//     without blocking, under no lock but the queue's own, and never
//     sends on a channel that could be full. A player whose queue
//     overflows is disconnected (its write is cut short by a deadline),
//     and the others go on.
//   - Whatever a publisher can make the relay keep is bounded: the latest
//     sequence header of each of audio and video, and at most maxFrames
//     data frames.
package main

import (
	"flag"
	"log"
	"sync"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/message"
)

// Limits.
const (
	maxQueuePackets = 2048    // a player's queue, in packets
	maxQueueBytes   = 8 << 20 // and in bytes
	maxFrames       = 8       // data frames (@setDataFrame) kept per stream
	playWait        = 5 * time.Second
)

// stream is one published stream and its players.
type stream struct {
	mu sync.Mutex
	// Guarded by mu; written by the publisher's goroutine.
	videoHeader, audioHeader *rtmp.Packet // latest sequence headers
	frames                   []frame      // at most maxFrames
	last                     uint32       // timestamp of the latest media packet
	players                  map[*player]struct{}
	ended                    bool
}

// frame is a data frame a publisher set with @setDataFrame, unwrapped.
type frame struct {
	name string
	pk   rtmp.Packet
}

// player is one player's queue: filled by the publisher's goroutine,
// drained by the player's. Safe for concurrent use.
type player struct {
	mu      sync.Mutex
	queue   []rtmp.Packet
	bytes   int
	ended   bool // the publisher is gone: send what is queued, then stop
	slow    bool // the queue overflowed: stop now
	wake    chan struct{}
	session *rtmp.PlaySession
}

// push queues pk without blocking. It reports true when this packet made
// the player fall too far behind: the caller cuts it off.
func (p *player) push(pk rtmp.Packet) (overflow bool) {
	p.mu.Lock()
	switch {
	case p.slow:
	case len(p.queue) >= maxQueuePackets || p.bytes+len(pk.Payload) > maxQueueBytes:
		p.slow, overflow = true, true
		clear(p.queue)
		p.queue, p.bytes = nil, 0
	default:
		p.queue = append(p.queue, pk)
		p.bytes += len(pk.Payload)
	}
	p.mu.Unlock()
	p.signal()
	return overflow
}

// signal wakes the player's goroutine; it never blocks.
func (p *player) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// take returns what is queued, and whether the player must stop after
// sending it (ended) or at once (slow).
func (p *player) take(buf []rtmp.Packet) (pks []rtmp.Packet, ended, slow bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pks = append(buf[:0], p.queue...)
	clear(p.queue)
	p.queue, p.bytes = p.queue[:0], 0
	return pks, p.ended, p.slow
}

// relay maps stream names to streams.
type relay struct {
	mu      sync.Mutex
	streams map[string]*stream
	// published is closed, and replaced, whenever a stream starts, to wake
	// the players waiting for one.
	published chan struct{}
}

func newRelay() *relay {
	return &relay{streams: map[string]*stream{}, published: make(chan struct{})}
}

func (rl *relay) ServeRTMP(req *rtmp.Request) {
	key := req.App + "/" + req.StreamName
	switch req.Kind {
	case rtmp.KindPublish:
		rl.publish(key, req)
	case rtmp.KindPlay:
		rl.play(key, req)
	}
}

func (rl *relay) publish(key string, req *rtmp.Request) {
	st := &stream{players: map[*player]struct{}{}}
	rl.mu.Lock()
	if _, busy := rl.streams[key]; busy {
		rl.mu.Unlock()
		req.Reject(message.CodePublishBadName, "already publishing")
		return
	}
	rl.streams[key] = st
	close(rl.published)
	rl.published = make(chan struct{})
	rl.mu.Unlock()
	defer func() {
		rl.mu.Lock()
		delete(rl.streams, key)
		rl.mu.Unlock()
		st.end()
	}()

	ps, err := req.AcceptPublish()
	if err != nil {
		return
	}
	var players []*player // reused: the publisher's snapshot of the players
	for {
		pk, err := ps.ReadPacket()
		if err != nil {
			return
		}
		pk, ok := st.keep(pk)
		if !ok {
			continue
		}
		// Fan out outside the stream's lock: a snapshot of the players,
		// then one non-blocking push each.
		st.mu.Lock()
		players = players[:0]
		for p := range st.players {
			players = append(players, p)
		}
		st.mu.Unlock()
		for _, p := range players {
			if p.push(pk) {
				// Cut the slow player off: a write deadline in the past
				// ends the write it may be blocked in. Its own goroutine
				// then closes the session.
				log.Printf("relay: %s: player %s fell behind; disconnecting it", key, p.session.RemoteAddr())
				p.session.Request().Conn().NetConn().SetWriteDeadline(time.Now())
			}
		}
		clear(players)
	}
}

// keep updates what late players get and returns the packet to relay: media
// as is, @setDataFrame as the frame it wraps. ok is false for what is not
// relayed (commands and shared objects of the publisher, @clearDataFrame).
func (st *stream) keep(pk rtmp.Packet) (rtmp.Packet, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch pk.Type {
	case message.TypeVideo, message.TypeAudio:
		st.last = pk.Timestamp
		if pk.IsSequenceHeader() {
			h := pk
			if pk.Type == message.TypeVideo {
				st.videoHeader = &h
			} else {
				st.audioHeader = &h
			}
		}
		return pk, true
	case message.TypeDataAMF0, message.TypeDataAMF3:
		d, err := message.UnmarshalData(pk.Type, pk.Payload)
		if err != nil {
			return pk, true
		}
		switch {
		case d.IsSetDataFrame():
			// Players get what @setDataFrame wraps (usually onMetaData).
			u := d.Unwrap()
			b, err := u.AppendPayload(nil)
			if err != nil {
				return pk, false
			}
			pk.Payload = b
			name, _ := u.Name()
			st.setFrame(name, pk)
			return pk, true
		case d.IsClearDataFrame():
			if len(d.Values) > 1 {
				name, _ := message.Data{Values: d.Values[1:]}.Name()
				st.setFrame(name, rtmp.Packet{})
			}
			return pk, false
		}
		return pk, true // other data (onCuePoint...) is relayed, not kept
	}
	return pk, false
}

// setFrame stores (or, for a zero packet, clears) the data frame called
// name. Past maxFrames names, new ones are relayed but not kept.
func (st *stream) setFrame(name string, pk rtmp.Packet) {
	for i, f := range st.frames {
		if f.name == name {
			if pk.Payload == nil {
				st.frames = append(st.frames[:i], st.frames[i+1:]...)
			} else {
				st.frames[i].pk = pk
			}
			return
		}
	}
	if pk.Payload != nil && len(st.frames) < maxFrames {
		st.frames = append(st.frames, frame{name, pk})
	}
}

// join adds a player, its queue primed with the data frames and the latest
// sequence headers, stamped at the stream's current time.
func (st *stream) join(p *player) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		return false
	}
	for _, f := range st.frames {
		p.queue = append(p.queue, rtmp.Packet{Type: f.pk.Type, Timestamp: st.last, Payload: f.pk.Payload})
	}
	for _, h := range []*rtmp.Packet{st.videoHeader, st.audioHeader} {
		if h != nil {
			p.queue = append(p.queue, rtmp.Packet{Type: h.Type, Timestamp: st.last, Payload: h.Payload})
		}
	}
	st.players[p] = struct{}{}
	p.signal()
	return true
}

func (st *stream) leave(p *player) {
	st.mu.Lock()
	delete(st.players, p)
	st.mu.Unlock()
}

// end tells every player the stream ended.
func (st *stream) end() {
	st.mu.Lock()
	st.ended = true
	players := make([]*player, 0, len(st.players))
	for p := range st.players {
		players = append(players, p)
	}
	st.mu.Unlock()
	for _, p := range players {
		p.mu.Lock()
		p.ended = true
		p.mu.Unlock()
		p.signal()
	}
}

// await returns the stream called key, waiting up to playWait for a
// publisher that is about to start.
func (rl *relay) await(key string) *stream {
	timeout := time.NewTimer(playWait)
	defer timeout.Stop()
	for {
		rl.mu.Lock()
		st, published := rl.streams[key], rl.published
		rl.mu.Unlock()
		if st != nil {
			return st
		}
		select {
		case <-published:
		case <-timeout.C:
			return nil
		}
	}
}

func (rl *relay) play(key string, req *rtmp.Request) {
	st := rl.await(key)
	if st == nil {
		req.Reject(message.CodePlayStreamNotFound, "no such stream")
		return
	}
	ps, err := req.AcceptPlay(nil)
	if err != nil {
		return
	}
	defer ps.Close()
	p := &player{wake: make(chan struct{}, 1), session: ps}
	if !st.join(p) {
		return
	}
	defer st.leave(p)
	var (
		buf     []rtmp.Packet
		started bool // video flows from a key frame on
	)
	for {
		select {
		case <-p.wake:
		case <-ps.Done():
			return
		}
		pks, ended, slow := p.take(buf)
		if slow {
			return
		}
		for _, pk := range pks {
			if pk.Type == message.TypeVideo && !started && !pk.IsSequenceHeader() {
				if !pk.IsKeyFrame() {
					continue
				}
				started = true
			}
			if ps.WritePacket(pk) != nil {
				return
			}
		}
		if ps.Flush() != nil || ended {
			return
		}
		clear(pks)
		buf = pks
	}
}

func main() {
	addr := flag.String("listen", ":1935", "address to listen on")
	flag.Parse()
	srv := &rtmp.Server{Addr: *addr, Handler: newRelay()}
	log.Printf("relay listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
