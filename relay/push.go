package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

// Relay defaults.
const (
	// DefaultDialTimeout bounds a connection attempt (connect and
	// publish or play).
	DefaultDialTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds each flush to a push target: a target
	// that takes no data for this long is dropped and reconnected.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultQueueMaxBytes and DefaultQueueMaxDelay bound a push
	// target's queue in the hub; past either it loses video up to the
	// next key frame (reported and counted), never the source's time.
	DefaultQueueMaxBytes = 16 << 20
	DefaultQueueMaxDelay = 10 * time.Second
)

// State is where a relay connection stands.
type State uint8

// Relay states.
const (
	// StateConnecting: dialing, handshaking, connect and publish or play.
	StateConnecting State = iota + 1
	// StateConnected: media flows.
	StateConnected
	// StateRetrying: the last attempt failed; the next waits for the
	// backoff.
	StateRetrying
	// StateStopped: done (the stream ended, Stop, idle).
	StateStopped
)

var stateNames = [...]string{"", "connecting", "connected", "retrying", "stopped"}

func (s State) String() string {
	if int(s) < len(stateNames) && s != 0 {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText writes the state's name (JSON).
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name, as MarshalText writes it.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if i > 0 && n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("relay: unknown state %q", b)
}

// PushOptions configure a push.
type PushOptions struct {
	// Client configures the connections: TLS for rtmps://, the
	// capabilities advertised, timeouts (a zero read timeout means none:
	// a server sends a publisher little; a zero write timeout is
	// DefaultWriteTimeout).
	Client *rtmp.ClientConfig
	// DialTimeout bounds each attempt (DefaultDialTimeout).
	DialTimeout time.Duration
	// Backoff spaces the attempts after a failure.
	Backoff Backoff
	// QueueMaxBytes and QueueMaxDelay bound each target's queue
	// (DefaultQueueMaxBytes, DefaultQueueMaxDelay).
	QueueMaxBytes int
	QueueMaxDelay time.Duration
	// Logger: nil means slog.Default().
	Logger *slog.Logger

	// after, when set, is waited for (briefly) before the first
	// connection: the push of the stream's previous publisher ending.
	after <-chan struct{}
	// fails, when set, counts the failures (a manager's).
	fails *failCounts
}

// Pusher pushes one stream to any number of targets (rtmp:// and
// rtmps://), each with its own connection, its own queue (a subscription
// of the hub that loses video up to a key frame when the target is slow,
// and says so) and its own reconnection with backoff: a dead or slow
// target never affects the source, the players or the other targets.
// Each target gets Enhanced RTMP (codecs, multitrack) as far as its
// connect _result says it takes them, the legacy form otherwise.
//
// A push ends when the stream's publisher leaves (the next publisher
// starts a new one) or at Stop. Its methods are safe for concurrent use.
type Pusher struct {
	hub     *live.Hub
	key     live.Key
	opts    PushOptions
	log     *slog.Logger
	targets []*target
	// pubID is the session of the publisher pushed: a target that is
	// not connected stops trying once it has gone.
	pubID  uint64
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}
}

// Push starts pushing the stream key to urls (used as given; see
// PushURL for {stream}). The stream should be published: a target
// connects first, then subscribes, and stops when there is nothing to
// subscribe to.
func Push(hub *live.Hub, key live.Key, urls []string, o PushOptions) *Pusher {
	p := &Pusher{hub: hub, key: key, opts: o, log: o.Logger, done: make(chan struct{})}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if si, ok := streamInfo(hub, key); ok && si.Publisher != nil {
		p.pubID = si.Publisher.ID
	}
	for _, u := range urls {
		t := &target{p: p, url: u, shown: Redact(u, key.Name)}
		t.state.Store(uint32(StateConnecting))
		p.targets = append(p.targets, t)
	}
	p.wg.Add(len(p.targets))
	for _, t := range p.targets {
		go t.run()
	}
	go func() {
		p.wg.Wait()
		p.cancel()
		close(p.done)
	}()
	return p
}

