package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/record"
	"github.com/ertmp/rtmp/relay"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure an API.
type Options struct {
	// Hub is the hub the API reports on and kicks sessions of. It may be
	// left nil and set with SetHub once the hub exists (its Config.Hooks
	// need the API's Hooks first).
	Hub *live.Hub
	// Token is the bearer token every request under /v1/ must carry
	// (Authorization: Bearer TOKEN). Empty, the API is open: bind the
	// listener to a trusted address. /metrics and /healthz never ask.
	Token string
	// Logger gets a line per kick and drain; nil means slog.Default().
	Logger *slog.Logger
	// Drain, when set, is what POST /v1/drain starts: it runs on a
	// goroutine of its own (the request does not wait for it), at most
	// once at a time, with a context that no request cancels. Without it
	// POST /v1/drain answers 501.
	Drain func(ctx context.Context) error
	// Redact, when set, hides a stream name that is a secret (a stream
	// key used as the name) in what the API shows.
	Redact func(string) string
	// Cluster, when set, is what GET /v1/cluster shows: the cluster's
	// nodes and which node holds which stream (a JSON value, names
	// redacted). Without it GET /v1/cluster answers 501.
	Cluster func() any
}

// API is the HTTP side of an ertmp server: Prometheus metrics, a health
// check and a JSON API under /v1/. Mount it on an http.Server (it serves
// the paths below from the root). Hooks and ConnClosed feed its metrics;
// hand them to the hub and the rtmp.Server. An API is safe for concurrent
// use.
//
//	GET  /metrics                    Prometheus text format
//	GET  /healthz                    200 ok; 503 once draining
//	GET  /v1/streams                 {"streams": [live.StreamInfo...]}
//	GET  /v1/streams/{app}/{name...} one live.StreamInfo; 404 if unknown
//	GET  /v1/sessions                {"sessions": [live.SessionInfo...]}
//
// Streams and sessions carry "uptime" too: seconds since the publisher
// started (0 with none) or since the hub took the session.
//
//	POST /v1/kick                    {"id": N} or {"app": A, "name": N}
//	POST /v1/drain                   starts Options.Drain; 202
//	GET  /v1/record                  {"recordings": [record.Status...], "ended": [the last 32 ended]}
//	POST /v1/record/start            {"app": A, "name": N}: records one stream
//	POST /v1/record/stop             {"app": A, "name": N}: stops its recording
//	GET  /v1/relays                  {"pushes": [...], "pulls": [...]}
//	GET  /v1/cluster                 Options.Cluster: nodes, streams, pulls
//
// Errors are JSON, {"error": "..."}, with the status code (401 for a
// missing or wrong token, 404, 405 with Allow, 400 for a bad body).
type API struct {
	// token is the digest of the bearer token, nil for none (SetToken).
	token atomic.Pointer[[sha256.Size]byte]
	// Immutable after New.
	redact  func(string) string
	log     *slog.Logger
	drainFn func(context.Context) error
	cluster func() any
	mux     *http.ServeMux
	m       *metrics

	hub      atomic.Pointer[live.Hub]
	draining atomic.Bool
	drainOn  atomic.Bool // a Drain call is running or has succeeded
	rec      atomic.Pointer[record.Manager]
	rel      atomic.Pointer[relay.Manager]
}

// New returns an API with its own Prometheus registry: the ertmp_ metrics
// (see the package doc), the Go runtime's and the process's.
func New(o Options) *API {
	a := &API{log: o.Logger, drainFn: o.Drain, mux: http.NewServeMux(), redact: o.Redact, cluster: o.Cluster}
	if a.redact == nil {
		a.redact = func(s string) string { return s }
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.SetToken(o.Token)
	a.hub.Store(o.Hub)
	a.m = newMetrics(a.hub.Load)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.m.register(reg)
	reg.MustRegister(newRecordMetrics(a.rec.Load), newRelayMetrics(a.rel.Load))
	metricsHandler := promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            promLog{a.log},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	}))

	a.mux.Handle("GET /metrics", metricsHandler)
	a.mux.HandleFunc("GET /healthz", a.healthz)
	a.mux.HandleFunc("GET /v1/streams", a.streams)
	a.mux.HandleFunc("GET /v1/streams/{app}/{name...}", a.stream)
	a.mux.HandleFunc("GET /v1/sessions", a.sessions)
	a.mux.HandleFunc("POST /v1/kick", a.kick)
	a.mux.HandleFunc("POST /v1/drain", a.drain)
	a.mux.HandleFunc("GET /v1/record", a.recordings)
	a.mux.HandleFunc("POST /v1/record/start", a.recordStart)
	a.mux.HandleFunc("POST /v1/record/stop", a.recordStop)
	a.mux.HandleFunc("GET /v1/relays", a.relays)
	a.mux.HandleFunc("GET /v1/cluster", a.clusterView)
	return a
}

