package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/auth"
	"github.com/ertmp/rtmp/cluster"
	"github.com/ertmp/rtmp/hls"
	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/record"
	"github.com/ertmp/rtmp/relay"
)

// Options are what a program adds to a Config: where logs go, and the
// seams for metrics and the HTTP API.
type Options struct {
	// Logger gets the server's log lines, stream keys redacted; nil means
	// slog.Default().
	Logger *slog.Logger
	// Hooks run after the server's own (auth, then per-app limits), with
	// live.JoinHooks: for metrics and the API.
	Hooks live.Hooks
	// OnConnClose is rtmp.Server.OnConnClose (connections that end before
	// publish or play: handshake failures, limits).
	OnConnClose func(rtmp.ConnInfo)
	// Observe is told about every HTTP hook call (auth.Options.Observe).
	Observe func(hook string, d time.Duration, outcome string)
}

// Server is `ertmp serve`: the RTMP (and RTMPS) listeners, the live hub
// with auth and per-app limits, and the HTTP listener, run from a Config.
// Make one with New, then Run it (or Listen, then Run). Reload applies a
// new Config's keys, hooks, certificate and token to new sessions; Drain
// and Shutdown end it. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger
	cfg  atomic.Pointer[Config]
	// start is the configuration the listeners and the hub were made with.
	start *Config

	auth   *auth.Auth
	api    *httpapi.API
	limits *appLimits
	hub    *live.Hub
	rec    *record.Manager
	relay  *relay.Manager
	rtmp   *rtmp.Server
	hls    *hls.Server // nil when hls.enabled is off
	mux    *http.ServeMux
	http   *http.Server
	pprof  *http.Server // Go's profiling endpoints, on Config.Pprof
	cert   atomic.Pointer[tls.Certificate]
	// cluster is the node of a cluster, nil for a single node.
	cluster *cluster.Node

	mu       sync.Mutex
	listened bool
	rtmpLn   net.Listener
	rtmpsLn  net.Listener
	httpLn   net.Listener
	pprofLn  net.Listener
	// draining is set once Drain or Shutdown began: /healthz says 503,
	// listener errors are expected.
	draining atomic.Bool
	served   sync.WaitGroup
	failed   chan error
}

