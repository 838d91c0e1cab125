package relay

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
)

// DefaultIdle is how long an on-demand pull stays without players.
const DefaultIdle = 30 * time.Second

// replacedWait is how long the push of a stream's previous publisher may
// take to end before the next one's is started anyway.
const replacedWait = 2 * time.Second

// App is an application's relay config: the config file's
// push: [urls] and pull: {url, on_demand, idle}.
type App struct {
	// Push lists the targets every stream of the app is pushed to, each
	// used as written with {stream} replaced by the stream's name.
	Push []string
	// Pull, when set, is the app's upstream.
	Pull *Upstream
}

// Upstream is where an app's streams are pulled from.
type Upstream struct {
	// URL is rtmp[s]://HOST[:PORT]/APP; a stream's name is appended.
	URL string
	// OnDemand pulls a stream when a player asks for it and it is not
	// here (an edge); without it, pulls are started with
	// Manager.StartPull.
	OnDemand bool
	// Idle is how long an on-demand pull stays once its last player left
	// (DefaultIdle).
	Idle time.Duration
}

// Options configure a Manager.
type Options struct {
	// App returns an application's relay config; it is asked at each
	// publish (push) and play (on-demand pull), so a reloaded config
	// applies to the next one.
	App func(app string) App
	// Push and Pull are the options of every push and pull (their
	// Logger is the manager's when unset).
	Push PushOptions
	Pull PullOptions
	// Logger: nil means slog.Default().
	Logger *slog.Logger
}

// Manager errors, for errors.Is.
var (
	// ErrNoHub: the manager has no hub yet (SetHub).
	ErrNoHub = errors.New("relay: no hub")
	// ErrPulling: StartPull for a stream already pulled.
	ErrPulling = errors.New("relay: already pulling")
	// ErrNotPulling: StopPull for a stream not pulled.
	ErrNotPulling = errors.New("relay: not pulling")
)

// Manager relays streams by app config: it pushes every stream of an
// app with push targets from its publish to its end, and pulls the
// streams of an app with an on-demand upstream when a player asks for
// one that is not here, sharing the pull with every local player and
// stopping it when they have all been gone for the idle time (an edge).
// Static pulls are started with StartPull. It is safe for concurrent use.
//
// Its Hooks must be joined after those that authorize and rename
// (live.JoinHooks): it acts on the stream a request ends up with.
type Manager struct {
	opts Options
	log  *slog.Logger
	hub  atomic.Pointer[live.Hub]

	// Failures of every push target and pull; atomic.
	pushFails, pullFails failCounts

	mu       sync.Mutex
	pushes   map[live.Key]*Pusher
	pulls    map[live.Key]*pull
	shutdown bool
	// running are the pushes and pulls not yet done (a stopped pull
	// leaves pulls before it is done); totals the counters of those done.
	runningPush map[*Pusher]struct{}
	runningPull map[*Puller]struct{}
	totals      Stats
}

// pull is a running pull and, on demand, its local players.
type pull struct {
	p        *Puller
	onDemand bool
	idle     time.Duration
	viewers  map[uint64]struct{} // session IDs, from Authorize to End
	timer    *time.Timer         // ends an idle on-demand pull
}

// NewManager returns a manager; give it its hub with SetHub before the
// hub serves (the hub is made with the manager's Hooks).
func NewManager(o Options) *Manager {
	m := &Manager{opts: o, log: o.Logger, pushes: map[live.Key]*Pusher{}, pulls: map[live.Key]*pull{},
		runningPush: map[*Pusher]struct{}{}, runningPull: map[*Puller]struct{}{}}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.opts.Push.Logger == nil {
		m.opts.Push.Logger = m.log
	}
	if m.opts.Pull.Logger == nil {
		m.opts.Pull.Logger = m.log
	}
	m.opts.Push.fails, m.opts.Pull.fails = &m.pushFails, &m.pullFails
	return m
}

// SetHub sets the hub the manager relays from and into.
func (m *Manager) SetHub(h *live.Hub) { m.hub.Store(h) }