// SetHub sets the hub when it was not in Options: the hub's Config.Hooks
// are fixed by live.NewHub and include the API's Hooks, so the API may
// have to come first. Until then /v1/ answers 503 and /metrics has no hub
// figures.
func (a *API) SetHub(h *live.Hub) { a.hub.Store(h) }

// SetToken replaces the bearer token (a reloaded configuration); empty
// means none. Requests already authorized are not affected.
func (a *API) SetToken(token string) {
	if token == "" {
		a.token.Store(nil)
		return
	}
	sum := sha256.Sum256([]byte(token))
	a.token.Store(&sum)
}

// SetDraining makes /healthz answer 503 (true) or 200 (false), so that a
// load balancer stops sending players while the server drains.
func (a *API) SetDraining(on bool) { a.draining.Store(on) }

// Hooks are the hub hooks that count sessions started and ended (by kind,
// protocol and reason) and carry their byte and drop counts into the
// counters when they end. Join them with the others (live.JoinHooks) into
// the hub's Config.Hooks; without them the session counters stay at 0.
func (a *API) Hooks() live.Hooks {
	return live.Hooks{Start: a.m.start, End: a.m.end}
}

// ConnClosed counts a connection that ended before it published or played
// (ertmp_connection_closes_total by reason). Set it as the
// rtmp.Server's OnConnClose; it does not block.
func (a *API) ConnClosed(ci rtmp.ConnInfo) { a.m.connClosed(ci) }

// ObserveHook records a call of an authorization or notification hook
// (hook: "on_connect", "on_publish", ...) that took d and ended with
// outcome ("allow", "refuse", "rename", "error", ...), in the histogram
// ertmp_hook_duration_seconds. Both are labels: pass names from the code,
// never from a peer (past 64 pairs, new ones count as "other").
func (a *API) ObserveHook(hook string, d time.Duration, outcome string) {
	a.m.observeHook(hook, outcome, d)
}

// ServeHTTP serves the paths listed on API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; (p == "/v1" || strings.HasPrefix(p, "/v1/")) && !a.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ertmp"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
		return
	}
	if h, pattern := a.mux.Handler(r); pattern == "" {
		// The mux's own 404 or 405: its status and Allow, as JSON.
		rec := &statusRecorder{header: http.Header{}, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		writeError(w, rec.code, strings.ToLower(http.StatusText(rec.code)))
		return
	}
	a.mux.ServeHTTP(w, r)
}

// authorized compares the request's bearer token with Options.Token in
// constant time (over their digests, so neither does the length leak).
func (a *API) authorized(r *http.Request) bool {
	want := a.token.Load()
	if want == nil {
		return true
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}

func (a *API) clusterView(w http.ResponseWriter, r *http.Request) {
	if a.cluster == nil {
		writeError(w, http.StatusNotImplemented, "not a cluster node (no cluster nats: configured)")
		return
	}
	writeJSON(w, http.StatusOK, a.cluster())
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if a.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "draining\n")
		return
	}
	io.WriteString(w, "ok\n")
}

// hubOr answers 503 when no hub is set yet.
func (a *API) hubOr(w http.ResponseWriter) *live.Hub {
	h := a.hub.Load()
	if h == nil {
		writeError(w, http.StatusServiceUnavailable, "no hub yet")
	}
	return h
}

func (a *API) streams(w http.ResponseWriter, r *http.Request) {
	hub := a.hubOr(w)
	if hub == nil {
		return
	}
	ss := hub.Streams()
	out := make([]streamView, len(ss))
	now := time.Now()
	for i := range ss {
		a.redactStream(&ss[i])
		out[i] = newStreamView(ss[i], now)
	}
	writeJSON(w, http.StatusOK, struct {
		Streams []streamView `json:"streams"`
	}{out})
}

// streamView is a stream as the API shows it: the hub's snapshot and its
// uptime by the server's clock, which a status page shows without
// trusting the browser's.
type streamView struct {
	live.StreamInfo
	// Uptime is the seconds since the publisher started, 0 with none.
	Uptime float64 `json:"uptime"`
}

func newStreamView(si live.StreamInfo, now time.Time) streamView {
	v := streamView{StreamInfo: si}
	if si.Publishing && !si.Since.IsZero() {
		v.Uptime = seconds(now.Sub(si.Since))
	}
	return v
}

// sessionView is a session as the API shows it, with its uptime.
type sessionView struct {
	live.SessionInfo
	// Uptime is the seconds since the hub took the session.
	Uptime float64 `json:"uptime"`
}

