package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/record"
	"github.com/ertmp/rtmp/relay"
	"github.com/prometheus/client_golang/prometheus"
)

// SetRecorder sets the record manager behind GET /v1/record and POST
// /v1/record/start and /v1/record/stop (without one they answer 501), and
// the ertmp_record_* metrics.
func (a *API) SetRecorder(m *record.Manager) { a.rec.Store(m) }

// SetRelay sets the relay manager behind GET /v1/relays (without one it
// answers 501), and the ertmp_relay_* metrics.
func (a *API) SetRelay(m *relay.Manager) { a.rel.Store(m) }

// recordRequest is the body of POST /v1/record/start and stop.
type recordRequest struct {
	App  string `json:"app"`
	Name string `json:"name"`
}

func (a *API) recorderOr(w http.ResponseWriter) *record.Manager {
	m := a.rec.Load()
	if m == nil {
		writeError(w, http.StatusNotImplemented, "recording is not configured")
	}
	return m
}

func (a *API) recordings(w http.ResponseWriter, r *http.Request) {
	m := a.recorderOr(w)
	if m == nil {
		return
	}
	rs, ended := m.Recordings(), m.Ended()
	for _, l := range [][]record.Status{rs, ended} {
		for i := range l {
			l[i].Key.Name = a.redact(l[i].Key.Name)
			l[i].Path = a.redact(l[i].Path)
			l[i].Error = a.redact(l[i].Error)
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Recordings []record.Status `json:"recordings"`
		Ended      []record.Status `json:"ended"`
	}{rs, ended})
}

func (a *API) recordStart(w http.ResponseWriter, r *http.Request) { a.recordCall(w, r, true) }
func (a *API) recordStop(w http.ResponseWriter, r *http.Request)  { a.recordCall(w, r, false) }

