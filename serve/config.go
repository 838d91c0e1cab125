package serve

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/auth"
	"github.com/ertmp/rtmp/hls"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
	"github.com/ertmp/rtmp/record"
	"github.com/ertmp/rtmp/relay"
)

//go:embed defaults.yaml
var defaultsYAML []byte

// DefaultsYAML returns the built-in configuration file, comments included.
func DefaultsYAML() []byte { return bytes.Clone(defaultsYAML) }

// Config is the configuration of `ertmp serve`, as a YAML file writes it
// (see defaults.yaml for every key and its default). Fields are plain
// values: a Config may be copied; Clone copies its lists too.
type Config struct {
	// Listen is the RTMP address; HTTP the address of /healthz, /metrics
	// and /v1/ ("" for none); RTMPS the RTMP over TLS address ("" for
	// none), with TLSCert and TLSKey (PEM files, read again on Reload).
	Listen  Addr    `yaml:"listen"`
	HTTP    Addr    `yaml:"http"`
	RTMPS   TLSAddr `yaml:"rtmps"`
	TLSCert string  `yaml:"tls_cert"`
	TLSKey  string  `yaml:"tls_key"`
	// APIToken, when set, is the bearer token the HTTP API asks for.
	APIToken string `yaml:"api_token"`
	// Pprof is the address of Go's profiling endpoints (/debug/pprof/),
	// on a listener of their own ("" for none). They have no
	// authentication: keep it on loopback.
	Pprof Addr `yaml:"pprof"`
	// ReusePort listens with SO_REUSEPORT, so that a new process can
	// listen on the same ports while this one drains.
	ReusePort bool `yaml:"reuse_port"`
	// ShutdownTimeout bounds the end of the sessions left after the drain.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// MemoryBudget bounds what peers make the server keep, all connections
	// and streams together: chunk reassembly buffers, GOP caches, player
	// queues, kept frames (rtmp.MemoryBudget, shared by the RTMP server
	// and the hub). Zero or negative: no budget.
	MemoryBudget ByteSize `yaml:"memory_budget"`
	// GCPercent is the garbage collector's target (GOGC) for `ertmp
	// serve`: how much the heap may grow past what is live before a
	// collection. The server allocates little per delivered byte, so a low
	// target costs little CPU and keeps the footprint small. Zero or
	// negative: Go's default (100). GOGC in the environment decides when set.
	GCPercent int `yaml:"gc_percent"`
	// MemoryTrim is how often `ertmp serve` looks at the heap's free
	// memory and, when it is at least 4 MiB and a quarter of the heap in use,
	// gives it back to the OS at once. A burst (a thousand players joining
	// in a second, each sent its GOP) leaves such free memory behind, and
	// the runtime's own scavenger can hold it for a long time. Zero or
	// negative: only the runtime's scavenger.
	MemoryTrim Duration `yaml:"memory_trim"`

	Log   LogConfig   `yaml:"log"`
	Drain DrainConfig `yaml:"drain"`
	RTMP  RTMPConfig  `yaml:"rtmp"`
	Live  LiveConfig  `yaml:"live"`
	// Cluster joins the server to a cluster of nodes (no nats: one node).
	Cluster ClusterConfig `yaml:"cluster"`
	HLS     HLSConfig     `yaml:"hls"`
	// Apps holds the settings of each application by name; "default"
	// applies to the others, and a listed app takes every key it does not
	// set from it.
	Apps map[string]App `yaml:"apps"`
}

// LogConfig says how the server logs.
type LogConfig struct {
	Level  LogLevel  `yaml:"level"`
	Format LogFormat `yaml:"format"`
}

// DrainConfig configures the drain that precedes a shutdown.
type DrainConfig struct {
	// Timeout is how long the publishers asked to reconnect have to
	// leave; zero turns the drain off (a shutdown at once).
	Timeout Duration `yaml:"timeout"`
	// ReconnectURL is the tcUrl they are asked to reconnect to; empty, the
	// one they used (for a restart on the same address).
	ReconnectURL ReconnectURL `yaml:"reconnect_url"`
	// Description goes with the request.
	Description string `yaml:"description"`
}

// RTMPConfig configures the RTMP server (rtmp.Server), for every listener.
type RTMPConfig struct {
	ChunkSize             ChunkSize `yaml:"chunk_size"`
	HandshakeTimeout      Duration  `yaml:"handshake_timeout"`
	RequestTimeout        Duration  `yaml:"request_timeout"`
	ReadTimeout           Duration  `yaml:"read_timeout"`
	WriteTimeout          Duration  `yaml:"write_timeout"`
	MaxConns              int       `yaml:"max_conns"`
	MaxConnsPerIP         int       `yaml:"max_conns_per_ip"`
	MaxRequestMessageSize ByteSize  `yaml:"max_request_message_size"`
}