// Hooks returns the hub hooks of the manager: Authorize (a player asks
// for a stream: an on-demand pull starts), Start (a publish: its push
// starts) and End (a player left: an on-demand pull may go idle).
func (m *Manager) Hooks() live.Hooks {
	return live.Hooks{Authorize: m.authorize, Start: m.started, End: m.ended}
}

func (m *Manager) app(name string) App {
	if m.opts.App == nil {
		return App{}
	}
	return m.opts.App(name)
}

// internal reports a session of ertmp's own outputs (recorders, pushes),
// which neither start nor keep an on-demand pull.
func internal(s *live.Session) bool { return s.Protocol == "relay" || s.Protocol == "record" }

func (m *Manager) started(s *live.Session) {
	if s.Kind != rtmp.KindPublish {
		return
	}
	urls := m.app(s.Key.App).Push
	hub := m.hub.Load()
	if len(urls) == 0 || hub == nil {
		return
	}
	targets := make([]string, len(urls))
	for i, u := range urls {
		targets[i] = PushURL(u, s.Key.Name)
	}
	o := m.opts.Push
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shutdown {
		return
	}
	if old := m.pushes[s.Key]; old != nil {
		// The previous publisher's push ends with its stream (the
		// targets may refuse a second publish until it has); one that
		// goes on, because the new publisher replaced the old one
		// (live.Config.ReplacePublisher), is stopped.
		o.after = old.Done()
		go func() {
			select {
			case <-old.Done():
			case <-time.After(replacedWait):
				old.Stop()
			}
		}()
	}
	p := Push(hub, s.Key, targets, o)
	m.pushes[s.Key] = p
	m.runningPush[p] = struct{}{}
	go func() {
		<-p.Done()
		m.mu.Lock()
		if m.pushes[s.Key] == p {
			delete(m.pushes, s.Key)
		}
		delete(m.runningPush, p)
		for _, st := range p.Status() {
			m.totals.Push.addPush(st)
		}
		m.mu.Unlock()
	}()
}

