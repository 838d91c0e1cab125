// Command relay is a small example of the ertmp server API: one publisher
// per stream name is relayed to any number of players. Late players get the
// metadata and sequence headers first. (The real live server, with GOP
// cache and slow-consumer handling, is ertmp serve.)
//
//	go run ./examples/relay -listen :1935
//	ffmpeg -re -i in.flv -c copy -f flv rtmp://127.0.0.1/live/key
//	ffplay rtmp://127.0.0.1/live/key
package main

import (
	"flag"
	"log"
	"sync"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// stream is one published stream and its players.
type stream struct {
	mu      sync.Mutex
	headers []rtmp.Packet // metadata and sequence headers, for late players
	players map[chan rtmp.Packet]struct{}
	ended   chan struct{}
}

// relay maps stream names to streams.
type relay struct {
	mu      sync.Mutex
	streams map[string]*stream
	ready   *sync.Cond
}

func newRelay() *relay {
	r := &relay{streams: map[string]*stream{}}
	r.ready = sync.NewCond(&r.mu)
	return r
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
	rl.mu.Lock()
	if _, busy := rl.streams[key]; busy {
		rl.mu.Unlock()
		req.Reject(rtmp.CodePublishBadName, "already publishing")
		return
	}
	st := &stream{players: map[chan rtmp.Packet]struct{}{}, ended: make(chan struct{})}
	rl.streams[key] = st
	rl.ready.Broadcast()
	rl.mu.Unlock()
	defer func() {
		rl.mu.Lock()
		delete(rl.streams, key)
		rl.mu.Unlock()
		close(st.ended)
	}()

	ps, err := req.AcceptPublish()
	if err != nil {
		return
	}
	for {
		pk, err := ps.ReadPacket()
		if err != nil {
			return
		}
		st.mu.Lock()
		if isHeader(pk) {
			st.headers = append(st.headers, pk)
		}
		for ch := range st.players {
			select {
			case ch <- pk:
			default: // a player that cannot keep up loses packets, never the publisher
			}
		}
		st.mu.Unlock()
	}
}

// isHeader reports metadata and decoder configuration packets.
func isHeader(pk rtmp.Packet) bool {
	switch pk.Type {
	case message.TypeDataAMF0, message.TypeDataAMF3:
		return true
	case message.TypeVideo:
		var v flv.VideoTag
		return v.Unmarshal(pk.Payload) == nil && v.IsSequenceHeader()
	case message.TypeAudio:
		var a flv.AudioTag
		return a.Unmarshal(pk.Payload) == nil && a.IsSequenceHeader()
	}
	return false
}

func (rl *relay) play(key string, req *rtmp.Request) {
	// Wait a little for a publisher that is about to start.
	deadline := time.Now().Add(5 * time.Second)
	rl.mu.Lock()
	st := rl.streams[key]
	for st == nil && time.Now().Before(deadline) {
		go func() { time.Sleep(100 * time.Millisecond); rl.ready.Broadcast() }()
		rl.ready.Wait()
		st = rl.streams[key]
	}
	rl.mu.Unlock()
	if st == nil {
		req.Reject(rtmp.CodePlayNotFound, "no such stream")
		return
	}
	ps, err := req.AcceptPlay(nil)
	if err != nil {
		return
	}
	defer ps.Close()
	ch := make(chan rtmp.Packet, 1024)
	st.mu.Lock()
	for _, pk := range st.headers {
		ch <- pk
	}
	st.players[ch] = struct{}{}
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		delete(st.players, ch)
		st.mu.Unlock()
	}()
	for {
		select {
		case pk := <-ch:
			if pk.Type == message.TypeDataAMF0 || pk.Type == message.TypeDataAMF3 {
				// A publisher's @setDataFrame reaches players as the frame itself.
				if d, err := message.UnmarshalData(pk.Type, pk.Payload); err == nil {
					ps.WriteMetadata(pk.Timestamp, d.Unwrap())
				}
			} else if ps.WritePacket(pk) != nil {
				return
			}
			if len(ch) == 0 && ps.Flush() != nil {
				return
			}
		case <-st.ended:
			// Send what is still queued, then end.
			for len(ch) > 0 {
				ps.WritePacket(<-ch)
			}
			ps.Flush()
			return
		case <-ps.Done():
			return
		}
	}
}

func main() {
	addr := flag.String("listen", ":1935", "address to listen on")
	flag.Parse()
	srv := &rtmp.Server{Addr: *addr, Handler: newRelay()}
	log.Printf("relay listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
