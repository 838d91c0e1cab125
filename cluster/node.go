package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/relay"
)

// Defaults for Config fields left zero.
const (
	DefaultBucket = "ertmp-streams"
	DefaultTTL    = 10 * time.Second
)

// EdgeQuery is the query parameter of a node's pull from another node
// (rtmp://ORIGIN/APP/NAME?ertmp-edge=NODE): the origin serves it from
// what it has, and never pulls for it (no pull loops).
const EdgeQuery = "ertmp-edge"

// Config configures a Node.
type Config struct {
	// NATS lists the NATS servers' URLs (nats://HOST:PORT).
	NATS []string
	// Creds (a credentials file), Token, or User and Password log in to
	// NATS: the first of these that is set.
	User, Password string
	Token          string
	Creds          string
	// Advertise is the node's RTMP address as other nodes and publishers
	// reach it: rtmp://HOST:PORT.
	Advertise string
	// ID names the node in the registry; empty, the host:port of
	// Advertise.
	ID string
	// Bucket is the stream bucket, and Bucket+"-nodes" the node bucket
	// (DefaultBucket); TTL the lifetime of a node's entry, and so of its
	// streams, once it stops renewing it (DefaultTTL).
	Bucket string
	TTL    time.Duration
	// Idle is how long a pull from another node stays without players
	// (relay.DefaultIdle).
	Idle time.Duration
	// ReplacePublisher is live.Config.ReplacePublisher, cluster-wide: a
	// publish of a stream live on another node takes it over (that node
	// ends its publisher) instead of being refused.
	ReplacePublisher bool
	// Pull configures the pulls from other nodes.
	Pull relay.PullOptions
	// Logger: nil means slog.Default().
	Logger *slog.Logger
}

// Validate checks the config.
func (c *Config) Validate() error {
	var errs []error
	if len(c.NATS) == 0 {
		errs = append(errs, errors.New("no NATS server"))
	}
	for _, u := range c.NATS {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" || (p.Scheme != "nats" && p.Scheme != "tls") {
			errs = append(errs, fmt.Errorf("NATS URL %q: want nats://HOST:PORT", u))
		}
	}
	if _, err := c.id(); err != nil {
		errs = append(errs, err)
	}
	if c.TTL < 0 || c.Idle < 0 {
		errs = append(errs, errors.New("ttl and idle must not be negative"))
	}
	if c.TTL > 0 && c.TTL < 500*time.Millisecond {
		errs = append(errs, errors.New("ttl must be at least 500ms"))
	}
	if c.Bucket != "" && strings.Trim(c.Bucket, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		errs = append(errs, fmt.Errorf("bucket %q: letters, digits, - and _ only", c.Bucket))
	}
	return errors.Join(errs...)
}

// id is the node's ID (checking Advertise).
func (c *Config) id() (string, error) {
	u, err := rtmp.ParseURL(strings.TrimSuffix(c.Advertise, "/") + "/app")
	if c.Advertise == "" || err != nil || (u.Scheme != "rtmp" && u.Scheme != "rtmps") || u.App != "app" {
		return "", fmt.Errorf("advertise %q: want rtmp://HOST:PORT", c.Advertise)
	}
	if c.ID != "" {
		return c.ID, nil
	}
	port := u.Port
	if port == 0 {
		port = 1935
	}
	return net.JoinHostPort(u.Host, fmt.Sprint(port)), nil
}

// Node is one `ertmp serve` of a cluster: it registers the streams
// published on it in the registry, pulls the streams its players ask for
// from the node that has them (one pull per stream, shared by its
// players, stopped when idle), and sends its publishers to the least
// loaded node when it drains. Give it its hub (SetHub) and join its Hooks
// after the ones that authorize and rename; Start it once the RTMP
// listener serves. Its methods are safe for concurrent use.
type Node struct {
	// Immutable after New.
	cfg   Config
	id    string
	url   string
	ttl   time.Duration
	idle  time.Duration
	log   *slog.Logger
	start time.Time

	hub atomic.Pointer[live.Hub]
	nc  *nats.Conn
	reg atomic.Pointer[Registry]
	// ready: connected, and the watch loaded the registry.
	ready atomic.Bool
	// up is signalled when NATS connects again.
	up     chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	claims   map[uint64]*claim // publishes authorized, not yet started, by session ID
	owned    map[live.Key]*claim
	edges    map[live.Key]*edge
	draining bool
	closed   bool
	// lost ends the registry session in course (a disconnection).
	lost context.CancelFunc
}

