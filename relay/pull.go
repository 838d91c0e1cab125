package relay

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
)

// PullOptions configure a pull.
type PullOptions struct {
	// Client configures the connections (TLS for rtmps://, timeouts,
	// the capabilities advertised: by default every codec and multitrack,
	// so the upstream sends the stream as published).
	Client *rtmp.ClientConfig
	// DialTimeout bounds each attempt (DefaultDialTimeout).
	DialTimeout time.Duration
	// Backoff spaces the attempts after a failure or the upstream's end.
	Backoff Backoff
	// Logger: nil means slog.Default().
	Logger *slog.Logger

	// onDemand: the pull stops, rather than retries, when the key has a
	// publisher of its own.
	onDemand bool
	// after, when set, is waited for before the first connection: the
	// previous pull of the key ending.
	after <-chan struct{}
	// fails, when set, counts the failures (a manager's).
	fails *failCounts
}

// Puller pulls a stream from another server (rtmp.DialPlay) and
// publishes it in the hub (live.Hub.Publish) under a key: a source like
// any publisher, under the same rules (one per key, republish grace,
// monotonic time). It publishes once the first packet arrives, so
// players wait as for a local publisher; when the upstream stream ends or
// the connection fails it unpublishes (players stay for the republish
// grace) and connects again with backoff. It runs until Stop. Its
// methods are safe for concurrent use.
type Puller struct {
	hub    *live.Hub
	key    live.Key
	url    string
	shown  string
	opts   PullOptions
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	state             atomic.Uint32
	packets, failures atomic.Uint64

	mu        sync.Mutex // guards what follows
	conn      *rtmp.Conn
	bytes     uint64 // bytes read by the connections that ended
	since     time.Time
	lastErr   string
	lastErrAt time.Time
}

// Pull starts pulling url as the stream key.
func Pull(hub *live.Hub, key live.Key, url string, o PullOptions) *Puller {
	p := &Puller{hub: hub, key: key, url: url, shown: Redact(url, key.Name), opts: o, log: o.Logger, done: make(chan struct{})}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.state.Store(uint32(StateConnecting))
	go p.run()
	return p
}

// Key returns the stream the pull publishes.
func (p *Puller) Key() live.Key { return p.key }

// Stop ends the pull (the stream is unpublished) and returns once it is
// done.
func (p *Puller) Stop() {
	p.cancel()
	<-p.done
}

// Done is closed once the pull has stopped.
func (p *Puller) Done() <-chan struct{} { return p.done }

