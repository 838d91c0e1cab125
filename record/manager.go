package record

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
)

// Manager errors, for errors.Is (the API's 404 and 409).
var (
	// ErrNotConfigured: Start for an app without a record config.
	ErrNotConfigured = errors.New("record: no record config for the app")
	// ErrRecording: Start for a stream that is being recorded.
	ErrRecording = errors.New("record: already recording")
	// ErrNotRecording: Stop for a stream that is not being recorded.
	ErrNotRecording = errors.New("record: not recording")
	// ErrNoHub: the manager has no hub yet (SetHub).
	ErrNoHub = errors.New("record: no hub")
)

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	// App returns the record config of an application; ok false: its
	// streams are not recorded automatically, and Start refuses them
	// (ErrNotConfigured). It is asked at each publish, so a reloaded
	// config applies to the next one.
	App func(app string) (cfg Config, ok bool)
	// OnFile is called for each finished file of every recording (the
	// on_record_done hook; see Options.OnFile).
	OnFile func(File)
	// Logger: nil means slog.Default().
	Logger *slog.Logger
}

// Manager records streams by app config: every stream of an app with a
// config is recorded from its publish to its end (Hooks), and the API
// starts and stops the recording of one stream (Start, Stop). It is safe
// for concurrent use.
type Manager struct {
	opts  ManagerOptions
	log   *slog.Logger
	hub   atomic.Pointer[live.Hub]
	stats counters

	mu       sync.Mutex
	recs     map[live.Key]*Recorder
	ended    []Status // the last maxEnded recordings that ended, oldest first
	shutdown bool
	wg       sync.WaitGroup
}

// maxEnded is how many ended recordings Ended keeps.
const maxEnded = 32

// NewManager returns a manager; give it its hub with SetHub before the
// hub serves (the hub is made with the manager's Hooks).
func NewManager(o ManagerOptions) *Manager {
	m := &Manager{opts: o, log: o.Logger, recs: map[live.Key]*Recorder{}}
	if m.log == nil {
		m.log = slog.Default()
	}
	return m
}

// SetHub sets the hub the manager records from.
func (m *Manager) SetHub(h *live.Hub) { m.hub.Store(h) }

// Hooks returns the hub hooks that record every stream of a configured
// app: Start, when a publisher is taken. Join them after the hooks that
// authorize (live.JoinHooks).
func (m *Manager) Hooks() live.Hooks {
	return live.Hooks{Start: m.started}
}

func (m *Manager) started(s *live.Session) {
	if s.Kind != rtmp.KindPublish || m.opts.App == nil {
		return
	}
	cfg, ok := m.opts.App(s.Key.App)
	if !ok {
		return
	}
	// The hook runs before the publisher's first packet: the recording
	// starts with the stream. A recording of the previous publisher that
	// has not seen its end yet is replaced.
	if _, err := m.start(context.Background(), s.Key, cfg, true); err != nil {
		m.log.Error("record: cannot record", "stream", s.Key.String(), "err", err.Error())
	}
}

// Start records one stream with its app's config (POST
// /v1/record/start). The stream must be published (live.ErrStreamNotFound).
func (m *Manager) Start(ctx context.Context, key live.Key) (*Recorder, error) {
	if m.opts.App == nil {
		return nil, ErrNotConfigured
	}
	cfg, ok := m.opts.App(key.App)
	if !ok {
		return nil, ErrNotConfigured
	}
	return m.start(ctx, key, cfg, false)
}

// StartWith records one stream with cfg.
func (m *Manager) StartWith(ctx context.Context, key live.Key, cfg Config) (*Recorder, error) {
	return m.start(ctx, key, cfg, false)
}