// claim is a local publisher's hold on its stream's entry; rev 0 until
// it is registered (NATS was away, or another node has the stream).
type claim struct {
	key      live.Key
	sess     uint64
	since    time.Time
	rev      uint64
	codecs   []string // as written in the entry
	conflict string   // the node the stream is also live on, logged once
}

// edge is a stream pulled from another node for local players.
type edge struct {
	viewers map[uint64]struct{}
	timer   *time.Timer
	url     string // the origin pulled from ("" : none known)
	node    string
	p       *relay.Puller
	gen     int
}

// New returns a node of cfg; it connects at Start.
func New(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	id, _ := cfg.id()
	n := &Node{cfg: cfg, id: id, url: strings.TrimSuffix(cfg.Advertise, "/"), ttl: cmpOr(cfg.TTL, DefaultTTL),
		idle: cmpOr(cfg.Idle, relay.DefaultIdle), log: cfg.Logger, start: time.Now(), up: make(chan struct{}, 1),
		claims: map[uint64]*claim{}, owned: map[live.Key]*claim{}, edges: map[live.Key]*edge{}}
	if n.cfg.Bucket == "" {
		n.cfg.Bucket = DefaultBucket
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	if n.cfg.Pull.Logger == nil {
		n.cfg.Pull.Logger = n.log
	}
	if n.cfg.Pull.Backoff == (relay.Backoff{}) {
		n.cfg.Pull.Backoff = relay.Backoff{Min: 200 * time.Millisecond, Max: 2 * time.Second}
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// ID returns the node's ID.
func (n *Node) ID() string { return n.id }

// SetHub sets the hub the node registers and pulls streams for.
func (n *Node) SetHub(h *live.Hub) { n.hub.Store(h) }

// Start connects to NATS and keeps the registry session up until
// Shutdown: when NATS is away, local streams go on and players of other
// nodes' streams are refused ("cluster registry unavailable"); when it is
// back, the node registers its streams again. It fails only on a bad
// credentials file.
func (n *Node) Start() error {
	opts := []nats.Option{nats.Name("ertmp " + n.id), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond), nats.Timeout(opTimeout), nats.PingInterval(2 * time.Second), nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			n.ready.Store(false)
			n.mu.Lock()
			if n.lost != nil {
				n.lost()
			}
			n.mu.Unlock()
			if err != nil && !n.isClosed() {
				n.log.Warn("cluster: NATS disconnected; registry unavailable", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			n.log.Info("cluster: NATS connected", "server", c.ConnectedUrlRedacted())
			select {
			case n.up <- struct{}{}:
			default:
			}
		}),
		nats.ConnectHandler(func(c *nats.Conn) {
			n.log.Info("cluster: NATS connected", "server", c.ConnectedUrlRedacted())
			select {
			case n.up <- struct{}{}:
			default:
			}
		}),
	}
	switch {
	case n.cfg.Creds != "":
		opts = append(opts, nats.UserCredentials(n.cfg.Creds))
	case n.cfg.Token != "":
		opts = append(opts, nats.Token(n.cfg.Token))
	case n.cfg.User != "":
		opts = append(opts, nats.UserInfo(n.cfg.User, n.cfg.Password))
	}
	nc, err := nats.Connect(strings.Join(n.cfg.NATS, ","), opts...)
	if err != nil {
		return fmt.Errorf("cluster: NATS: %w", err)
	}
	n.nc = nc
	n.wg.Add(1)
	go n.run()
	return nil
}

func (n *Node) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// Ready reports whether the registry is available (NATS connected, the
// watch loaded).
func (n *Node) Ready() bool { return n.ready.Load() }

// run keeps a registry session while NATS is connected.
func (n *Node) run() {
	defer n.wg.Done()
	for n.ctx.Err() == nil {
		if n.nc.IsConnected() {
			err := n.session()
			n.ready.Store(false)
			if n.ctx.Err() != nil {
				return
			}
			n.log.Warn("cluster: registry unavailable", "err", err)
		}
		select {
		case <-n.up:
		case <-time.After(time.Second):
		case <-n.ctx.Done():
			return
		}
	}
}

// session opens the registry, registers the node and its streams,
// renews them, and watches until the connection is lost.
func (n *Node) session() error {
	ctx, cancel := context.WithCancel(n.ctx)
	defer cancel()
	n.mu.Lock()
	n.lost = cancel
	n.mu.Unlock()
	js, err := jetstream.New(n.nc)
	if err != nil {
		return err
	}
	octx, ocancel := context.WithTimeout(ctx, opTimeout)
	reg, err := OpenRegistry(octx, js, n.cfg.Bucket, n.ttl)
	ocancel()
	if err != nil {
		return err
	}
	n.reg.Store(reg)
	// Watch first: a claim decides on what the cache says (a stream of
	// a dead node is taken over); then write the node's entry and its
	// streams, all of them (the buckets may be new), and renew.
	n.mu.Lock()
	for _, c := range n.owned {
		c.rev, c.codecs = 0, nil
	}
	n.mu.Unlock()
	werr := make(chan error, 1)
	loaded := make(chan struct{})
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		werr <- reg.Watch(ctx, n.id, func() { close(loaded) }, n.changed)
	}()
	select {
	case <-loaded:
	case err := <-werr:
		return err
	}
	n.renew(ctx, reg)
	n.ready.Store(true)
	n.log.Info("cluster: registry ready", "node", n.id, "bucket", n.cfg.Bucket, "streams", len(reg.Streams()), "nodes", len(reg.Nodes()))
	t := time.NewTicker(n.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			n.renew(ctx, reg)
		case err := <-werr:
			return err
		}
	}
}