// New makes a server from cfg (see Load and Default); it listens on
// nothing yet.
func New(cfg *Config, o Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.Clone()
	s := &Server{opts: o, start: cfg, mux: http.NewServeMux(), failed: make(chan error, 4)}
	s.cfg.Store(cfg)
	base := o.Logger
	if base == nil {
		base = slog.Default()
	}
	s.log = slog.New(&redactHandler{next: base.Handler(), redact: s.Redact})
	rules, err := cfg.authRules()
	if err != nil {
		return nil, err
	}
	var clusterView func() any
	if cfg.Cluster.on() {
		nc := cfg.nodeConfig()
		nc.Logger = s.log
		if s.cluster, err = cluster.New(nc); err != nil {
			return nil, err
		}
		clusterView = s.clusterView
	}
	// The HTTP API and metrics (/metrics, /v1/): its hooks count every
	// session, so it comes before the hub.
	s.api = httpapi.New(httpapi.Options{Token: cfg.APIToken, Logger: s.log, Redact: s.Redact, Drain: func(ctx context.Context) error {
		_, err := s.Drain(ctx)
		return err
	}, Cluster: clusterView})
	observe := s.api.ObserveHook
	if o.Observe != nil {
		observe = func(hook string, d time.Duration, outcome string) {
			s.api.ObserveHook(hook, d, outcome)
			o.Observe(hook, d, outcome)
		}
	}
	if s.auth, err = auth.New(rules, auth.Options{Logger: s.log, Observe: observe}); err != nil {
		return nil, err
	}
	if cfg.RTMPS != "" {
		if err := s.loadCert(cfg); err != nil {
			return nil, err
		}
	}
	s.limits = newAppLimits(s.Config)
	hc := cfg.hubConfig()
	hc.Logger = s.log
	hc.App = func(app string) live.AppSettings {
		a, _ := s.Config().appOf(app)
		return a.hubSettings()
	}
	// Recording and relays, by the app config in force (a reload applies
	// to the next publish or play); their hooks act on the stream a
	// request ends up with, so they come after auth's.
	s.rec = record.NewManager(record.ManagerOptions{Logger: s.log,
		App: func(app string) (record.Config, bool) {
			a, _ := s.Config().appOf(app)
			return a.recordConfig()
		},
		OnFile: func(f record.File) {
			s.auth.RecordDone(auth.RecordDone{App: f.Key.App, Name: f.Key.Name, Path: f.Path, Reason: f.Reason.String(),
				Size: f.Size, Duration: f.Duration})
		}})
	s.relay = relay.NewManager(relay.Options{Logger: s.log,
		App: func(app string) relay.App {
			a, _ := s.Config().appOf(app)
			return a.relayApp()
		}})
	s.api.SetRecorder(s.rec)
	s.api.SetRelay(s.relay)
	hc.Hooks = live.JoinHooks(s.auth.Hooks(), s.limits.hooks(), s.api.Hooks(), s.rec.Hooks(), s.relay.Hooks(), s.clusterHooks(), o.Hooks)
	s.hub = live.NewHub(hc)
	s.api.SetHub(s.hub)
	s.rec.SetHub(s.hub)
	s.relay.SetHub(s.hub)
	if s.cluster != nil {
		s.cluster.SetHub(s.hub)
	}
	s.rtmp = cfg.rtmpServer()
	s.rtmp.Budget = s.hub.Budget() // one account for the server and its hub
	s.rtmp.Handler = s.hub
	s.rtmp.Logger = s.log
	s.rtmp.OnConnClose = func(ci rtmp.ConnInfo) {
		s.api.ConnClosed(ci)
		if o.OnConnClose != nil {
			o.OnConnClose(ci)
		}
	}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("/metrics", s.api)
	s.mux.Handle("/v1/", s.api)
	// Everything else: HTTP-FLV and WebSocket-FLV at /APP/STREAM.flv, HLS
	// at /APP/STREAM/index.m3u8 and the status page at /, through the same
	// dispatcher.
	root := &httpapi.Root{FLV: httpapi.NewFLV(s.hub, httpapi.FLVOptions{Logger: s.log}), Page: httpapi.NewPage()}
	if cfg.HLS.Enabled {
		if s.hls, err = hls.NewServer(s.hub, cfg.HLS.options(s.log)); err != nil {
			return nil, err
		}
		root.HLS = s.hls
	}
	s.mux.Handle("/", root)
	s.http = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.pprof = &http.Server{Handler: pprofMux(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	return s, nil
}

// API returns the HTTP API and metrics (mounted at /metrics and /v1/).
func (s *Server) API() *httpapi.API { return s.api }

// Recorder returns the record manager (recordings by app config and on
// request).
func (s *Server) Recorder() *record.Manager { return s.rec }

// Relay returns the relay manager (pushes and pulls by app config).
func (s *Server) Relay() *relay.Manager { return s.relay }

// startStaticPulls starts the static pulls of the configuration the server
// started with (pull: {url, streams}); they run until Shutdown (a reload
// does not change them).
func (s *Server) startStaticPulls() {
	for app, a := range s.start.Apps {
		if a.Pull.URL == "" || app == auth.DefaultApp {
			continue
		}
		for _, name := range a.Pull.Streams {
			k := live.Key{App: app, Name: name}
			if _, err := s.relay.StartPull(k, relay.PullURL(string(a.Pull.URL), name)); err != nil {
				s.log.Error("ertmp: static pull", "app", app, "stream", name, "err", err)
			}
		}
	}
}

// HLS returns the HLS server, nil when hls.enabled is off.
func (s *Server) HLS() *hls.Server { return s.hls }

// Hub returns the live hub (streams, sessions, kick).
func (s *Server) Hub() *live.Hub { return s.hub }

// RTMP returns the RTMP server (for its connection counts).
func (s *Server) RTMP() *rtmp.Server { return s.rtmp }

// HTTPMux returns the mux of the HTTP listener, to mount handlers on
// (/metrics, /v1/, and / for the streams: /APP/STREAM.flv); it serves
// /healthz. Handlers may be added while it
// serves.
func (s *Server) HTTPMux() *http.ServeMux { return s.mux }

// Config returns the configuration in force (the last one Reload
// applied). It must not be modified.
func (s *Server) Config() *Config { return s.cfg.Load() }

// Logger returns the server's logger (keys redacted).
func (s *Server) Logger() *slog.Logger { return s.log }

// Redact removes every stream key the server was ever configured with
// from v: for anything that shows stream names or URLs (logs, the API).
func (s *Server) Redact(v string) string {
	if s.auth == nil {
		return v
	}
	return s.auth.Redact(v)
}

// Draining reports whether a drain or shutdown began.
func (s *Server) Draining() bool { return s.draining.Load() }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "draining\n")
		return
	}
	io.WriteString(w, "ok\n")
}

func (s *Server) listen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{}
	if s.start.ReusePort {
		lc.Control = reusePort
	}
	return lc.Listen(context.Background(), "tcp", addr)
}