// Key returns the stream pushed.
func (p *Pusher) Key() live.Key { return p.key }

// Stop ends every target (politely: unpublish, close) and returns once
// they are done.
func (p *Pusher) Stop() {
	p.cancel()
	<-p.done
}

// Done is closed once every target has stopped.
func (p *Pusher) Done() <-chan struct{} { return p.done }

// TargetStatus is a snapshot of one push target.
type TargetStatus struct {
	// URL is the target, its stream key masked (Redact).
	URL   string `json:"url"`
	State State  `json:"state"`
	// ConnectedSince is when the current connection started (zero when
	// not connected).
	ConnectedSince time.Time `json:"connected_since,omitzero"`
	// Bytes counts the bytes written to the target, all connections;
	// Packets the media and data packets.
	Bytes   uint64 `json:"bytes"`
	Packets uint64 `json:"packets"`
	// Lost counts the packets the target's queue dropped when it was
	// slow (video up to a key frame).
	Lost uint64 `json:"lost"`
	// Reconnects counts the connections lost or refused.
	Reconnects uint64 `json:"reconnects"`
	// LastError is the last failure, at LastErrorAt.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Status returns the status of each target, in the order given.
func (p *Pusher) Status() []TargetStatus {
	out := make([]TargetStatus, len(p.targets))
	for i, t := range p.targets {
		out[i] = t.status()
	}
	return out
}

// publishing reports whether the publisher pushed is still on.
func (p *Pusher) publishing() bool {
	si, ok := streamInfo(p.hub, p.key)
	return ok && si.Publishing && si.Publisher != nil && si.Publisher.ID == p.pubID
}

func streamInfo(hub *live.Hub, key live.Key) (live.StreamInfo, bool) {
	for _, si := range hub.Streams() {
		if si.Key == key {
			return si, true
		}
	}
	return live.StreamInfo{}, false
}

// target is one push destination; its run goroutine owns its
// connections.
type target struct {
	p     *Pusher
	url   string
	shown string

	state             atomic.Uint32
	packets, failures atomic.Uint64

	mu        sync.Mutex         // guards what follows
	conn      *rtmp.Conn         // the current connection, for its byte count
	sub       *live.Subscription // its subscription, for its drops
	bytes     uint64             // bytes of the connections that ended
	lost      uint64             // drops of the subscriptions that ended
	since     time.Time
	lastErr   string
	lastErrAt time.Time
}

func (t *target) status() TargetStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := TargetStatus{URL: t.shown, State: State(t.state.Load()), ConnectedSince: t.since, Bytes: t.bytes,
		Packets: t.packets.Load(), Lost: t.lost, Reconnects: t.failures.Load(), LastError: t.lastErr, LastErrorAt: t.lastErrAt}
	if t.conn != nil {
		st.Bytes += t.conn.BytesWritten()
		st.Lost += t.sub.Stats().Dropped
	}
	return st
}

// errEnded: the stream is over for this push (publisher gone, hub
// shut down, Stop).
var errEnded = errors.New("relay: the stream ended")

// moveError: the target asked to reconnect elsewhere (Enhanced RTMP v2
// ReconnectRequest).
type moveError struct{ to *rtmp.URL }

func (e *moveError) Error() string {
	return "relay: target asked to reconnect to " + Redact(e.to.String(), "")
}