// snapshot is what the node's hub carries, for the registry.
func (n *Node) snapshot() (Load, map[live.Key][]string) {
	var l Load
	codecs := map[live.Key][]string{}
	h := n.hub.Load()
	if h == nil {
		return l, codecs
	}
	for _, si := range h.Streams() {
		l.Players += si.Subscribers
		l.BitrateIn += si.BitrateIn
		l.BitrateOut += si.BitrateOut
		if si.Publishing {
			l.Streams++
			if si.Publisher != nil && si.Publisher.Protocol != "relay" {
				l.Publishers++
			}
		}
		for _, t := range si.Tracks {
			codecs[si.Key] = append(codecs[si.Key], t.Codec)
		}
	}
	return l, codecs
}

func (n *Node) nodeEntry(l Load) NodeEntry {
	n.mu.Lock()
	defer n.mu.Unlock()
	return NodeEntry{ID: n.id, URL: n.url, Start: n.start, Draining: n.draining, Load: l}
}

func (n *Node) streamEntry(c *claim, codecs []string) StreamEntry {
	return StreamEntry{App: c.key.App, Name: c.key.Name, Node: n.id, URL: n.url, Since: c.since, Codecs: codecs}
}

// renew writes the node's entry, registers its streams that are not yet
// and writes the codecs of those whose codecs changed.
func (n *Node) renew(ctx context.Context, reg *Registry) {
	load, codecs := n.snapshot()
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := reg.PutNode(octx, n.nodeEntry(load)); err != nil {
		n.log.Warn("cluster: node entry not renewed", "err", err)
		return
	}
	n.mu.Lock()
	var cs []claim
	for _, c := range n.owned {
		if c.rev == 0 || !slices.Equal(c.codecs, codecs[c.key]) {
			cs = append(cs, *c)
		}
	}
	n.mu.Unlock()
	for _, c := range cs {
		e := n.streamEntry(&c, codecs[c.key])
		var rev uint64
		var err error
		if c.rev != 0 {
			rev, err = reg.Renew(octx, e, c.rev)
		} else {
			rev, err = reg.Claim(octx, e, n.takeover)
		}
		n.mu.Lock()
		cur := n.owned[c.key]
		if cur == nil || cur.sess != c.sess {
			n.mu.Unlock()
			if err == nil {
				// The publisher left meanwhile.
				reg.Release(octx, c.key, rev)
			}
			continue
		}
		var owned *OwnedError
		switch {
		case err == nil:
			if c.rev == 0 {
				n.log.Info("cluster: stream registered", "stream", c.key.String())
			}
			cur.rev, cur.codecs, cur.conflict = rev, e.Codecs, ""
		case errors.Is(err, ErrLost):
			cur.rev = 0 // taken (the watch ends it) or deleted: claimed again
		case errors.As(err, &owned):
			if cur.conflict != owned.Entry.Node {
				n.log.Warn("cluster: stream also live on another node; served here only", "stream", c.key.String(), "node", owned.Entry.Node)
			}
			cur.conflict = owned.Entry.Node
		default:
			n.log.Warn("cluster: stream entry not written", "stream", c.key.String(), "err", err)
		}
		n.mu.Unlock()
	}
}