// PullStatus is a snapshot of a pull.
type PullStatus struct {
	Key live.Key `json:"key"`
	// URL is the upstream, its stream key masked (Redact).
	URL   string `json:"url"`
	State State  `json:"state"`
	// OnDemand: an edge pull, stopped when idle; Viewers counts the
	// local players it has.
	OnDemand bool `json:"on_demand"`
	Viewers  int  `json:"viewers"`
	// ConnectedSince is when the current connection started.
	ConnectedSince time.Time `json:"connected_since,omitzero"`
	// Bytes counts the bytes read from the upstream, all connections;
	// Packets the packets published.
	Bytes   uint64 `json:"bytes"`
	Packets uint64 `json:"packets"`
	// Reconnects counts the connections lost, refused or ended.
	Reconnects  uint64    `json:"reconnects"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Status returns a snapshot of the pull.
func (p *Puller) Status() PullStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := PullStatus{Key: p.key, URL: p.shown, State: State(p.state.Load()), OnDemand: p.opts.onDemand, ConnectedSince: p.since,
		Bytes: p.bytes, Packets: p.packets.Load(), Reconnects: p.failures.Load(), LastError: p.lastErr, LastErrorAt: p.lastErrAt}
	if p.conn != nil {
		st.Bytes += p.conn.BytesRead()
	}
	return st
}

// errBusy: the key has a publisher of its own.
var errBusy = errors.New("relay: the stream has a local publisher")

// errUpstreamEnded: the upstream stream ended (unpublished).
var errUpstreamEnded = errors.New("relay: the upstream stream ended")

func (p *Puller) run() {
	defer close(p.done)
	defer p.state.Store(uint32(StateStopped))
	if p.opts.after != nil {
		select {
		case <-p.opts.after:
		case <-p.ctx.Done():
			return
		}
	}
	fails := 0
	for {
		p.state.Store(uint32(StateConnecting))
		start := time.Now()
		err := p.session()
		switch {
		case p.ctx.Err() != nil, errors.Is(err, errEnded):
			return
		case errors.Is(err, errBusy) && p.opts.onDemand:
			p.log.Info("relay: pull not needed: the stream has a local publisher", "stream", p.key.String())
			return
		}
		if time.Since(start) > stableAfter {
			fails = 0
		}
		p.failures.Add(1)
		p.opts.fails.add(err)
		p.mu.Lock()
		p.lastErr, p.lastErrAt = err.Error(), time.Now()
		p.mu.Unlock()
		d := p.opts.Backoff.delay(fails)
		fails++
		lvl := slog.LevelWarn
		if errors.Is(err, errUpstreamEnded) {
			lvl = slog.LevelInfo
		}
		p.log.Log(p.ctx, lvl, "relay: pull interrupted", "stream", p.key.String(), "upstream", p.shown, "err", err.Error(), "retry_in", d.Round(time.Millisecond))
		p.state.Store(uint32(StateRetrying))
		select {
		case <-time.After(d):
		case <-p.ctx.Done():
			return
		}
	}
}

// session makes one connection to the upstream and publishes what it
// sends until it ends.
func (p *Puller) session() (err error) {
	cfg := rtmp.ClientConfig{}
	if p.opts.Client != nil {
		cfg = *p.opts.Client
	}
	dctx, cancel := context.WithTimeout(p.ctx, durOr(p.opts.DialTimeout, DefaultDialTimeout))
	pl, err := rtmp.DialPlay(dctx, p.url, &cfg)
	cancel()
	if err != nil {
		return err
	}
	conn := pl.Conn()
	stop := context.AfterFunc(p.ctx, func() { conn.Close() }) // frees ReadPacket
	defer stop()
	p.mu.Lock()
	p.conn, p.since = conn, time.Now()
	p.mu.Unlock()
	p.state.Store(uint32(StateConnected))
	var pub *live.Publication
	defer func() {
		if pub != nil {
			r := live.ReasonClientClosed
			if err != nil && !errors.Is(err, errUpstreamEnded) && !errors.Is(err, errEnded) {
				r = live.ReasonProtocolError
			}
			pub.CloseWith(r, err)
		}
		pl.Close()
		p.mu.Lock()
		p.bytes += conn.BytesRead()
		p.conn, p.since = nil, time.Time{}
		p.mu.Unlock()
	}()
	for {
		pk, err := pl.ReadPacket()
		if err != nil {
			if p.ctx.Err() != nil {
				return errEnded
			}
			if err == io.EOF {
				return errUpstreamEnded
			}
			return err
		}
		if pub == nil {
			// The first packet: publish now, so that players wait for
			// the stream as they would for a local publisher.
			pub, err = p.hub.Publish(p.ctx, p.key, live.PublishOptions{
				Session: &live.Session{Protocol: "relay", App: p.key.App, Stream: p.key.Name, TcURL: p.shown,
					Counters: func() (uint64, uint64) { return conn.BytesRead(), conn.BytesWritten() }},
				Stop: func(live.Reason) { conn.Close() },
			})
			switch {
			case errors.Is(err, live.ErrStreamBusy):
				return errBusy
			case errors.Is(err, live.ErrShutdown):
				return errEnded
			case err != nil:
				return err
			}
			p.log.Info("relay: pulling", "stream", p.key.String(), "upstream", p.shown)
		}
		if err := pub.Write(pk); err != nil {
			var end *live.EndError
			if errors.As(err, &end) && end.Reason == live.ReasonShutdown {
				return errEnded
			}
			return err
		}
		p.packets.Add(1)
	}
}