// HLSConfig configures Low-Latency HLS on the HTTP listener
// (/APP/STREAM/index.m3u8; see package hls).
type HLSConfig struct {
	Enabled    bool     `yaml:"enabled"`
	Part       Duration `yaml:"part"`
	Segment    Duration `yaml:"segment"`
	Segments   int      `yaml:"segments"`
	Idle       Duration `yaml:"idle"`
	MaxBlocked int      `yaml:"max_blocked"`
}

func (h HLSConfig) options(log *slog.Logger) hls.Options {
	return hls.Options{Part: time.Duration(h.Part), Segment: time.Duration(h.Segment), Segments: h.Segments,
		Idle: time.Duration(h.Idle), MaxBlocked: h.MaxBlocked, Logger: log}
}

// LiveConfig configures the hub (live.Config): these settings apply to
// every application (the hub has one set).
type LiveConfig struct {
	ReplacePublisher  bool     `yaml:"replace_publisher"`
	PlayWait          Duration `yaml:"play_wait"`
	RepublishGrace    Duration `yaml:"republish_grace"`
	GOPPackets        int      `yaml:"gop_packets"`
	GOPBytes          ByteSize `yaml:"gop_bytes"`
	QueueBytes        ByteSize `yaml:"queue_bytes"`
	QueueDelay        Duration `yaml:"queue_delay"`
	SlowTimeout       Duration `yaml:"slow_timeout"`
	SendBuffer        ByteSize `yaml:"send_buffer"`
	PingInterval      Duration `yaml:"ping_interval"`
	PingTimeout       Duration `yaml:"ping_timeout"`
	MaxStreams        int      `yaml:"max_streams"`
	MaxPlayers        int      `yaml:"max_players"`
	ForwardUndeclared bool     `yaml:"forward_undeclared"`
	MergeWindow       Duration `yaml:"merge_window"`
	MergeBytes        ByteSize `yaml:"merge_bytes"`
}

// App is one application's settings: who may publish and play (see
// package auth) and its own limits.
type App struct {
	PublishKeys  []Key    `yaml:"publish_keys"`
	PlayKeys     []Key    `yaml:"play_keys"`
	AllowPublish AddrList `yaml:"allow_publish"`
	DenyPublish  AddrList `yaml:"deny_publish"`
	AllowPlay    AddrList `yaml:"allow_play"`
	DenyPlay     AddrList `yaml:"deny_play"`

	OnConnect     HookURL  `yaml:"on_connect"`
	OnPublish     HookURL  `yaml:"on_publish"`
	OnPlay        HookURL  `yaml:"on_play"`
	OnPublishDone HookURL  `yaml:"on_publish_done"`
	OnPlayDone    HookURL  `yaml:"on_play_done"`
	OnRecordDone  HookURL  `yaml:"on_record_done"`
	HookTimeout   Duration `yaml:"hook_timeout"`
	HookFailure   Failure  `yaml:"hook_failure"`

	// MaxStreams bounds the streams published at once in the app, and
	// MaxPlayers the players of one of its streams (0: only the hub's
	// bounds).
	MaxStreams int `yaml:"max_streams"`
	MaxPlayers int `yaml:"max_players"`

	// The GOP cache and player queue settings of the app's streams (0:
	// the live: setting; negative: off, as there).
	GOPPackets  int      `yaml:"gop_packets"`
	GOPBytes    ByteSize `yaml:"gop_bytes"`
	QueueBytes  ByteSize `yaml:"queue_bytes"`
	QueueDelay  Duration `yaml:"queue_delay"`
	SlowTimeout Duration `yaml:"slow_timeout"`

	// Record records every stream of the app (and lets the API start
	// one); Push lists the targets every stream is pushed to ({stream}
	// replaced); Pull is the upstream of an edge.
	Record RecordConfig `yaml:"record"`
	Push   []RelayURL   `yaml:"push"`
	Pull   PullConfig   `yaml:"pull"`
}

// recordConfig is the app's record config, ok false for none.
func (a *App) recordConfig() (record.Config, bool) {
	if a.Record.Dir == "" {
		return record.Config{}, false
	}
	return a.Record.config(), true
}