// takeover decides whether a claim replaces another node's entry: with
// ReplacePublisher, when that node is dead (its entry expired), or when
// it drains (its publishers move here).
func (n *Node) takeover(cur StreamEntry) bool {
	if n.cfg.ReplacePublisher {
		return true
	}
	if reg := n.reg.Load(); reg != nil {
		ne, ok := reg.Node(cur.Node)
		return !ok || ne.Draining
	}
	return false
}

// changed follows a change of the registry: a stream of ours taken over
// ends its publisher here; an edge pull moves to the stream's node, or
// stops when the stream is gone (its players wait for the republish
// grace).
func (n *Node) changed(c Change) {
	n.mu.Lock()
	kick := false
	if own := n.owned[c.Key]; own != nil && own.rev != 0 {
		switch {
		case c.Entry != nil && c.Entry.Node != n.id:
			delete(n.owned, c.Key)
			kick = true
		case c.Entry == nil:
			own.rev = 0 // gone (expired): registered again at the next renewal
		}
	}
	if e := n.edges[c.Key]; e != nil {
		n.retargetLocked(c.Key, e, c.Entry)
	}
	n.mu.Unlock()
	if kick {
		n.log.Info("cluster: stream taken over by another node; ending the publisher here", "stream", c.Key.String(), "node", c.Entry.Node)
		if h := n.hub.Load(); h != nil {
			h.KickPublisher(c.Key)
		}
	}
}

