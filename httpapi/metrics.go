package httpapi

import (
	"strings"
	"sync"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
	"github.com/prometheus/client_golang/prometheus"
)

// Label values come from the code, never from a peer: a session's kind
// ("publish", "play") and protocol (set by whoever publishes or subscribes:
// "rtmp", "rtmps", "http-flv", ...), close reasons (live.Reason and
// rtmp.CloseReason, closed enums), hook names and outcomes (from the auth
// code, and capped by maxHookSeries besides). No stream name, app or
// address is a label: per-stream figures are in the JSON API.

// maxHookSeries caps the distinct (hook, outcome) pairs of the hook
// histogram; later pairs are counted under hook="other", outcome="other".
const maxHookSeries = 64

// hookBuckets are latencies in seconds, from a local decision (a key
// compared in memory) to an HTTP hook near its timeout.
var hookBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// series is a (kind, protocol) pair of labels.
type series struct{ kind, protocol string }

// totals are the counts of the sessions of one series.
type totals struct{ in, out, dropped uint64 }

// tracked is a started session whose counts the collector follows until it
// ends. Its counts only grow: each is the largest value seen.
type tracked struct {
	s series
	totals
}

// metrics holds the server's Prometheus metrics. Counters of events are
// client_golang vectors; the gauges, and the byte and drop counters that
// must include sessions still running, are read from the hub at scrape
// time (Collect). Safe for concurrent use.
type metrics struct {
	hub func() *live.Hub // immutable; the hub may be nil until set

	started    *prometheus.CounterVec   // kind, protocol
	ended      *prometheus.CounterVec   // kind, protocol, reason
	connCloses *prometheus.CounterVec   // reason
	hooks      *prometheus.HistogramVec // hook, outcome

	sessionsDesc, playersDesc, streamsDesc, publishedDesc *prometheus.Desc
	inDesc, outDesc, droppedDesc                          *prometheus.Desc
	// The hub's memory budget (live.Config.Budget), when it has one.
	budgetDesc, usedDesc, peakDesc           *prometheus.Desc
	refusalsDesc, trimsDesc, budgetCloseDesc *prometheus.Desc

	// Guarded by mu.
	mu sync.Mutex
	// running are the sessions started and not ended, by ID; done the
	// counts of the ended ones. A session is in exactly one of them from
	// its Start on, so a total (done plus running) never goes backwards.
	running map[uint64]*tracked
	done    map[series]totals
	// gauges are the series of the session and player gauges shown once,
	// kept (at 0) so that a series does not vanish between scrapes.
	gauges  map[series]bool
	players map[string]bool
	// hookSeries are the (hook, outcome) pairs seen, up to maxHookSeries.
	hookSeries map[[2]string]bool
}