// Listen binds the listeners of the configuration (once) and logs their
// addresses; Run calls it when it was not called.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listened {
		return nil
	}
	c := s.start
	// Each listener, its address ("" for off), the field it goes in and
	// the word its log line and errors use.
	all := []struct {
		addr string
		ln   *net.Listener
		what string
		log  string
	}{
		{string(c.Listen), &s.rtmpLn, "listen", "ertmp: listening"},
		{withTLSPort(string(c.RTMPS)), &s.rtmpsLn, "rtmps", "ertmp: rtmps listening"},
		{string(c.HTTP), &s.httpLn, "http", "ertmp: http listening"},
		{string(c.Pprof), &s.pprofLn, "pprof", "ertmp: pprof listening"},
	}
	for i, l := range all {
		if l.addr == "" {
			continue
		}
		ln, err := s.listen(l.addr)
		if err != nil {
			for _, open := range all[:i] {
				if *open.ln != nil {
					(*open.ln).Close()
				}
			}
			return fmt.Errorf("%s: %w", l.what, err)
		}
		*l.ln = ln
	}
	s.listened = true
	for _, l := range all {
		if *l.ln != nil {
			s.log.Info(l.log, "addr", (*l.ln).Addr().String())
		}
	}
	return nil
}

func lnAddr(ln net.Listener) net.Addr {
	if ln == nil {
		return nil
	}
	return ln.Addr()
}

// Addr, RTMPSAddr and HTTPAddr return the listening addresses once
// listening (nil for a listener that is off).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return lnAddr(s.rtmpLn)
}

func (s *Server) RTMPSAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return lnAddr(s.rtmpsLn)
}

func (s *Server) HTTPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return lnAddr(s.httpLn)
}

// PprofAddr returns the address of the profiling endpoints (nil when off).
func (s *Server) PprofAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return lnAddr(s.pprofLn)
}

// tlsConfig serves the certificate in force (swapped by Reload).
func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.cert.Load(), nil
		},
	}
}

func (s *Server) loadCert(c *Config) error {
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return fmt.Errorf("tls_cert and tls_key: %w", err)
	}
	s.cert.Store(&cert)
	return nil
}

// Run serves until ctx ends, then drains (Config.Drain.Timeout; zero: no
// drain) and shuts down (Config.ShutdownTimeout). It returns nil after that, or the error
// of a listener that failed (after shutting down).
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	serve := func(what string, f func() error) {
		s.served.Add(1)
		go func() {
			defer s.served.Done()
			err := f()
			if s.draining.Load() || errors.Is(err, rtmp.ErrServerClosed) || errors.Is(err, http.ErrServerClosed) {
				return
			}
			s.failed <- fmt.Errorf("%s: %w", what, err)
		}()
	}
	if ln := s.rtmpLn; ln != nil {
		serve("rtmp", func() error { return s.rtmp.Serve(ln) })
	}
	if ln := s.rtmpsLn; ln != nil {
		tl := tls.NewListener(ln, s.tlsConfig())
		serve("rtmps", func() error { return s.rtmp.Serve(tl) })
	}
	if ln := s.httpLn; ln != nil {
		serve("http", func() error { return s.http.Serve(ln) })
	}
	if ln := s.pprofLn; ln != nil {
		serve("pprof", func() error { return s.pprof.Serve(ln) })
	}
	s.startStaticPulls()
	s.mu.Unlock()
	var failed error
	if s.cluster != nil {
		// Once the RTMP listener serves: other nodes may pull at once.
		if failed = s.cluster.Start(); failed != nil {
			s.log.Error("ertmp: cluster", "err", failed)
			ctx = canceled()
		}
	}
	select {
	case <-ctx.Done():
	case failed = <-s.failed:
		s.log.Error("ertmp: serve", "err", failed)
	}
	c := s.Config()
	if failed == nil && c.Drain.Timeout > 0 {
		dctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.Drain.Timeout))
		s.Drain(dctx)
		cancel()
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.ShutdownTimeout))
	defer cancel()
	s.Shutdown(sctx)
	s.served.Wait()
	return failed
}

// stopAccepting closes the RTMP listeners.
func (s *Server) stopAccepting() {
	s.draining.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range []net.Listener{s.rtmpLn, s.rtmpsLn} {
		if ln != nil {
			ln.Close()
		}
	}
}