func (t *target) run() {
	p := t.p
	defer p.wg.Done()
	defer t.state.Store(uint32(StateStopped))
	if p.opts.after != nil {
		select {
		case <-p.opts.after:
		case <-p.ctx.Done():
			return
		}
	}
	url := t.url
	fails := 0
	for {
		if !p.publishing() {
			return // the publisher left while the target was unreachable
		}
		t.state.Store(uint32(StateConnecting))
		start := time.Now()
		err := t.session(url)
		url = t.url
		var move *moveError
		switch {
		case errors.Is(err, errEnded) || p.ctx.Err() != nil:
			return
		case errors.As(err, &move):
			p.log.Info("relay: push target moves", "stream", p.key.String(), "target", t.shown)
			url = move.to.String()
			continue // at once
		}
		if time.Since(start) > stableAfter {
			fails = 0
		}
		t.failures.Add(1)
		p.opts.fails.add(err)
		t.mu.Lock()
		t.lastErr, t.lastErrAt = err.Error(), time.Now()
		t.mu.Unlock()
		d := p.opts.Backoff.delay(fails)
		fails++
		p.log.Warn("relay: push target failed", "stream", p.key.String(), "target", t.shown, "err", err.Error(), "retry_in", d.Round(time.Millisecond))
		t.state.Store(uint32(StateRetrying))
		select {
		case <-time.After(d):
		case <-p.ctx.Done():
			return
		}
	}
}

// session makes one connection to the target and pushes until it
// fails or the stream ends.
func (t *target) session(url string) error {
	p := t.p
	cfg := rtmp.ClientConfig{}
	if p.opts.Client != nil {
		cfg = *p.opts.Client
	}
	if cfg.Conn.ReadTimeout == 0 {
		cfg.Conn.ReadTimeout = -1
	}
	if cfg.Conn.WriteTimeout == 0 {
		cfg.Conn.WriteTimeout = DefaultWriteTimeout
	}
	dctx, cancel := context.WithTimeout(p.ctx, durOr(p.opts.DialTimeout, DefaultDialTimeout))
	pub, err := rtmp.DialPublish(dctx, url, &cfg)
	cancel()
	if err != nil {
		return err
	}
	conn := pub.Conn()
	sub, err := p.hub.Subscribe(p.ctx, p.key, live.SubscribeOptions{
		Session: &live.Session{Protocol: "relay", App: p.key.App, Stream: p.key.Name, TcURL: t.shown,
			Counters: func() (uint64, uint64) { return conn.BytesRead(), conn.BytesWritten() }},
		// What the target said it takes in its connect _result: the hub
		// hands it Enhanced RTMP as far as that goes, the legacy form
		// otherwise.
		Capabilities:  pub.ServerCapabilities(),
		ReportLoss:    true,
		Wait:          -1,
		QueueMaxBytes: intOr(p.opts.QueueMaxBytes, DefaultQueueMaxBytes),
		QueueMaxDelay: durOr(p.opts.QueueMaxDelay, DefaultQueueMaxDelay),
		Stop:          func(live.Reason) { conn.Close() }, // frees a blocked write
	})
	if err != nil {
		pub.Close()
		if errors.Is(err, live.ErrStreamNotFound) || errors.Is(err, live.ErrShutdown) || p.ctx.Err() != nil {
			return errEnded
		}
		return err
	}
	t.mu.Lock()
	t.conn, t.sub, t.since = conn, sub, time.Now()
	t.mu.Unlock()
	t.state.Store(uint32(StateConnected))
	p.log.Info("relay: push target connected", "stream", p.key.String(), "target", t.shown)
	err = t.pump(pub, sub)
	sub.CloseWith(closeReason(err), err)
	if errors.Is(err, errEnded) {
		pub.Close() // unpublish politely
	} else {
		conn.Close()
		pub.Close()
	}
	t.mu.Lock()
	t.bytes += conn.BytesWritten()
	t.lost += sub.Stats().Dropped
	t.conn, t.sub, t.since = nil, nil, time.Time{}
	t.mu.Unlock()
	return err
}

func closeReason(err error) live.Reason {
	if errors.Is(err, errEnded) {
		return live.ReasonClientClosed
	}
	return live.ReasonProtocolError
}

