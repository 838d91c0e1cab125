package live

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live/internal/testpeer"
	"github.com/ertmp/rtmp/message"
)

type fanout struct {
	h    *Hub
	st   *stream
	me   *Publication
	wg   sync.WaitGroup
	done chan struct{}
	runs sync.WaitGroup
	n    int
	body []byte
	ts   uint32
}

// newFanout makes a published stream with n subscribers, each with a
// reader goroutine that takes each packet's chunked bytes as an RTMP
// player's writer does, and no bound that could drop or close one.
func newFanout(n int) *fanout {
	f := &fanout{n: n, done: make(chan struct{}), body: avcFrame(false, 1)}
	f.body = append(f.body, make([]byte, 4096)...)
	f.h = NewHub(Config{QueueMaxBytes: -1, QueueMaxDelay: -1, SlowConsumerTimeout: -1, GOPMaxPackets: -1, PingInterval: -1})
	f.st = newStream(f.h, Key{"live", "bench"})
	f.me = &Publication{hub: f.h, st: f.st}
	f.st.claim(f.me, false)
	for range n {
		s := newSubscriber(f.h, f.h.subLimits("live", &SubscribeOptions{}))
		s.prepare = func(p *Packet) { p.Prepared(rtmp.DefaultChunkSize, 1) } // as RTMP players do
		f.st.join(s)
		s.mu.Lock()
		s.waitKey = false
		s.mu.Unlock()
		f.runs.Add(1)
		go func() {
			defer f.runs.Done()
			var items []Item
			for {
				items, _ = s.TryRead(items[:0])
				if len(items) == 0 {
					select {
					case <-s.Ready():
						continue
					case <-f.done:
						return
					}
				}
				for _, it := range items {
					if _, err := it.Packet.Prepared(rtmp.DefaultChunkSize, 1); err == nil {
						f.wg.Done()
					}
				}
				clear(items)
			}
		}()
	}
	return f
}

// one publishes a message and waits until every subscriber's writer has
// written it.
func (f *fanout) one() {
	f.wg.Add(f.n)
	f.ts += 40
	f.st.publish(f.me, rtmp.Packet{Type: message.TypeVideo, Timestamp: f.ts, Payload: f.body}, f.h.now())
	f.wg.Wait()
}

func (f *fanout) stop() {
	close(f.done)
	f.runs.Wait()
}

// BenchmarkFanout: one 4 KiB video message to N subscribers, until every
// subscriber's writer has taken it (queued by reference, chunked once,
// written by each writer goroutine).
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			f := newFanout(n)
			defer f.stop()
			f.one()
			b.ReportAllocs()
			b.SetBytes(int64(len(f.body) * n))
			b.ResetTimer()
			for b.Loop() {
				f.one()
			}
		})
	}
}

// The fan-out allocates per message (the Packet and its one chunked
// encoding), never per subscriber.
func TestFanoutAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var perN []float64
	for _, n := range []int{1, 10, 100} {
		f := newFanout(n)
		f.one()
		a := testing.AllocsPerRun(200, f.one)
		f.stop()
		perN = append(perN, a)
		t.Logf("N=%d: %.2f allocations per message", n, a)
	}
	for i, a := range perN {
		// Packet, Prepared and its wire bytes
		if a > 3.5 {
			t.Errorf("N=%d: %.2f allocations per message, want at most 3", []int{1, 10, 100}[i], a)
		}
	}
}

// BenchmarkFanoutTCP is the whole path over loopback: a publisher's
// message through rtmp.Server and the hub to N real player connections
// (chunked once, written with writev by each player's writer), until every
// player's reader has read it. The readers reuse their buffers, so the
// allocations counted are the server's.
func BenchmarkFanoutTCP(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			// No merge window: the benchmark times one message's way
			// through (ertmp bench measures the window's trade).
			hub := NewHub(Config{Logger: slog.New(slog.DiscardHandler), QueueMaxBytes: -1, QueueMaxDelay: -1, SlowConsumerTimeout: -1, PingInterval: -1, MergeWindow: -1})
			srv := &rtmp.Server{Handler: hub, Logger: slog.New(slog.DiscardHandler)}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go srv.Serve(ln)
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				hub.Shutdown(ctx)
				srv.Shutdown(ctx)
			}()
			addr := ln.Addr().String()
			pub, err := testpeer.Dial(addr, 5*time.Second, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer pub.Close()
			if err := pub.Connect("live", nil); err != nil {
				b.Fatal(err)
			}
			if code, err := pub.Publish("bench"); err != nil || code != message.CodePublishStart {
				b.Fatal(code, err)
			}
			var got sync.WaitGroup
			for range n {
				p, err := testpeer.Dial(addr, 5*time.Second, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				if err := p.Connect("live", nil); err != nil {
					b.Fatal(err)
				}
				if err := p.Play("bench"); err != nil {
					b.Fatal(err)
				}
				for {
					m, err := p.ReadMessage()
					if err != nil {
						b.Fatal(err)
					}
					if m.Status() == message.CodePlayStart {
						break
					}
				}
				go func() {
					for {
						m, err := p.R.ReadMessage()
						if err != nil {
							return
						}
						if message.Type(m.TypeID) == message.TypeVideo {
							got.Done()
						}
					}
				}()
			}
			for {
				if si := hub.Streams(); len(si) == 1 && si[0].Subscribers == n {
					break
				}
				time.Sleep(time.Millisecond)
			}
			body := append(avcFrame(true, 1), make([]byte, 4096)...)
			ts := uint32(0)
			one := func() {
				got.Add(n)
				ts += 40
				if err := pub.Media(message.TypeVideo, ts, body); err != nil {
					b.Fatal(err)
				}
				got.Wait()
			}
			one()
			b.ReportAllocs()
			b.SetBytes(int64(len(body) * n))
			b.ResetTimer()
			for b.Loop() {
				one()
			}
		})
	}
}