func newMetrics(hub func() *live.Hub) *metrics {
	m := &metrics{
		hub: hub,
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ertmp_sessions_started_total",
			Help: "Publish and play sessions the hub took, by kind and protocol.",
		}, []string{"kind", "protocol"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ertmp_sessions_ended_total",
			Help: "Publish and play sessions that ended, refused ones included, by kind, protocol and close reason (rejected, slow consumer, kicked, ...).",
		}, []string{"kind", "protocol", "reason"}),
		connCloses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ertmp_connection_closes_total",
			Help: "RTMP connections that ended before they published or played, by reason (handshake failed, handshake timeout, too many connections, ...).",
		}, []string{"reason"}),
		hooks: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ertmp_hook_duration_seconds",
			Help:    "Time taken by authorization and notification hooks, by hook and outcome (allow, refuse, rename, error, ...).",
			Buckets: hookBuckets,
		}, []string{"hook", "outcome"}),
		sessionsDesc: prometheus.NewDesc("ertmp_sessions",
			"Open publish and play sessions, by kind and protocol.", []string{"kind", "protocol"}, nil),
		playersDesc: prometheus.NewDesc("ertmp_players",
			"Subscribers of the hub's streams (those waiting for a publisher included), by protocol.", []string{"protocol"}, nil),
		streamsDesc: prometheus.NewDesc("ertmp_streams",
			"Streams the hub knows: published, waiting for their publisher to return, or awaited by players.", nil, nil),
		publishedDesc: prometheus.NewDesc("ertmp_streams_published",
			"Streams with a publisher.", nil, nil),
		inDesc: prometheus.NewDesc("ertmp_received_bytes_total",
			"Bytes received on the connections of publish and play sessions (transport bytes after the handshake), by kind and protocol.", []string{"kind", "protocol"}, nil),
		outDesc: prometheus.NewDesc("ertmp_sent_bytes_total",
			"Bytes sent on the connections of publish and play sessions (transport bytes after the handshake), by kind and protocol.", []string{"kind", "protocol"}, nil),
		droppedDesc: prometheus.NewDesc("ertmp_dropped_packets_total",
			"Packets that subscribers' queue policies skipped because the subscriber fell behind, by protocol.", []string{"protocol"}, nil),
		budgetDesc: prometheus.NewDesc("ertmp_memory_budget_bytes",
			"The server-wide memory budget: what peers may make the server keep (reassembly buffers, GOP caches, player queues, kept frames).", nil, nil),
		usedDesc: prometheus.NewDesc("ertmp_memory_used_bytes",
			"Bytes charged to the memory budget now.", nil, nil),
		peakDesc: prometheus.NewDesc("ertmp_memory_used_peak_bytes",
			"The most bytes charged to the memory budget at once since the start.", nil, nil),
		refusalsDesc: prometheus.NewDesc("ertmp_memory_budget_refusals_total",
			"Demands the memory budget refused: large messages (their connection closed), data frames not kept.", nil, nil),
		trimsDesc: prometheus.NewDesc("ertmp_memory_budget_trims_total",
			"GOP caches cut to their key frame for the memory budget.", nil, nil),
		budgetCloseDesc: prometheus.NewDesc("ertmp_memory_budget_closes_total",
			"Players with the largest backlogs closed for the memory budget.", nil, nil),
		running:    map[uint64]*tracked{},
		done:       map[series]totals{},
		gauges:     map[series]bool{{"publish", "rtmp"}: true, {"play", "rtmp"}: true},
		players:    map[string]bool{"rtmp": true},
		hookSeries: map[[2]string]bool{},
	}
	// Every connection-level reason starts at 0, so that a rate over the
	// first failure is not lost.
	for r := rtmp.CloseReason(1); !strings.HasPrefix(r.String(), "reason("); r++ {
		m.connCloses.WithLabelValues(r.String())
	}
	return m
}

// register adds the metrics to reg.
func (m *metrics) register(reg prometheus.Registerer) {
	reg.MustRegister(m.started, m.ended, m.connCloses, m.hooks, m)
}

func seriesOf(s *live.Session) series {
	p := s.Protocol
	if p == "" {
		p = "unknown"
	}
	return series{s.KindName(), p}
}

// start is the Start hook.
func (m *metrics) start(s *live.Session) {
	k := seriesOf(s)
	m.started.WithLabelValues(k.kind, k.protocol).Inc()
	m.mu.Lock()
	m.running[s.ID] = &tracked{s: k}
	m.mu.Unlock()
}

// end is the End hook: the session's counts move from running to done,
// each the larger of its final value and the last one a scrape saw.
func (m *metrics) end(s *live.Session, e live.SessionEnd) {
	k := seriesOf(s)
	m.ended.WithLabelValues(k.kind, k.protocol, e.Reason.String()).Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	t := totals{e.BytesIn, e.BytesOut, e.Dropped}
	if r := m.running[s.ID]; r != nil {
		t = t.max(r.totals)
		delete(m.running, s.ID)
	}
	m.done[k] = m.done[k].add(t)
}

func (t totals) add(u totals) totals {
	return totals{t.in + u.in, t.out + u.out, t.dropped + u.dropped}
}
func (t totals) max(u totals) totals {
	return totals{max(t.in, u.in), max(t.out, u.out), max(t.dropped, u.dropped)}
}

// connClosed counts a connection that ended before publish or play.
func (m *metrics) connClosed(ci rtmp.ConnInfo) {
	m.connCloses.WithLabelValues(ci.Reason.String()).Inc()
}