// relayApp is the app's relay config.
func (a *App) relayApp() relay.App {
	var r relay.App
	for _, u := range a.Push {
		r.Push = append(r.Push, string(u))
	}
	if a.Pull.URL != "" {
		r.Pull = &relay.Upstream{URL: string(a.Pull.URL), OnDemand: a.Pull.OnDemand, Idle: time.Duration(a.Pull.Idle)}
	}
	return r
}

// checkRelays checks the record, push and pull keys of each app.
func (c *Config) checkRelays() error {
	var errs []error
	for name, a := range c.Apps {
		if a.Record.Dir != "" {
			rc := a.Record.config()
			if err := rc.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("apps.%s.record: %v", name, err))
			}
		} else if a.Record.Pattern != "" || a.Record.RotateAfter != 0 || a.Record.RotateSize != 0 {
			errs = append(errs, fmt.Errorf("apps.%s.record: no dir", name))
		}
		if a.Record.RotateAfter < 0 || a.Record.RotateSize < 0 {
			errs = append(errs, fmt.Errorf("apps.%s.record: negative rotation", name))
		}
		if a.Pull.URL != "" && !a.Pull.OnDemand && len(a.Pull.Streams) == 0 {
			errs = append(errs, fmt.Errorf("apps.%s.pull: a static pull (on_demand: false) needs streams: [names]", name))
		}
		if len(a.Pull.Streams) > 0 && a.Pull.URL == "" {
			errs = append(errs, fmt.Errorf("apps.%s.pull.streams: no url to pull them from", name))
		}
		if a.Pull.Idle < 0 {
			errs = append(errs, fmt.Errorf("apps.%s.pull.idle must not be negative", name))
		}
	}
	slices.SortFunc(errs, func(x, y error) int { return strings.Compare(x.Error(), y.Error()) })
	return errors.Join(errs...)
}

// hubSettings are the app's settings for the hub (live.Config.App).
func (a *App) hubSettings() live.AppSettings {
	return live.AppSettings{GOPMaxPackets: a.GOPPackets, GOPMaxBytes: int(a.GOPBytes), QueueMaxBytes: int(a.QueueBytes),
		QueueMaxDelay: time.Duration(a.QueueDelay), SlowConsumerTimeout: time.Duration(a.SlowTimeout)}
}

// Default returns the built-in configuration.
func Default() *Config {
	c, err := parse(defaultsYAML, "defaults.yaml", nil)
	if err != nil {
		panic("serve: the built-in defaults do not parse: " + err.Error())
	}
	return c
}

