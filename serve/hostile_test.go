package serve

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

// legit is a well-behaved publisher and player of one stream, running
// beside the hostile clients: 30 frames a second, a key frame a second.
type legit struct {
	got    atomic.Int64 // video packets the player received
	err    atomic.Value // the first error of either side
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func startLegit(t *testing.T, r *running) *legit {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &legit{cancel: cancel}
	pub, err := rtmp.DialPublish(ctx, r.url("live/legit"), nil)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 9, 0x65}
	inter := append([]byte{0x27, 1, 0, 0, 0, 0, 0, 0, 200, 0x41}, make([]byte, 200)...)
	if err := pub.WriteAVCSequenceHeader(0, []byte{1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 4, 0x68, 0xee, 0x3c, 0x80}); err != nil {
		t.Fatal(err)
	}
	l.done.Add(2)
	go func() {
		defer l.done.Done()
		defer pub.Close()
		tick := time.NewTicker(33 * time.Millisecond)
		defer tick.Stop()
		for i := uint32(0); ; i++ {
			p := inter
			if i%30 == 0 {
				p = key
			}
			if err := pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: i * 33, Payload: p}); err != nil {
				l.err.CompareAndSwap(nil, fmt.Errorf("legit publisher: %w", err))
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	play, err := rtmp.DialPlay(ctx, r.url("live/legit"), nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer l.done.Done()
		defer play.Close()
		for {
			pk, err := play.ReadPacket()
			if err != nil {
				if ctx.Err() == nil {
					l.err.CompareAndSwap(nil, fmt.Errorf("legit player: %w", err))
				}
				return
			}
			if pk.Type == message.TypeVideo {
				l.got.Add(1)
			}
		}
	}()
	t.Cleanup(func() { l.cancel(); l.done.Wait() })
	return l
}

// undisturbed checks that the legit player still receives: 15 more frames
// (half a second of the stream) within 10 s, and neither side failed.
func (l *legit) undisturbed(t *testing.T) {
	t.Helper()
	want := l.got.Load() + 15
	deadline := time.Now().Add(10 * time.Second)
	for l.got.Load() < want {
		if err, _ := l.err.Load().(error); err != nil {
			t.Fatalf("the legitimate stream was disturbed: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the legitimate player got %d frames, want %d", l.got.Load(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err, _ := l.err.Load().(error); err != nil {
		t.Fatalf("the legitimate stream was disturbed: %v", err)
	}
}

// raw is a client driven byte by byte through the codecs.
type raw struct {
	t  *testing.T
	nc net.Conn
	w  *chunk.Writer
}

// dialRaw connects and handshakes; rcvbuf, when positive, sets a small
// receive buffer before the connection is made.
func dialRaw(t *testing.T, addr string, rcvbuf int) *raw {
	t.Helper()
	d := net.Dialer{}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
		}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := handshake.Client(nc, nil); err != nil {
		t.Fatal(err)
	}
	return &raw{t: t, nc: nc, w: chunk.NewWriter(nc)}
}

func (c *raw) sendRaw(csid, sid, ts uint32, typ message.Type, payload []byte) error {
	if err := c.w.WriteMessage(chunk.Message{CSID: csid, Header: chunk.Header{Timestamp: ts, TypeID: uint8(typ), StreamID: sid}, Payload: payload}); err != nil {
		return err
	}
	return c.w.Flush()
}

func (c *raw) send(csid, sid uint32, m message.Message) error {
	p, err := m.AppendPayload(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.sendRaw(csid, sid, 0, m.Type(), p)
}

func command(name string, tx float64, obj amf0.Value, args ...amf0.Value) message.Command {
	return message.Command{Name: name, TransactionID: tx, Object: obj, Args: args}
}

// playNoRead plays a stream and never reads a byte of it.
func playNoRead(t *testing.T, addr, name string) *raw {
	c := dialRaw(t, addr, 4096)
	c.send(3, 0, command("connect", 1, amf0.Object{{Key: "app", Value: "live"}}))
	c.send(3, 0, command("createStream", 2, nil))
	c.send(8, 1, command("play", 3, nil, name))
	return c
}

// connCloses collects the server's OnConnClose events.
type connCloses struct {
	mu  sync.Mutex
	all []rtmp.ConnInfo
}

func (c *connCloses) add(ci rtmp.ConnInfo) {
	c.mu.Lock()
	c.all = append(c.all, ci)
	c.mu.Unlock()
}

// wait returns the first event from local address addr.
func (c *connCloses) wait(t *testing.T, addr net.Addr) rtmp.ConnInfo {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, ci := range c.all {
			if ci.RemoteAddr.String() == addr.String() {
				c.mu.Unlock()
				return ci
			}
		}
		c.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no close event for %v", addr)
	return rtmp.ConnInfo{}
}

// The hostile clients of issue 16, one after the other against one
// server, with a legitimate publisher and player running throughout: each
// hostile pattern ends the way it should, the memory budget holds (by its
// own counters), and the legitimate player keeps receiving.
func TestHostileClients(t *testing.T) {
	const budget = 40 << 20
	closes := &connCloses{}
	r := start(t, testConfig(t, `
memory_budget: 40MiB
rtmp:
  handshake_timeout: 1s
  request_timeout: 2s
  write_timeout: 3s
live:
  play_wait: 2s
  republish_grace: 0s
`), Options{OnConnClose: closes.add})
	addr := r.Addr().String()
	b := r.Hub().Budget()
	if b == nil || b.Limit() != budget {
		t.Fatalf("memory budget %v, want %d", b, budget)
	}
	l := startLegit(t, r)
	l.undisturbed(t)
	base := b.Used()
	settled := func(t *testing.T) {
		t.Helper()
		// Players that never read hold their queues until their writes
		// time out (rtmp.write_timeout).
		deadline := time.Now().Add(15 * time.Second)
		for b.Used() > base+1<<20 {
			if time.Now().After(deadline) {
				t.Fatalf("budget used %d, %d at the start", b.Used(), base)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	t.Run("distinct data frame names", func(t *testing.T) {
		pub, err := rtmp.DialPublish(context.Background(), r.url("live/frames"), nil)
		if err != nil {
			t.Fatal(err)
		}
		big := strings.Repeat("d", 256<<10)
		for i := range 200 { // 50 MB of frames under 200 names
			d := message.Data{Values: []amf0.Value{message.SetDataFrame, fmt.Sprintf("name%d", i), big}}
			if err := pub.WriteData(uint32(i), d); err != nil {
				t.Fatal(err)
			}
		}
		// The stream keeps at most MaxDataFrameBytes of them.
		if u := b.Used(); u > base+2<<20 {
			t.Fatalf("budget used %d after the flood, %d before", u, base)
		}
		pub.Close()
		l.undisturbed(t)
		settled(t)
	})

	t.Run("256 KB inter frames with players that do not read", func(t *testing.T) {
		before := b.Stats()
		var wg sync.WaitGroup
		frame := make([]byte, 256<<10)
		frame[0] = 0x27
		for i := range 4 {
			name := fmt.Sprintf("flood%d", i)
			pub, err := rtmp.DialPublish(context.Background(), r.url("live/"+name), nil)
			if err != nil {
				t.Fatal(err)
			}
			pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Payload: []byte{0x17, 1, 0, 0, 0, 1}})
			playNoRead(t, addr, name)
			playNoRead(t, addr, name)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer pub.Close()
				for j := range 120 { // 30 MB per stream
					if pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: uint32(j * 33), Payload: frame}) != nil {
						return
					}
				}
			}()
		}
		wg.Wait()
		l.undisturbed(t)
		st := b.Stats()
		t.Logf("budget %+v", st)
		if st.Peak > budget+budget/4 {
			t.Fatalf("budget peak %d, limit %d", st.Peak, budget)
		}
		if st.Closed == before.Closed && st.Trimmed == before.Trimmed {
			t.Fatalf("the budget neither closed players nor trimmed caches: %+v", st)
		}
		settled(t)
	})

	t.Run("16 MiB key frames at chunk size 0x7FFFFFFF", func(t *testing.T) {
		before := b.Stats()
		frame := make([]byte, chunk.MaxMessageLength)
		frame[0] = 0x17
		var wg sync.WaitGroup
		var refused atomic.Int32
		for i := range 3 {
			pub, err := rtmp.DialPublish(context.Background(), r.url(fmt.Sprintf("live/huge%d", i)), &rtmp.ClientConfig{ChunkSize: chunk.MaxChunkSize})
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer pub.Close()
				for j := range 3 {
					if pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: uint32(j * 1000), Payload: frame}) != nil {
						refused.Add(1)
						return
					}
				}
				// The server may refuse the last frame after it was sent:
				// a ping round trip tells.
				time.Sleep(200 * time.Millisecond)
				if pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: 5000, Payload: []byte{0x27, 1, 0, 0, 0}}) != nil {
					refused.Add(1)
				}
			}()
		}
		wg.Wait()
		l.undisturbed(t)
		st := b.Stats()
		t.Logf("budget %+v, %d publishers cut off", st, refused.Load())
		if st.Refused == before.Refused {
			t.Fatalf("no 16 MiB message refused: %+v", st)
		}
		if st.Peak > budget+budget/4 {
			t.Fatalf("budget peak %d, limit %d", st.Peak, budget)
		}
		settled(t)
	})

	t.Run("nested AMF3 reference lies in connect", func(t *testing.T) {
		// avmplus-object, then 40 nested arrays that each claim 2^28-1
		// dense elements, then references to objects that do not exist.
		lie := []byte{0x11}
		for range 40 {
			lie = append(lie, 0x09, 0xBF, 0xFF, 0xFF, 0xFF, 0x01)
		}
		for len(lie) < 60<<10 {
			lie = append(lie, 0x0A, 0x86, 0x00) // object reference 0x180
		}
		name, _ := amf0.Append(nil, "connect")
		tx, _ := amf0.Append(nil, 1.0)
		payload := append(append(name, tx...), lie...)
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		for range 20 {
			c := dialRaw(t, addr, 0)
			c.sendRaw(3, 0, 0, message.TypeCommandAMF0, payload)
			if ci := closes.wait(t, c.nc.LocalAddr()); ci.Reason != rtmp.ReasonProtocolError {
				t.Fatalf("closed with %v (%v), want protocol error", ci.Reason, ci.Err)
			}
		}
		runtime.ReadMemStats(&ms1)
		t.Logf("20 connects allocated %d KiB", (ms1.TotalAlloc-ms0.TotalAlloc)>>10)
		if d := ms1.TotalAlloc - ms0.TotalAlloc; d > 64<<20 {
			t.Fatalf("20 lying connects allocated %d MiB", d>>20)
		}
		l.undisturbed(t)
	})

	t.Run("long stream names", func(t *testing.T) {
		c := dialRaw(t, addr, 0)
		rd := chunk.NewReader(c.nc, nil)
		c.send(3, 0, command("connect", 1, amf0.Object{{Key: "app", Value: "live"}}))
		c.send(3, 0, command("createStream", 2, nil))
		long := strings.Repeat("s", 64<<10-64)
		c.send(3, 0, command("FCPublish", 3, nil, long))
		c.send(8, 1, command("publish", 4, nil, long, "live"))
		var fc, st string
		for fc == "" || st == "" {
			m, err := rd.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			switch message.Type(m.TypeID) {
			case message.TypeSetChunkSize:
				v, _ := message.UnmarshalSetChunkSize(m.Payload)
				rd.SetChunkSize(v.Size)
			case message.TypeCommandAMF0:
				cm, err := message.Decode(message.TypeCommandAMF0, bytes.Clone(m.Payload))
				if err != nil {
					t.Fatal(err)
				}
				cmd := cm.(message.Command)
				info, _ := cmd.ObjectArg(0)
				desc, _ := info.GetString("description")
				code, _ := info.GetString("code")
				switch {
				case cmd.Name == "onFCPublish":
					fc = desc
				case cmd.Name == "onStatus":
					if code != message.CodePublishBadName {
						t.Fatalf("a 64 KiB name published: %s", code)
					}
					st = desc
				}
			}
		}
		if len(fc) > rtmp.MaxEchoLength+32 || len(st) > rtmp.MaxEchoLength+32 {
			t.Fatalf("echoed %d and %d bytes of a 64 KiB name", len(fc), len(st))
		}
		// 1 MiB: more than a request message may be.
		c2 := dialRaw(t, addr, 0)
		c2.send(3, 0, command("connect", 1, amf0.Object{{Key: "app", Value: "live"}}))
		c2.send(3, 0, command("FCPublish", 2, nil, strings.Repeat("m", 1<<20)))
		if ci := closes.wait(t, c2.nc.LocalAddr()); ci.Reason != rtmp.ReasonMessageTooLarge {
			t.Fatalf("1 MiB name: closed with %v", ci.Reason)
		}
		for _, line := range strings.Split(r.logs.String(), "\n") {
			if len(line) > 4096 {
				t.Fatalf("a log line of %d bytes: %.200s", len(line), line)
			}
		}
		l.undisturbed(t)
	})

	t.Run("window acknowledgement size 1", func(t *testing.T) {
		c := dialRaw(t, addr, 0)
		var acks, other atomic.Int64
		readDone := make(chan struct{})
		go func() {
			defer close(readDone)
			rd := chunk.NewReader(c.nc, nil)
			for {
				m, err := rd.ReadMessage()
				if err != nil {
					return
				}
				switch message.Type(m.TypeID) {
				case message.TypeAcknowledgement:
					acks.Add(1)
				case message.TypeSetChunkSize:
					v, _ := message.UnmarshalSetChunkSize(m.Payload)
					rd.SetChunkSize(v.Size)
				default:
					other.Add(1)
				}
			}
		}()
		c.send(3, 0, command("connect", 1, amf0.Object{{Key: "app", Value: "live"}}))
		c.send(2, 0, message.WindowAckSize{Size: 1})
		c.send(2, 0, message.SetChunkSize{Size: 65536})
		c.w.SetChunkSize(65536)
		const total = 4 << 20
		junk := make([]byte, 32<<10)
		for sent := 0; sent < total; sent += len(junk) {
			if err := c.sendRaw(4, 0, 0, message.TypeAudio, junk); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(200 * time.Millisecond)
		c.nc.Close()
		<-readDone
		t.Logf("%d acknowledgements for %d bytes", acks.Load(), total)
		if n := acks.Load(); n == 0 || n > total/4096+16 {
			t.Fatalf("%d acknowledgements for %d bytes, want 1 to %d", n, total, total/4096+16)
		}
		l.undisturbed(t)
	})

	t.Run("failures before publish or play", func(t *testing.T) {
		deep := []byte{}
		for range 20000 {
			deep = append(deep, 0x03, 0x00, 0x01, 'a') // object, key "a", ...
		}
		name, _ := amf0.Append(nil, "connect")
		tx, _ := amf0.Append(nil, 1.0)
		bomb := append(append(name, tx...), deep[:60<<10]...)
		truncated := append(append([]byte{}, name...), 0x00, 0x3f) // a number cut after 1 byte
		for _, tc := range []struct {
			name string
			run  func(t *testing.T) net.Addr
			want rtmp.CloseReason
		}{
			{"connect without a command object", func(t *testing.T) net.Addr {
				c := dialRaw(t, addr, 0)
				c.send(3, 0, command("connect", 1, nil))
				return c.nc.LocalAddr()
			}, rtmp.ReasonProtocolError},
			{"AMF bomb", func(t *testing.T) net.Addr {
				c := dialRaw(t, addr, 0)
				c.sendRaw(3, 0, 0, message.TypeCommandAMF0, bomb)
				return c.nc.LocalAddr()
			}, rtmp.ReasonProtocolError},
			{"truncated connect", func(t *testing.T) net.Addr {
				c := dialRaw(t, addr, 0)
				c.sendRaw(3, 0, 0, message.TypeCommandAMF0, truncated)
				return c.nc.LocalAddr()
			}, rtmp.ReasonProtocolError},
			{"TLS probe", func(t *testing.T) net.Addr {
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
				tc.SetDeadline(time.Now().Add(5 * time.Second))
				tc.Handshake()
				return nc.LocalAddr()
			}, rtmp.ReasonHandshakeFailed},
			{"HTTP probe", func(t *testing.T) net.Addr {
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
				nc.SetReadDeadline(time.Now().Add(5 * time.Second))
				io.Copy(io.Discard, nc)
				return nc.LocalAddr()
			}, rtmp.ReasonHandshakeFailed},
			{"idle", func(t *testing.T) net.Addr {
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { nc.Close() })
				return nc.LocalAddr()
			}, rtmp.ReasonHandshakeTimeout},
		} {
			t.Run(tc.name, func(t *testing.T) {
				local := tc.run(t)
				ci := closes.wait(t, local)
				if ci.Reason != tc.want {
					t.Fatalf("closed with %v (%v), want %v", ci.Reason, ci.Err, tc.want)
				}
				// One Info line says why.
				found := false
				for _, m := range r.logs.lines("rtmp: connection closed before publish or play") {
					if m["remote"] == local.String() && m["level"] == "INFO" && m["reason"] == tc.want.String() {
						found = true
					}
				}
				if !found {
					t.Fatalf("no Info line for %v", local)
				}
			})
		}
		l.undisturbed(t)
	})

	// The budget holds nothing of the hostile clients once they are gone.
	settled(t)
	var ne net.Error
	if err, _ := l.err.Load().(error); err != nil && !errors.As(err, &ne) {
		t.Fatal(err)
	}
}