// observeHook records a hook call.
func (m *metrics) observeHook(hook, outcome string, d time.Duration) {
	key := [2]string{hook, outcome}
	m.mu.Lock()
	if !m.hookSeries[key] {
		if len(m.hookSeries) >= maxHookSeries {
			key = [2]string{"other", "other"}
		} else {
			m.hookSeries[key] = true
		}
	}
	m.mu.Unlock()
	m.hooks.WithLabelValues(key[0], key[1]).Observe(d.Seconds())
}

// Describe implements prometheus.Collector for the scrape-time metrics.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.sessionsDesc, m.playersDesc, m.streamsDesc, m.publishedDesc, m.inDesc, m.outDesc, m.droppedDesc,
		m.budgetDesc, m.usedDesc, m.peakDesc, m.refusalsDesc, m.trimsDesc, m.budgetCloseDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it reads the hub's streams and
// sessions first, so that no hub lock is ever taken while mu is held.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	var streams []live.StreamInfo
	var sessions []live.SessionInfo
	hub := m.hub()
	if hub != nil {
		streams, sessions = hub.Streams(), hub.Sessions()
		if b := hub.Budget(); b != nil {
			st := b.Stats()
			ch <- prometheus.MustNewConstMetric(m.budgetDesc, prometheus.GaugeValue, float64(st.Limit))
			ch <- prometheus.MustNewConstMetric(m.usedDesc, prometheus.GaugeValue, float64(st.Used))
			ch <- prometheus.MustNewConstMetric(m.peakDesc, prometheus.GaugeValue, float64(st.Peak))
			ch <- prometheus.MustNewConstMetric(m.refusalsDesc, prometheus.CounterValue, float64(st.Refused))
			ch <- prometheus.MustNewConstMetric(m.trimsDesc, prometheus.CounterValue, float64(st.Trimmed))
			ch <- prometheus.MustNewConstMetric(m.budgetCloseDesc, prometheus.CounterValue, float64(st.Closed))
		}
	}

	open := map[series]int{}
	for _, si := range sessions {
		open[seriesOf(si.Session)]++
	}
	players := map[string]int{}
	published := 0
	for _, st := range streams {
		if st.Publishing {
			published++
		}
		for p, n := range st.Protocols {
			players[p] += n
		}
	}

	m.mu.Lock()
	for _, si := range sessions {
		// A session that ended since the snapshot is in done already;
		// one that started since keeps the counts it had.
		if r := m.running[si.ID]; r != nil {
			r.totals = r.totals.max(totals{si.BytesIn, si.BytesOut, si.Dropped})
		}
	}
	sum := make(map[series]totals, len(m.done)+2)
	for k, t := range m.done {
		sum[k] = t
	}
	for _, r := range m.running {
		sum[r.s] = sum[r.s].add(r.totals)
	}
	for k := range open {
		m.gauges[k] = true
	}
	for p := range players {
		m.players[p] = true
	}
	gauges := make([]series, 0, len(m.gauges))
	for k := range m.gauges {
		gauges = append(gauges, k)
	}
	protocols := make([]string, 0, len(m.players))
	for p := range m.players {
		protocols = append(protocols, p)
	}
	m.mu.Unlock()

	for _, k := range gauges {
		ch <- prometheus.MustNewConstMetric(m.sessionsDesc, prometheus.GaugeValue, float64(open[k]), k.kind, k.protocol)
	}
	for _, p := range protocols {
		ch <- prometheus.MustNewConstMetric(m.playersDesc, prometheus.GaugeValue, float64(players[p]), p)
	}
	ch <- prometheus.MustNewConstMetric(m.streamsDesc, prometheus.GaugeValue, float64(len(streams)))
	ch <- prometheus.MustNewConstMetric(m.publishedDesc, prometheus.GaugeValue, float64(published))
	dropped := map[string]uint64{}
	for k, t := range sum {
		ch <- prometheus.MustNewConstMetric(m.inDesc, prometheus.CounterValue, float64(t.in), k.kind, k.protocol)
		ch <- prometheus.MustNewConstMetric(m.outDesc, prometheus.CounterValue, float64(t.out), k.kind, k.protocol)
		dropped[k.protocol] += t.dropped
	}
	for p, n := range dropped {
		ch <- prometheus.MustNewConstMetric(m.droppedDesc, prometheus.CounterValue, float64(n), p)
	}
}