func (m *Manager) start(ctx context.Context, key live.Key, cfg Config, replace bool) (*Recorder, error) {
	hub := m.hub.Load()
	if hub == nil {
		return nil, ErrNoHub
	}
	m.mu.Lock()
	if m.shutdown {
		m.mu.Unlock()
		return nil, live.ErrShutdown
	}
	if old := m.recs[key]; old != nil && !replace {
		select {
		case <-old.Done():
		default:
			m.mu.Unlock()
			return nil, ErrRecording
		}
	}
	m.wg.Add(1)
	m.mu.Unlock()
	r, err := Start(ctx, hub, key, cfg, Options{OnFile: m.opts.OnFile, Logger: m.log, stats: &m.stats})
	if err != nil {
		m.wg.Done()
		return nil, err
	}
	m.mu.Lock()
	if old := m.recs[key]; old != nil && !replace {
		select {
		case <-old.Done():
		default:
			m.mu.Unlock()
			r.Stop() // lost a race with another Start
			m.wg.Done()
			return nil, ErrRecording
		}
	}
	old := m.recs[key]
	m.recs[key] = r
	m.mu.Unlock()
	if old != nil && replace {
		// The previous publisher's recording: it ends at its
		// unpublish, or, when the new publisher replaced the old one
		// (live.Config.ReplacePublisher), now, after what it has queued.
		go old.Stop()
	}
	go func() {
		defer m.wg.Done()
		<-r.Done()
		st := r.Status()
		m.mu.Lock()
		if m.recs[key] == r {
			delete(m.recs, key)
		}
		if len(m.ended) == maxEnded {
			m.ended = append(m.ended[:0], m.ended[1:]...)
		}
		m.ended = append(m.ended, st)
		m.mu.Unlock()
	}()
	return r, nil
}

// Stop stops the recording of one stream (POST /v1/record/stop) and
// returns once its file is closed.
func (m *Manager) Stop(key live.Key) error {
	m.mu.Lock()
	r := m.recs[key]
	m.mu.Unlock()
	if r == nil {
		return ErrNotRecording
	}
	r.Stop()
	return nil
}

// Recording returns the recorder of a stream, or nil.
func (m *Manager) Recording(key live.Key) *Recorder {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.recs[key]
}

// Recordings returns the status of every running recording, sorted by
// stream.
func (m *Manager) Recordings() []Status {
	m.mu.Lock()
	rs := make([]*Recorder, 0, len(m.recs))
	for _, r := range m.recs {
		rs = append(rs, r)
	}
	m.mu.Unlock()
	out := make([]Status, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Status())
	}
	slices.SortFunc(out, func(a, b Status) int {
		return cmp.Or(cmp.Compare(a.Key.App, b.Key.App), cmp.Compare(a.Key.Name, b.Key.Name))
	})
	return out
}

// Ended returns the status of the last recordings that ended (up to 32),
// oldest first: why each ended (Status.Ended), and the write error that
// stopped one (Status.Error), such as a full disk.
func (m *Manager) Ended() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.ended)
}

// Stats are a manager's totals, for metrics.
type Stats struct {
	// Active counts the recordings running.
	Active int
	// Files counts the files finished, Bytes their bytes.
	Files, Bytes uint64
	// Errors counts the recordings a write error stopped.
	Errors uint64
	// Lost counts the packets lost because a recorder fell behind, in
	// LossEvents events.
	Lost, LossEvents uint64
}

// Stats returns the manager's totals.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	n := len(m.recs)
	m.mu.Unlock()
	return Stats{Active: n, Files: m.stats.files.Load(), Bytes: m.stats.bytes.Load(), Errors: m.stats.errors.Load(),
		Lost: m.stats.lost.Load(), LossEvents: m.stats.lossEvents.Load()}
}

// Shutdown stops every recording (what is queued is written, files are
// closed) and refuses new ones. Call it before the hub's Shutdown, which
// would end the recordings' subscriptions at once. It returns ctx's
// error if the recordings did not end in time.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	m.shutdown = true
	rs := make([]*Recorder, 0, len(m.recs))
	for _, r := range m.recs {
		rs = append(rs, r)
	}
	m.mu.Unlock()
	for _, r := range rs {
		r.stopOnce.Do(func() { close(r.stop) })
	}
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