// Load reads a configuration file on top of the defaults.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// Parse reads a configuration (name is its file, for errors) on top of the
// defaults: every key it sets replaces the default; each app takes the
// keys it does not set from apps.default. An unknown key or a bad value is
// an error that names its line.
func Parse(data []byte, name string) (*Config, error) {
	return parse(data, name, Default())
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// parse reads data on top of base (nil: the zero Config).
func parse(data []byte, name string, base *Config) (*Config, error) {
	// Strictly first: unknown keys and bad values, all of them, with
	// their lines.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var check Config
	if err := dec.Decode(&check); err != nil && !errors.Is(err, io.EOF) {
		return nil, fileError(name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fileError(name, err)
	}
	c := &Config{}
	if base != nil {
		c = base.Clone()
	}
	baseDefault := c.Apps[auth.DefaultApp]
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		doc := root.Content[0]
		if err := doc.Decode(c); err != nil {
			return nil, fileError(name, err)
		}
		// Apps again: each on top of apps.default, itself on top of the
		// base's.
		c.Apps = map[string]App{}
		if base != nil {
			for k, v := range base.Apps {
				c.Apps[k] = v.clone()
			}
		}
		if apps := mapValue(doc, "apps"); apps != nil {
			if apps.Kind != yaml.MappingNode {
				return nil, fileError(name, valueError(apps, "apps: want a map of app names"))
			}
			def := baseDefault.clone()
			if n := mapValue(apps, auth.DefaultApp); n != nil {
				if err := n.Decode(&def); err != nil {
					return nil, fileError(name, err)
				}
			}
			c.Apps[auth.DefaultApp] = def
			for i := 0; i+1 < len(apps.Content); i += 2 {
				app := apps.Content[i].Value
				if app == auth.DefaultApp {
					continue
				}
				a := def.clone()
				if err := apps.Content[i+1].Decode(&a); err != nil {
					return nil, fileError(name, err)
				}
				c.Apps[app] = a
			}
		}
	}
	if _, ok := c.Apps[auth.DefaultApp]; !ok {
		if c.Apps == nil {
			c.Apps = map[string]App{}
		}
		c.Apps[auth.DefaultApp] = App{}
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// mapValue returns the value of key in a mapping node, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// fileError names the file in an error, and each line of a YAML type
// error.
func fileError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		lines := make([]string, len(te.Errors))
		for i, e := range te.Errors {
			lines[i] = name + ": " + unknownField.ReplaceAllString(e, "unknown key $1")
		}
		return errors.New(strings.Join(lines, "\n"))
	}
	return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
}

// Validate checks what a flag may have set and what concerns several keys.
func (c *Config) Validate() error {
	var errs []error
	for _, a := range []struct {
		name string
		v    string
	}{{"listen", string(c.Listen)}, {"http", string(c.HTTP)}, {"rtmps", withTLSPort(string(c.RTMPS))}} {
		if err := checkAddr(a.v); err != nil {
			errs = append(errs, fmt.Errorf("%s (-%s): %v", a.name, a.name, err))
		}
	}
	if c.Listen == "" && c.RTMPS == "" {
		errs = append(errs, errors.New("listen: no RTMP listener (set listen or rtmps)"))
	}
	if c.RTMPS != "" && (c.TLSCert == "" || c.TLSKey == "") {
		errs = append(errs, errors.New("rtmps (-rtmps) needs tls_cert and tls_key (-tls-cert, -tls-key)"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown_timeout (-shutdown-timeout) must be positive"))
	}
	if c.Drain.Timeout < 0 {
		errs = append(errs, errors.New("drain.timeout (-drain-timeout) must not be negative"))
	}
	if err := checkReconnectURL(string(c.Drain.ReconnectURL)); err != nil {
		errs = append(errs, fmt.Errorf("drain.%v (-reconnect-url)", err))
	}
	if err := checkLevel(string(c.Log.Level)); err != nil {
		errs = append(errs, fmt.Errorf("log.level (-log-level): %v", err))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("log.format (-log-format) %q: want text or json", c.Log.Format))
	}
	if err := checkChunkSize(uint64(c.RTMP.ChunkSize)); err != nil {
		errs = append(errs, fmt.Errorf("rtmp.chunk_size (-chunk-size): %v", err))
	}
	if _, err := c.authRules(); err != nil {
		errs = append(errs, err)
	}
	if err := c.checkRelays(); err != nil {
		errs = append(errs, err)
	}
	if err := c.checkCluster(); err != nil {
		errs = append(errs, err)
	}
	if c.HLS.Enabled {
		if err := c.HLS.options(nil).Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Clone returns a deep copy.
func (c *Config) Clone() *Config {
	d := *c
	d.Cluster = c.Cluster.clone()
	d.Apps = make(map[string]App, len(c.Apps))
	for k, v := range c.Apps {
		d.Apps[k] = v.clone()
	}
	return &d
}

func (a App) clone() App {
	a.PublishKeys = cloneSlice(a.PublishKeys)
	a.PlayKeys = cloneSlice(a.PlayKeys)
	a.AllowPublish = cloneSlice(a.AllowPublish)
	a.DenyPublish = cloneSlice(a.DenyPublish)
	a.AllowPlay = cloneSlice(a.AllowPlay)
	a.DenyPlay = cloneSlice(a.DenyPlay)
	a.Push = cloneSlice(a.Push)
	return a
}

func cloneSlice[S ~[]E, E any](s S) S {
	if s == nil {
		return nil
	}
	return append(S{}, s...)
}

// Redacted returns a copy to show: keys, the API token and hook URLs'
// credentials (password, query values) replaced.
func (c *Config) Redacted() *Config {
	d := c.Clone()
	if d.APIToken != "" {
		d.APIToken = auth.Redacted
	}
	d.Cluster = c.Cluster.redacted()
	for name, a := range d.Apps {
		for i := range a.PublishKeys {
			a.PublishKeys[i] = auth.Redacted
		}
		for i := range a.PlayKeys {
			a.PlayKeys[i] = auth.Redacted
		}
		for _, u := range []*HookURL{&a.OnConnect, &a.OnPublish, &a.OnPlay, &a.OnPublishDone, &a.OnPlayDone, &a.OnRecordDone} {
			*u = redactURL(*u)
		}
		for i, u := range a.Push {
			a.Push[i] = RelayURL(relay.Redact(string(u), "{stream}"))
		}
		a.Pull.URL = RelayURL(auth.RedactURL(string(a.Pull.URL)))
		d.Apps[name] = a
	}
	return d
}

// YAML writes the configuration as a file that Parse reads back.
func (c *Config) YAML() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	enc.Close()
	return b.Bytes(), nil
}

// authRules makes the auth rules of the apps.
func (c *Config) authRules() (auth.Rules, error) {
	r := auth.Rules{Apps: make(map[string]auth.App, len(c.Apps))}
	for name, a := range c.Apps {
		x := auth.App{
			OnConnect: string(a.OnConnect), OnPublish: string(a.OnPublish), OnPlay: string(a.OnPlay),
			OnPublishDone: string(a.OnPublishDone), OnPlayDone: string(a.OnPlayDone), OnRecordDone: string(a.OnRecordDone),
			HookTimeout: time.Duration(a.HookTimeout),
		}
		var err error
		if x.HookFailure, err = auth.ParseFailure(string(a.HookFailure)); err != nil {
			return r, fmt.Errorf("apps.%s: %v", name, err)
		}
		for _, k := range a.PublishKeys {
			x.PublishKeys = append(x.PublishKeys, string(k))
		}
		for _, k := range a.PlayKeys {
			x.PlayKeys = append(x.PlayKeys, string(k))
		}
		for _, l := range []struct {
			in  AddrList
			key string
			out *[]netip.Prefix
		}{{a.AllowPublish, "allow_publish", &x.AllowPublish}, {a.DenyPublish, "deny_publish", &x.DenyPublish},
			{a.AllowPlay, "allow_play", &x.AllowPlay}, {a.DenyPlay, "deny_play", &x.DenyPlay}} {
			p, err := auth.ParseAddrList(l.in)
			if err != nil {
				return r, fmt.Errorf("apps.%s.%s: %v", name, l.key, err)
			}
			*l.out = p
		}
		for _, k := range append(append([]string{}, x.PublishKeys...), x.PlayKeys...) {
			if err := auth.CheckKey(k); err != nil {
				return r, fmt.Errorf("apps.%s: %v", name, err)
			}
		}
		r.Apps[name] = x
	}
	return r, nil
}

// hubConfig is the hub's configuration (hooks and logger aside).
func (c *Config) hubConfig() live.Config {
	l := c.Live
	return live.Config{
		ReplacePublisher: l.ReplacePublisher, PlayWait: time.Duration(l.PlayWait), RepublishGrace: time.Duration(l.RepublishGrace),
		GOPMaxPackets: l.GOPPackets, GOPMaxBytes: int(l.GOPBytes),
		QueueMaxBytes: int(l.QueueBytes), QueueMaxDelay: time.Duration(l.QueueDelay), SlowConsumerTimeout: time.Duration(l.SlowTimeout),
		SendBuffer: int(l.SendBuffer), PingInterval: time.Duration(l.PingInterval), PingTimeout: time.Duration(l.PingTimeout),
		MaxStreams: l.MaxStreams, MaxPlayers: l.MaxPlayers, ForwardUndeclared: l.ForwardUndeclared,
		MergeWindow: time.Duration(l.MergeWindow), MergeBytes: int(l.MergeBytes),
		Budget: c.memoryBudget(),
	}
}

// memoryBudget is the budget of memory_budget, or nil for none.
func (c *Config) memoryBudget() *rtmp.MemoryBudget {
	if c.MemoryBudget <= 0 {
		return nil
	}
	return rtmp.NewMemoryBudget(int64(c.MemoryBudget))
}

// rtmpServer is the RTMP server's configuration (handler and logger
// aside).
func (c *Config) rtmpServer() *rtmp.Server {
	r := c.RTMP
	s := &rtmp.Server{
		HandshakeTimeout: time.Duration(r.HandshakeTimeout), RequestTimeout: time.Duration(r.RequestTimeout),
		ChunkSize: uint32(r.ChunkSize), MaxConns: r.MaxConns, MaxConnsPerIP: r.MaxConnsPerIP,
		MaxRequestMessageSize: int(r.MaxRequestMessageSize),
	}
	s.Conn.ReadTimeout = time.Duration(r.ReadTimeout)
	s.Conn.WriteTimeout = time.Duration(r.WriteTimeout)
	// Any codec and any number of tracks pass through (Enhanced RTMP v2
	// connect _result: the server forwards what it is sent); publishers
	// may be asked to reconnect (a drain).
	s.Capabilities = &rtmp.Capabilities{
		FourCCList:         []string{"*"},
		VideoFourCCInfoMap: map[string]message.FourCCInfoMask{"*": message.FourCCCanForward},
		AudioFourCCInfoMap: map[string]message.FourCCInfoMask{"*": message.FourCCCanForward},
		CapsEx:             message.CapsExMultitrack | message.CapsExModEx | message.CapsExReconnect,
	}
	return s
}