// pump writes what the subscription gives to the target, one flush per
// batch, until something ends it.
func (t *target) pump(pub *rtmp.Publisher, sub *live.Subscription) error {
	p := t.p
	// The connection's reader: it ends when the target closes, and it
	// hands over a ReconnectRequest.
	gone := make(chan error, 1)
	moveTo := make(chan *rtmp.URL, 1)
	wctx, stopWatch := context.WithCancel(p.ctx)
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			ev, err := pub.ReadEvent(wctx)
			if err != nil {
				if wctx.Err() == nil {
					gone <- fmt.Errorf("relay: target closed the connection: %w", err)
				}
				return
			}
			if ev.Kind == rtmp.EventReconnectRequest && ev.Reconnect != nil {
				select {
				case moveTo <- ev.Reconnect:
				default:
				}
			}
		}
	}()
	defer func() {
		stopWatch()
		watch.Wait()
	}()

	items := make([]live.Item, 0, 64)
	pks := make([]*live.Packet, 0, 64)
	var move *rtmp.URL
	sawVideo := false
	flush := func() error {
		if len(pks) == 0 {
			return nil
		}
		err := writePackets(pub, pks)
		if err == nil {
			t.packets.Add(uint64(len(pks)))
		}
		clear(pks)
		pks = pks[:0]
		return err
	}
	for {
		if move == nil {
			select {
			case move = <-moveTo:
			default:
			}
		}
		var err error
		items, err = sub.TryRead(items[:0])
		if err != nil {
			return errEnded // the hub ended it: publisher gone, shutdown, kick
		}
		if len(items) == 0 {
			select {
			case <-sub.Ready():
			case err := <-gone:
				return err
			case u := <-moveTo:
				move = u
			case <-p.ctx.Done():
				return errEnded
			}
			continue
		}
		for _, it := range items {
			switch it.Notice {
			case live.NoticeLoss:
				p.log.Warn("relay: push target behind, packets lost", "stream", p.key.String(), "target", t.shown, "lost", it.Lost)
			case live.NoticeUnpublished:
				clear(items)
				if err := flush(); err != nil {
					return err
				}
				return errEnded
			case live.NoticeNone:
				pk := it.Packet
				// A move waits for a key frame: the new connection starts
				// there, from the hub's GOP cache.
				if move != nil && (pk.IsKeyFrame() || (!sawVideo && pk.IsAudio())) {
					clear(items)
					if err := flush(); err != nil {
						return err
					}
					return &moveError{to: move}
				}
				sawVideo = sawVideo || pk.IsVideo()
				pks = append(pks, pk)
			}
		}
		clear(items)
		if err := flush(); err != nil {
			return err
		}
	}
}

// writePackets sends a batch to the target and flushes once. Packets
// go out as they are, chunked once and shared with every connection at
// the same chunk size and message stream id (the hub's RTMP players,
// other targets): Packet.Prepared. Only onMetaData goes back into
// @setDataFrame, so that the target keeps it for its own players (the
// hub unwrapped it).
func writePackets(pub *rtmp.Publisher, pks []*live.Packet) error {
	conn := pub.Conn()
	cs, sid := conn.ChunkSize(), pub.StreamID()
	for _, p := range pks {
		if p.Type() == message.TypeDataAMF0 && isOnMetaData(p.Payload()) {
			b := append(append(make([]byte, 0, len(setDataFrame)+len(p.Payload())), setDataFrame...), p.Payload()...)
			m := chunk.Message{CSID: rtmp.CSIDData, Header: chunk.Header{Timestamp: p.Timestamp(), TypeID: uint8(p.Type()), StreamID: sid}, Payload: b}
			if err := conn.WriteMessage(m); err != nil {
				return err
			}
			continue
		}
		prep, err := p.Prepared(cs, sid)
		if err != nil {
			continue // no chunk stream takes it
		}
		if err := conn.WritePrepared(prep); err != nil {
			return err
		}
	}
	return conn.Flush()
}

// AMF0 strings (§2.4: marker 0x02, U16 length, bytes).
var (
	setDataFrame = []byte("\x02\x00\x0d@setDataFrame")
	onMetaData   = []byte("\x02\x00\x0aonMetaData")
)

func isOnMetaData(b []byte) bool {
	return len(b) >= len(onMetaData) && string(b[:len(onMetaData)]) == string(onMetaData)
}

func durOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func intOr(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}