// seconds rounds d to tenths of a second, never below 0.
func seconds(d time.Duration) float64 {
	return float64(max(d, 0).Round(100*time.Millisecond)) / float64(time.Second)
}

func (a *API) stream(w http.ResponseWriter, r *http.Request) {
	hub := a.hubOr(w)
	if hub == nil {
		return
	}
	k := live.Key{App: r.PathValue("app"), Name: r.PathValue("name")}
	for _, si := range hub.Streams() {
		if si.Key == k {
			a.redactStream(&si)
			writeJSON(w, http.StatusOK, newStreamView(si, time.Now()))
			return
		}
	}
	writeError(w, http.StatusNotFound, "no stream "+k.String())
}

func (a *API) sessions(w http.ResponseWriter, r *http.Request) {
	hub := a.hubOr(w)
	if hub == nil {
		return
	}
	ss := hub.Sessions()
	out := make([]sessionView, len(ss))
	now := time.Now()
	for i := range ss {
		ss[i].Session = a.redactSession(ss[i].Session)
		out[i] = sessionView{SessionInfo: ss[i]}
		if !ss[i].Start.IsZero() {
			out[i].Uptime = seconds(now.Sub(ss[i].Start))
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions []sessionView `json:"sessions"`
	}{out})
}

// kickRequest names a session by ID, or a stream whose publisher to end.
type kickRequest struct {
	ID   *uint64 `json:"id,omitempty"`
	App  string  `json:"app,omitempty"`
	Name string  `json:"name,omitempty"`
}

// maxBody bounds a request body.
const maxBody = 64 << 10

func (a *API) kick(w http.ResponseWriter, r *http.Request) {
	hub := a.hubOr(w)
	if hub == nil {
		return
	}
	var req kickRequest
	if err := decodeBody(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var err error
	switch {
	case req.ID != nil && (req.App != "" || req.Name != ""):
		writeError(w, http.StatusBadRequest, `give either "id" or "app" and "name", not both`)
		return
	case req.ID != nil:
		err = hub.Kick(*req.ID)
		a.log.Info("httpapi: kick session", "id", *req.ID, "by", r.RemoteAddr, "found", err == nil)
	case req.Name != "":
		k := live.Key{App: req.App, Name: req.Name}
		err = hub.KickPublisher(k)
		a.log.Info("httpapi: kick publisher", "app", k.App, "name", k.Name, "by", r.RemoteAddr, "found", err == nil)
	default:
		writeError(w, http.StatusBadRequest, `give "id", or "app" and "name"`)
		return
	}
	switch {
	case errors.Is(err, live.ErrNoSession):
		writeError(w, http.StatusNotFound, "no such session or publisher")
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, struct {
			Kicked kickRequest `json:"kicked"`
		}{req})
	}
}

func (a *API) drain(w http.ResponseWriter, r *http.Request) {
	if a.drainFn == nil {
		writeError(w, http.StatusNotImplemented, "drain is not configured")
		return
	}
	a.SetDraining(true)
	if a.drainOn.CompareAndSwap(false, true) {
		a.log.Info("httpapi: drain requested", "by", r.RemoteAddr)
		go func() {
			if err := a.drainFn(context.Background()); err != nil {
				a.log.Error("httpapi: drain failed", "err", err)
				a.drainOn.Store(false) // another request may try again
				return
			}
			a.log.Info("httpapi: drain done")
		}()
	}
	writeJSON(w, http.StatusAccepted, struct {
		Draining bool `json:"draining"`
	}{true})
}

// decodeBody reads one JSON value of at most maxBody bytes into v,
// refusing unknown fields.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("bad JSON body: more than one value")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// redactStream hides what may carry a secret: a stream name that is a
// key (Options.Redact), and its publisher's.
func (a *API) redactStream(si *live.StreamInfo) {
	si.Name = a.redact(si.Name)
	if si.Publisher != nil {
		si.Publisher = a.redactSession(si.Publisher)
	}
}

// redactSession returns a copy of s without the query of its tcUrl, where
// clients put stream keys and tokens, and with its names passed through
// Options.Redact (the hub's Session is shared and must not change; its
// Query is never serialized).
func (a *API) redactSession(s *live.Session) *live.Session {
	c := *s
	if i := strings.IndexByte(c.TcURL, '?'); i >= 0 {
		c.TcURL = c.TcURL[:i]
	}
	c.Stream, c.Key.Name = a.redact(c.Stream), a.redact(c.Key.Name)
	return &c
}

// statusRecorder takes the status and headers of the mux's own error
// answers.
type statusRecorder struct {
	header http.Header
	code   int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.code = code }

// promLog passes promhttp's errors to the logger.
type promLog struct{ l *slog.Logger }

func (p promLog) Println(v ...any) { p.l.Error("httpapi: metrics: " + fmt.Sprint(v...)) }