// Drain stops accepting RTMP connections (/healthz says 503 from now on),
// asks the RTMP publishers that can reconnect (Enhanced RTMP v2
// CAPS_EX_RECONNECT) to reconnect, to Config.Drain.ReconnectURL or to the
// URL they used, and waits until they left or ctx ends. Sessions that were
// not asked go on; Shutdown ends them. It returns how many publishers were
// asked, and ctx.Err() if some were still there when ctx ended.
func (s *Server) Drain(ctx context.Context) (asked int, err error) {
	s.stopAccepting()
	c := s.Config()
	to := string(c.Drain.ReconnectURL)
	if to == "" && s.cluster != nil {
		to = s.clusterReconnectURL(ctx)
	}
	ids := s.hub.RequestReconnect(to, c.Drain.Description)
	s.log.Info("ertmp: draining", "asked_to_reconnect", len(ids), "reconnect_url", auth.RedactURL(to))
	if len(ids) == 0 {
		return 0, nil
	}
	start := time.Now()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		left := 0
		for _, si := range s.hub.Sessions() {
			if slices.Contains(ids, si.ID) {
				left++
			}
		}
		if left == 0 {
			s.log.Info("ertmp: drained", "publishers_moved", len(ids), "after", time.Since(start).Round(time.Millisecond))
			return len(ids), nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			s.log.Warn("ertmp: drain timed out", "publishers_left", left, "of", len(ids))
			return len(ids), ctx.Err()
		}
	}
}

// Shutdown stops accepting, ends every session politely (players get
// StreamEOF, publishers a polite close), waits for the done hooks in
// flight and stops the HTTP listener; when ctx ends first, connections are
// closed. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	start := time.Now()
	s.log.Info("ertmp: shutting down")
	// The relays and recordings first (pushes end politely, files are
	// closed whole), then the hub: it ends every session with the reason
	// "shutdown" and refuses new requests; then the server stops and
	// waits for the rest (the done hooks, on_record_done included).
	var clErr error
	if s.cluster != nil {
		// First, so that the other nodes learn at once that its streams
		// end (their players wait for the republish grace).
		clErr = s.cluster.Shutdown(ctx)
	}
	relErr := s.relay.Shutdown(ctx)
	recErr := s.rec.Shutdown(ctx)
	herr := s.hub.Shutdown(ctx)
	if s.hls != nil {
		s.hls.Close() // its muxers ended with the hub; blocked requests are answered
	}
	serr := s.rtmp.Shutdown(ctx)
	aerr := s.auth.Wait(ctx)
	httpErr := s.http.Shutdown(ctx)
	s.pprof.Close() // a profile being taken is cut short
	if err := errors.Join(clErr, relErr, recErr, herr, serr, aerr, httpErr); err != nil {
		s.log.Warn("ertmp: shutdown timed out; connections were closed", "after", time.Since(start).Round(time.Millisecond))
		s.http.Close()
		return err
	}
	s.log.Info("ertmp: stopped", "after", time.Since(start).Round(time.Millisecond))
	return nil
}

// Reload applies a new configuration to what can change while serving:
// the apps (keys, address lists, hooks, limits, record, push and pull:
// the next publish or play takes them; running recordings and relays go
// on as they were), the certificate (read
// again from tls_cert and tls_key), the API token and the drain and
// shutdown settings. New sessions get them; running ones are untouched.
// Other changes (listeners, rtmp, live, log) are logged as needing a
// restart. On an error nothing changes.
func (s *Server) Reload(c *Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c = c.Clone()
	rules, err := c.authRules()
	if err != nil {
		return err
	}
	var cert *tls.Certificate
	if s.start.RTMPS != "" && c.TLSCert != "" && c.TLSKey != "" {
		kp, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return fmt.Errorf("tls_cert and tls_key: %w", err)
		}
		cert = &kp
	}
	if err := s.auth.Update(rules); err != nil {
		return err
	}
	if cert != nil {
		s.cert.Store(cert)
	}
	s.api.SetToken(c.APIToken)
	s.cfg.Store(c)
	st := s.start
	for _, d := range []struct {
		key  string
		same bool
	}{
		{"listen", c.Listen == st.Listen}, {"http", c.HTTP == st.HTTP}, {"rtmps", c.RTMPS == st.RTMPS}, {"pprof", c.Pprof == st.Pprof},
		{"reuse_port", c.ReusePort == st.ReusePort}, {"log", c.Log == st.Log},
		{"rtmp", c.RTMP == st.RTMP}, {"live", c.Live == st.Live}, {"hls", c.HLS == st.HLS},
		{"memory_budget", c.MemoryBudget == st.MemoryBudget}, {"gc_percent", c.GCPercent == st.GCPercent},
		{"memory_trim", c.MemoryTrim == st.MemoryTrim},
		{"cluster", c.Cluster.same(&st.Cluster)},
	} {
		if !d.same {
			s.log.Warn("ertmp: reload: a changed setting takes effect at the next start", "key", d.key)
		}
	}
	s.log.Info("ertmp: configuration reloaded", "apps", len(c.Apps))
	return nil
}

// pprofMux serves Go's profiling endpoints under /debug/pprof/.
func pprofMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}