func (m *Manager) authorize(_ context.Context, s *live.Session) (string, error) {
	if s.Kind != rtmp.KindPlay || internal(s) {
		return "", nil
	}
	up := m.app(s.Key.App).Pull
	hub := m.hub.Load()
	if up == nil || !up.OnDemand || hub == nil {
		return "", nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shutdown {
		return "", nil
	}
	pl := m.pulls[s.Key]
	if pl == nil {
		if si, ok := streamInfo(hub, s.Key); ok && si.Publishing {
			return "", nil // a local publisher: nothing to pull
		}
		pl = m.startPullLocked(hub, s.Key, PullURL(up.URL, s.Key.Name), true, durOr(up.Idle, DefaultIdle))
	}
	if pl.onDemand {
		pl.viewers[s.ID] = struct{}{}
		pl.timer.Stop()
	}
	return "", nil
}

func (m *Manager) ended(s *live.Session, _ live.SessionEnd) {
	if s.Kind != rtmp.KindPlay {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	pl := m.pulls[s.Key]
	if pl == nil || !pl.onDemand {
		return
	}
	if _, ok := pl.viewers[s.ID]; !ok {
		return
	}
	delete(pl.viewers, s.ID)
	if len(pl.viewers) == 0 {
		pl.timer.Reset(pl.idle)
	}
}

// startPullLocked starts a pull of key; the caller holds m.mu.
func (m *Manager) startPullLocked(hub *live.Hub, key live.Key, url string, onDemand bool, idle time.Duration) *pull {
	o := m.opts.Pull
	o.onDemand = onDemand
	if old := m.pulls[key]; old != nil {
		o.after = old.p.Done()
	}
	pl := &pull{onDemand: onDemand, idle: idle, viewers: map[uint64]struct{}{}}
	pl.p = Pull(hub, key, url, o)
	m.pulls[key] = pl
	m.runningPull[pl.p] = struct{}{}
	if onDemand {
		// Idle from the start: a player that gives up before the stream
		// comes leaves it idle too.
		pl.timer = time.AfterFunc(idle, func() { m.idle(key, pl) })
	}
	go func() {
		<-pl.p.Done()
		m.mu.Lock()
		if m.pulls[key] == pl {
			delete(m.pulls, key)
		}
		delete(m.runningPull, pl.p)
		m.totals.Pull.addPull(pl.p.Status())
		m.mu.Unlock()
	}()
	return pl
}

// idle stops an on-demand pull that has had no players for its idle
// time.
func (m *Manager) idle(key live.Key, pl *pull) {
	m.mu.Lock()
	if m.pulls[key] != pl || len(pl.viewers) > 0 {
		m.mu.Unlock()
		return
	}
	delete(m.pulls, key)
	m.mu.Unlock()
	m.log.Info("relay: on-demand pull idle, stopping", "stream", key.String(), "idle", pl.idle)
	pl.p.Stop()
}

// StartPull pulls url as the stream key until StopPull (a static pull:
// config that names the upstream of a stream).
func (m *Manager) StartPull(key live.Key, url string) (*Puller, error) {
	hub := m.hub.Load()
	if hub == nil {
		return nil, ErrNoHub
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shutdown {
		return nil, live.ErrShutdown
	}
	if m.pulls[key] != nil {
		return nil, ErrPulling
	}
	return m.startPullLocked(hub, key, url, false, 0).p, nil
}

// StopPull stops the pull of a stream and returns once it has stopped.
func (m *Manager) StopPull(key live.Key) error {
	m.mu.Lock()
	pl := m.pulls[key]
	if pl != nil {
		delete(m.pulls, key)
		if pl.timer != nil {
			pl.timer.Stop()
		}
	}
	m.mu.Unlock()
	if pl == nil {
		return ErrNotPulling
	}
	pl.p.Stop()
	return nil
}

// PushStatus is a snapshot of one stream's push.
type PushStatus struct {
	Key     live.Key       `json:"key"`
	Targets []TargetStatus `json:"targets"`
}

// Pushes returns the status of every push, sorted by stream.
func (m *Manager) Pushes() []PushStatus {
	m.mu.Lock()
	ps := make([]*Pusher, 0, len(m.pushes))
	for _, p := range m.pushes {
		ps = append(ps, p)
	}
	m.mu.Unlock()
	out := make([]PushStatus, 0, len(ps))
	for _, p := range ps {
		out = append(out, PushStatus{Key: p.key, Targets: p.Status()})
	}
	slices.SortFunc(out, func(a, b PushStatus) int { return compareKeys(a.Key, b.Key) })
	return out
}

// Pulls returns the status of every pull, sorted by stream.
func (m *Manager) Pulls() []PullStatus {
	m.mu.Lock()
	out := make([]PullStatus, 0, len(m.pulls))
	for _, pl := range m.pulls {
		st := pl.p.Status()
		st.Viewers = len(pl.viewers)
		out = append(out, st)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b PullStatus) int { return compareKeys(a.Key, b.Key) })
	return out
}

// Stats returns the totals of the manager's pushes and pulls: the state
// of those running, and counters that include those that have ended.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	st := m.totals
	for p := range m.runningPush {
		for _, t := range p.Status() {
			st.Push.state(t.State)
			st.Push.addPush(t)
		}
	}
	for p := range m.runningPull {
		ps := p.Status()
		st.Pull.state(ps.State)
		st.Pull.addPull(ps)
	}
	m.mu.Unlock()
	for i := range st.Push.Failures {
		st.Push.Failures[i] = m.pushFails[i].Load()
		st.Pull.Failures[i] = m.pullFails[i].Load()
	}
	return st
}

func compareKeys(a, b live.Key) int {
	return cmp.Or(cmp.Compare(a.App, b.App), cmp.Compare(a.Name, b.Name))
}

// Shutdown stops every push and pull and refuses new ones; it returns
// ctx's error if they did not stop in time.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	m.shutdown = true
	var stops []func()
	var dones []<-chan struct{}
	for _, p := range m.pushes {
		stops, dones = append(stops, p.cancel), append(dones, p.Done())
	}
	for _, pl := range m.pulls {
		if pl.timer != nil {
			pl.timer.Stop()
		}
		stops, dones = append(stops, pl.p.cancel), append(dones, pl.p.Done())
	}
	m.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	for _, d := range dones {
		select {
		case <-d:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