func (a *API) recordCall(w http.ResponseWriter, r *http.Request, start bool) {
	m := a.recorderOr(w)
	if m == nil {
		return
	}
	var req recordRequest
	if err := decodeBody(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.App == "" || req.Name == "" {
		writeError(w, http.StatusBadRequest, `give "app" and "name"`)
		return
	}
	key := live.Key{App: req.App, Name: req.Name}
	var err error
	var st record.Status
	if start {
		var rec *record.Recorder
		rec, err = m.Start(context.Background(), key)
		if err == nil {
			st = rec.Status()
		}
	} else {
		err = m.Stop(key)
	}
	a.log.Info("httpapi: record", "start", start, "app", key.App, "name", a.redact(key.Name), "by", r.RemoteAddr, "err", errString(err))
	switch {
	case errors.Is(err, record.ErrNotConfigured):
		writeError(w, http.StatusConflict, "app "+key.App+" has no record config (record: {dir: ...})")
	case errors.Is(err, record.ErrRecording):
		writeError(w, http.StatusConflict, "already recording")
	case errors.Is(err, record.ErrNotRecording):
		writeError(w, http.StatusNotFound, "not recording")
	case errors.Is(err, live.ErrStreamNotFound):
		writeError(w, http.StatusNotFound, "no such stream")
	case err != nil:
		writeError(w, http.StatusInternalServerError, a.redact(err.Error()))
	case start:
		st.Key.Name = a.redact(st.Key.Name)
		st.Path = a.redact(st.Path)
		writeJSON(w, http.StatusOK, struct {
			Recording record.Status `json:"recording"`
		}{st})
	default:
		writeJSON(w, http.StatusOK, struct {
			Stopped recordRequest `json:"stopped"`
		}{recordRequest{App: key.App, Name: a.redact(key.Name)}})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (a *API) relays(w http.ResponseWriter, r *http.Request) {
	m := a.rel.Load()
	if m == nil {
		writeError(w, http.StatusNotImplemented, "relays are not configured")
		return
	}
	pushes, pulls := m.Pushes(), m.Pulls()
	writeJSON(w, http.StatusOK, struct {
		Pushes []relay.PushStatus `json:"pushes"`
		Pulls  []relay.PullStatus `json:"pulls"`
	}{pushes, pulls})
}

// recordMetrics are the ertmp_record_* metrics, read from the record
// manager's Stats at scrape time (nothing until SetRecorder).
type recordMetrics struct {
	rec                                            func() *record.Manager
	active, files, bytes, errors, lost, lossEvents *prometheus.Desc
}

func newRecordMetrics(rec func() *record.Manager) *recordMetrics {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &recordMetrics{rec: rec,
		active:     d("ertmp_record_active", "Recordings running."),
		files:      d("ertmp_record_files_total", "Recorded files finished."),
		bytes:      d("ertmp_record_bytes_total", "Bytes of the recorded files finished."),
		errors:     d("ertmp_record_errors_total", "Recordings a write error stopped."),
		lost:       d("ertmp_record_lost_packets_total", "Packets lost because a recorder fell behind."),
		lossEvents: d("ertmp_record_loss_events_total", "Times a recorder fell behind and lost packets."),
	}
}

func (r *recordMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{r.active, r.files, r.bytes, r.errors, r.lost, r.lossEvents} {
		ch <- d
	}
}

func (r *recordMetrics) Collect(ch chan<- prometheus.Metric) {
	m := r.rec()
	if m == nil {
		return
	}
	st := m.Stats()
	ch <- prometheus.MustNewConstMetric(r.active, prometheus.GaugeValue, float64(st.Active))
	for _, c := range []struct {
		d *prometheus.Desc
		v uint64
	}{{r.files, st.Files}, {r.bytes, st.Bytes}, {r.errors, st.Errors}, {r.lost, st.Lost}, {r.lossEvents, st.LossEvents}} {
		ch <- prometheus.MustNewConstMetric(c.d, prometheus.CounterValue, float64(c.v))
	}
}

// relayMetrics are the ertmp_relay_* metrics, read from the relay
// manager's Stats at scrape time (nothing until SetRelay). Their labels
// are the relay kind (push: a push target; pull: a pull), a state and a
// failure reason, closed sets; per-target figures (URL, last error) are
// in GET /v1/relays.
type relayMetrics struct {
	rel                                      func() *relay.Manager
	relays, reconnects, bytes, packets, lost *prometheus.Desc
	failures                                 *prometheus.Desc
}

func newRelayMetrics(rel func() *relay.Manager) *relayMetrics {
	return &relayMetrics{rel: rel,
		relays: prometheus.NewDesc("ertmp_relay_connections",
			"Push targets and pulls running, by kind (push, pull) and state (connecting, connected, retrying).", []string{"kind", "state"}, nil),
		reconnects: prometheus.NewDesc("ertmp_relay_reconnects_total",
			"Relay connections lost, refused or ended, after which the relay connects again, by kind.", []string{"kind"}, nil),
		bytes: prometheus.NewDesc("ertmp_relay_bytes_total",
			"Bytes sent to push targets (kind push) or received from upstreams (kind pull).", []string{"kind"}, nil),
		packets: prometheus.NewDesc("ertmp_relay_packets_total",
			"Packets sent to push targets (kind push) or published by pulls (kind pull).", []string{"kind"}, nil),
		lost: prometheus.NewDesc("ertmp_relay_lost_packets_total",
			"Packets a slow push target's queue dropped (video up to a key frame).", nil, nil),
		failures: prometheus.NewDesc("ertmp_relay_failures_total",
			"Relay connection failures by kind and reason (unreachable, timeout, tls, refused, closed, upstream ended, other).", []string{"kind", "reason"}, nil),
	}
}

func (r *relayMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{r.relays, r.reconnects, r.bytes, r.packets, r.lost, r.failures} {
		ch <- d
	}
}

func (r *relayMetrics) Collect(ch chan<- prometheus.Metric) {
	m := r.rel()
	if m == nil {
		return
	}
	st := m.Stats()
	for _, k := range []struct {
		name string
		s    *relay.KindStats
	}{{"push", &st.Push}, {"pull", &st.Pull}} {
		for _, s := range []struct {
			state relay.State
			n     int
		}{{relay.StateConnecting, k.s.Connecting}, {relay.StateConnected, k.s.Connected}, {relay.StateRetrying, k.s.Retrying}} {
			ch <- prometheus.MustNewConstMetric(r.relays, prometheus.GaugeValue, float64(s.n), k.name, s.state.String())
		}
		ch <- prometheus.MustNewConstMetric(r.reconnects, prometheus.CounterValue, float64(k.s.Reconnects), k.name)
		ch <- prometheus.MustNewConstMetric(r.bytes, prometheus.CounterValue, float64(k.s.Bytes), k.name)
		ch <- prometheus.MustNewConstMetric(r.packets, prometheus.CounterValue, float64(k.s.Packets), k.name)
		for _, f := range relay.Failures() {
			ch <- prometheus.MustNewConstMetric(r.failures, prometheus.CounterValue, float64(k.s.Failures[f]), k.name, f.String())
		}
	}
	ch <- prometheus.MustNewConstMetric(r.lost, prometheus.CounterValue, float64(st.Push.Lost))
}