// retargetLocked points an edge at the node of entry (nil or ours: no
// pull). The caller holds n.mu.
func (n *Node) retargetLocked(k live.Key, e *edge, entry *StreamEntry) {
	want, node := "", ""
	if entry != nil && entry.Node != n.id && !n.closed {
		want, node = entry.URL, entry.Node
	}
	if want == e.url {
		return
	}
	old := e.p
	e.p, e.url, e.node = nil, want, node
	e.gen++
	gen := e.gen
	if want != "" {
		n.log.Info("cluster: pulling from the stream's node", "stream", k.String(), "node", node)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if old != nil {
			if want != "" {
				// The stream moved: the old origin ends it (its publisher
				// left, or was ended by the takeover); what it sent
				// until then is read before the pull goes.
				waitUnpulled(old, switchWait)
			}
			old.Stop()
		}
		h := n.hub.Load()
		if want == "" || h == nil {
			return
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.closed || n.edges[k] != e || e.gen != gen {
			return
		}
		e.p = relay.Pull(h, k, n.pullURL(want, k), n.cfg.Pull)
	}()
}

// switchWait bounds how long a pull of a stream that moved may go on
// reading the old origin.
const switchWait = 2 * time.Second

// waitUnpulled waits until p is no longer connected, at most d.
func waitUnpulled(p *relay.Puller, d time.Duration) {
	deadline := time.Now().Add(d)
	for p.Status().State == relay.StateConnected && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// pullURL is the URL an edge plays a stream from at its node.
func (n *Node) pullURL(origin string, k live.Key) string {
	return relay.PullURL(origin+"/"+url.PathEscape(k.App)+"?"+EdgeQuery+"="+url.QueryEscape(n.id), k.Name)
}

// Hooks returns the hub hooks of the node: Authorize (a publish claims
// its stream in the registry; a play of a stream of another node starts
// or joins its pull), Start (a local publisher holds its stream) and End
// (the entry of a stream whose publisher left is deleted; a pull without
// players goes idle).
func (n *Node) Hooks() live.Hooks {
	return live.Hooks{Authorize: n.authorize, Start: n.started, End: n.ended}
}

// pulled reports a publish by a relay (a pull): neither registered nor
// a reason to stop a pull.
func pulled(s *live.Session) bool { return s.Protocol == "relay" }

// ErrUnavailable is what a player of a stream of another node is told
// while the registry is away.
var ErrUnavailable = live.Deny("cluster registry unavailable")

func (n *Node) authorize(ctx context.Context, s *live.Session) (string, error) {
	switch s.Kind {
	case rtmp.KindPublish:
		return "", n.authorizePublish(ctx, s)
	case rtmp.KindPlay:
		return "", n.authorizePlay(s)
	}
	return "", nil
}

func (n *Node) authorizePublish(ctx context.Context, s *live.Session) error {
	if pulled(s) {
		return nil
	}
	k := s.Key
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	if n.owned[k] != nil {
		// A local publisher: the hub refuses or replaces, as on one node.
		n.mu.Unlock()
		return nil
	}
	if n.draining {
		n.mu.Unlock()
		return live.Deny("server draining")
	}
	c := &claim{key: k, sess: s.ID, since: time.Now()}
	n.claims[s.ID] = c
	n.mu.Unlock()
	reg := n.reg.Load()
	if reg == nil || !n.ready.Load() {
		n.log.Warn("cluster: registry unavailable; the stream is served here and registered once it is back", "stream", k.String())
		return nil
	}
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	rev, err := reg.Claim(octx, n.streamEntry(c, nil), n.takeover)
	var owned *OwnedError
	switch {
	case errors.As(err, &owned):
		n.mu.Lock()
		delete(n.claims, s.ID)
		n.mu.Unlock()
		return live.Deny("already publishing on node " + owned.Entry.Node)
	case err != nil:
		n.log.Warn("cluster: stream not registered; served here and registered at the next renewal", "stream", k.String(), "err", err)
	}
	n.mu.Lock()
	c.rev = rev
	n.mu.Unlock()
	return nil
}

func (n *Node) authorizePlay(s *live.Session) error {
	if s.Protocol == "relay" || s.Protocol == "record" || s.Query.Has(EdgeQuery) {
		return nil // ours, or another node's pull: served from what is here
	}
	k := s.Key
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	// Every stream with local players is followed, its local ones too:
	// a stream that moves to another node (a takeover, a drain) is
	// pulled from there for them.
	e := n.edges[k]
	if e == nil {
		local := n.owned[k] != nil
		reg := n.reg.Load()
		if !local && (reg == nil || !n.ready.Load()) {
			return ErrUnavailable
		}
		e = &edge{viewers: map[uint64]struct{}{}}
		e.timer = time.AfterFunc(n.idle, func() { n.idleEdge(k, e) })
		n.edges[k] = e
		if !local {
			if entry, ok := reg.Lookup(k); ok {
				n.retargetLocked(k, e, &entry)
			}
		}
	}
	e.viewers[s.ID] = struct{}{}
	e.timer.Stop()
	return nil
}

// idleEdge stops a pull that had no players for the idle time.
func (n *Node) idleEdge(k live.Key, e *edge) {
	n.mu.Lock()
	if n.edges[k] != e || len(e.viewers) > 0 {
		n.mu.Unlock()
		return
	}
	delete(n.edges, k)
	e.gen++
	p := e.p
	e.p = nil
	n.mu.Unlock()
	if p != nil {
		n.log.Info("cluster: pull idle, stopping", "stream", k.String(), "idle", n.idle)
		p.Stop()
	}
}

func (n *Node) started(s *live.Session) {
	if s.Kind != rtmp.KindPublish || pulled(s) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.claims[s.ID]
	delete(n.claims, s.ID)
	if own := n.owned[s.Key]; own != nil {
		// A publisher that replaced the local one holds its entry.
		own.sess = s.ID
	} else {
		if c == nil {
			c = &claim{key: s.Key, sess: s.ID, since: time.Now()}
		}
		n.owned[s.Key] = c
	}
	if e := n.edges[s.Key]; e != nil {
		n.retargetLocked(s.Key, e, nil)
	}
}

func (n *Node) ended(s *live.Session, _ live.SessionEnd) {
	k := s.Key
	n.mu.Lock()
	defer n.mu.Unlock()
	switch s.Kind {
	case rtmp.KindPlay:
		if e := n.edges[k]; e != nil {
			if _, ok := e.viewers[s.ID]; ok {
				delete(e.viewers, s.ID)
				if len(e.viewers) == 0 {
					e.timer.Reset(n.idle)
				}
			}
		}
	case rtmp.KindPublish:
		var rel *claim
		if c := n.claims[s.ID]; c != nil {
			delete(n.claims, s.ID)
			rel = c
		} else if own := n.owned[k]; own != nil && own.sess == s.ID {
			delete(n.owned, k)
			rel = own
		}
		if rel != nil && rel.rev != 0 {
			n.releaseLocked(rel)
		}
	}
}

// releaseLocked deletes a stream's entry, off the session's goroutine.
func (n *Node) releaseLocked(c *claim) {
	reg := n.reg.Load()
	if reg == nil || n.closed {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := reg.Release(ctx, c.key, c.rev); err != nil && !errors.Is(err, ErrLost) {
			n.log.Warn("cluster: stream entry not deleted; it expires", "stream", c.key.String(), "err", err)
		}
	}()
}

// Drain marks the node draining in the registry (no new publishers here;
// a publish elsewhere of one of its streams takes it over) and returns
// the advertised URL (rtmp://HOST:PORT) of the least loaded other node
// for its publishers, "" when there is none.
func (n *Node) Drain(ctx context.Context) string {
	n.mu.Lock()
	n.draining = true
	n.mu.Unlock()
	reg := n.reg.Load()
	if reg == nil || !n.ready.Load() {
		n.log.Warn("cluster: draining without the registry: publishers reconnect where they were")
		return ""
	}
	load, _ := n.snapshot()
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := reg.PutNode(octx, n.nodeEntry(load)); err != nil {
		n.log.Warn("cluster: draining not registered", "err", err)
	}
	target, ok := reg.LeastLoaded(n.id)
	if !ok {
		n.log.Warn("cluster: draining: no other node to send publishers to")
		return ""
	}
	n.log.Info("cluster: draining to the least loaded node", "node", target.ID, "url", target.URL)
	return target.URL
}

// Pull is a pull from another node, for View.
type Pull struct {
	// Node is the node pulled from.
	Node string `json:"node"`
	relay.PullStatus
}

// View is the cluster as the node sees it.
type View struct {
	Node string `json:"node"`
	URL  string `json:"url"`
	// Registry is "ready" or "unavailable".
	Registry string        `json:"registry"`
	Bucket   string        `json:"bucket"`
	TTL      string        `json:"ttl"`
	Nodes    []NodeEntry   `json:"nodes"`
	Streams  []StreamEntry `json:"streams"`
	// Pulls are this node's pulls from other nodes.
	Pulls []Pull `json:"pulls"`
}

// View returns the cluster's nodes, which node holds which stream (the
// cache), and the node's pulls.
func (n *Node) View() View {
	v := View{Node: n.id, URL: n.url, Registry: "unavailable", Bucket: n.cfg.Bucket, TTL: n.ttl.String(),
		Nodes: []NodeEntry{}, Streams: []StreamEntry{}, Pulls: []Pull{}}
	if n.ready.Load() {
		v.Registry = "ready"
	}
	if reg := n.reg.Load(); reg != nil {
		v.Nodes, v.Streams = reg.Nodes(), reg.Streams()
	}
	n.mu.Lock()
	for _, e := range n.edges {
		if e.p != nil {
			st := e.p.Status()
			st.OnDemand, st.Viewers = true, len(e.viewers)
			v.Pulls = append(v.Pulls, Pull{Node: e.node, PullStatus: st})
		}
	}
	n.mu.Unlock()
	slices.SortFunc(v.Pulls, func(a, b Pull) int { return strings.Compare(a.Key.String(), b.Key.String()) })
	return v
}

// Shutdown stops the pulls, deletes the node's entries from the registry
// (other nodes' players of its streams wait for the republish grace) and
// disconnects; it returns ctx's error if that did not finish in time.
func (n *Node) Shutdown(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	var stops []*relay.Puller
	for k, e := range n.edges {
		e.timer.Stop()
		e.gen++
		if e.p != nil {
			stops = append(stops, e.p)
		}
		delete(n.edges, k)
	}
	owned := make([]claim, 0, len(n.owned))
	for _, c := range n.owned {
		if c.rev != 0 {
			owned = append(owned, *c)
		}
	}
	n.mu.Unlock()
	for _, p := range stops {
		p.Stop()
	}
	if reg := n.reg.Load(); reg != nil && n.ready.Load() {
		octx, cancel := context.WithTimeout(ctx, opTimeout)
		for _, c := range owned {
			reg.Release(octx, c.key, c.rev)
		}
		reg.DeleteNode(octx, n.id)
		cancel()
	}
	n.cancel()
	done := make(chan struct{})
	go func() {
		n.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if n.nc != nil {
		n.nc.Close()
	}
	return err
}
