package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
)

// DefaultApp names the App that applies to applications without one.
const DefaultApp = "default"

// DefaultHookTimeout bounds an HTTP hook call when App.HookTimeout is zero.
const DefaultHookTimeout = 5 * time.Second

// Failure says what a hook that gave no answer (unreachable, timed out)
// means.
type Failure uint8

const (
	// FailRefuse refuses the session (the default).
	FailRefuse Failure = iota
	// FailAllow lets it in.
	FailAllow
)

func (f Failure) String() string {
	if f == FailAllow {
		return "allow"
	}
	return "refuse"
}

// ParseFailure reads "refuse" or "allow".
func ParseFailure(s string) (Failure, error) {
	switch s {
	case "refuse", "":
		return FailRefuse, nil
	case "allow":
		return FailAllow, nil
	}
	return 0, fmt.Errorf("auth: hook failure policy %q: want refuse or allow", s)
}

// App is one application's rules. The zero value lets everyone in.
type App struct {
	// PublishKeys and PlayKeys, when not empty, are the keys a publisher
	// or player must present (the stream name, or its "key" query
	// parameter).
	PublishKeys []string
	PlayKeys    []string
	// Address lists (see the package doc).
	AllowPublish, DenyPublish []netip.Prefix
	AllowPlay, DenyPlay       []netip.Prefix
	// HTTP hooks: URLs, empty for none. OnRecordDone is sent by
	// Auth.RecordDone, for each finished recorded file.
	OnConnect, OnPublish, OnPlay string
	OnPublishDone, OnPlayDone    string
	OnRecordDone                 string
	HookTimeout                  time.Duration
	HookFailure                  Failure
}

// Rules are the rules of every application, by name (DefaultApp for the
// others).
type Rules struct {
	Apps map[string]App
}

// Options configure an Auth.
type Options struct {
	// Client makes the hook calls; nil is a client that does not follow
	// redirects (a 3xx is an answer). A client given here must not follow
	// them either.
	Client *http.Client
	// Logger gets a line for each hook that failed; nil means
	// slog.Default(). Keys never reach it.
	Logger *slog.Logger
	// Observe, when set, is told about every hook call: the hook
	// ("on_publish"), how long it took, and the outcome: "allow",
	// "rename", "refuse" or "error" (no answer) for decisions, "ok" or
	// "error" for done hooks. For metrics; it must not block.
	Observe func(hook string, d time.Duration, outcome string)
}

// Auth applies Rules to a hub's sessions. It is safe for concurrent use.
type Auth struct {
	opts   Options
	client *http.Client
	log    *slog.Logger
	rules  atomic.Pointer[compiled]

	// secrets holds every key ever configured, for Redact.
	secretsMu sync.Mutex
	secrets   atomic.Pointer[map[string]struct{}]

	// started maps the ID of a session that started to the rules it
	// started under (for its done hook).
	started sync.Map // uint64 -> *app
	// pending counts the done hooks in flight; idle is closed while none
	// is (a WaitGroup would let Add race with Wait from zero).
	pmu     sync.Mutex
	pending int
	idle    chan struct{}
}

// New returns an Auth that applies r.
func New(r Rules, o Options) (*Auth, error) {
	a := &Auth{opts: o, client: o.Client, log: o.Logger}
	if a.client == nil {
		a.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	empty := map[string]struct{}{}
	a.secrets.Store(&empty)
	if err := a.Update(r); err != nil {
		return nil, err
	}
	return a, nil
}

// compiled is a Rules ready to apply; immutable.
type compiled struct {
	apps map[string]*app
}

type app struct {
	App
	publishKeys, playKeys [][sha256.Size]byte
}

// ErrBadKey is what an invalid key in Rules wraps.
var ErrBadKey = errors.New("auth: bad key")

// CheckKey reports whether k can be a key: not empty, at most 256 bytes,
// printable ASCII without space, '/', '?', '&', '=', '"' or '%' (so that it
// stands as one token in a URL and in a log line, where Redact finds it).
func CheckKey(k string) error {
	if k == "" || len(k) > 256 {
		return fmt.Errorf("%w: a key has 1 to 256 bytes", ErrBadKey)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`/?&="%\`, c) >= 0 {
			return fmt.Errorf("%w: a key is printable ASCII without space or any of / ? & = \" %% \\", ErrBadKey)
		}
	}
	return nil
}

// Update replaces the rules; sessions that start afterwards get the new
// ones. Invalid rules (a bad key or hook URL) change nothing.
func (a *Auth) Update(r Rules) error {
	c := &compiled{apps: map[string]*app{}}
	var keys []string
	for name, ap := range r.Apps {
		x := &app{App: ap}
		for _, list := range []struct {
			in  []string
			out *[][sha256.Size]byte
		}{{ap.PublishKeys, &x.publishKeys}, {ap.PlayKeys, &x.playKeys}} {
			for _, k := range list.in {
				if err := CheckKey(k); err != nil {
					return fmt.Errorf("app %q: %w", name, err)
				}
				*list.out = append(*list.out, sha256.Sum256([]byte(k)))
				keys = append(keys, k)
			}
		}
		for _, u := range []string{ap.OnConnect, ap.OnPublish, ap.OnPlay, ap.OnPublishDone, ap.OnPlayDone, ap.OnRecordDone} {
			if err := CheckHookURL(u); err != nil {
				return fmt.Errorf("app %q: %w", name, err)
			}
		}
		if x.HookTimeout <= 0 {
			x.HookTimeout = DefaultHookTimeout
		}
		c.apps[name] = x
	}
	a.addSecrets(keys)
	a.rules.Store(c)
	return nil
}

func (a *Auth) addSecrets(keys []string) {
	a.secretsMu.Lock()
	defer a.secretsMu.Unlock()
	old := *a.secrets.Load()
	m := make(map[string]struct{}, len(old)+len(keys))
	for k := range old {
		m[k] = struct{}{}
	}
	for _, k := range keys {
		m[k] = struct{}{}
	}
	a.secrets.Store(&m)
}

// CheckHookURL reports whether u can be a hook URL: empty, or http or
// https with a host.
func CheckHookURL(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("auth: hook URL %q: want http:// or https:// with a host", RedactURL(u))
	}
	return nil
}

// Redacted stands for a secret in logs and printed configurations.
const Redacted = "[redacted]"

// Redact returns v with every key this Auth was ever given replaced by
// Redacted. Keys are found as whole tokens between the separators of URLs
// and names (/ ? & = and space), so a key that is a stream name, a query
// parameter or part of "app/name" is found.
func (a *Auth) Redact(v string) string {
	m := *a.secrets.Load()
	if len(m) == 0 || v == "" {
		return v
	}
	if _, ok := m[v]; ok {
		return Redacted
	}
	var b strings.Builder
	start, changed := 0, false
	flush := func(end int) {
		tok := v[start:end]
		if _, ok := m[tok]; ok && tok != "" {
			b.WriteString(Redacted)
			changed = true
		} else {
			b.WriteString(tok)
		}
	}
	for i := 0; i < len(v); i++ {
		if strings.IndexByte("/?&= \"", v[i]) >= 0 {
			flush(i)
			b.WriteByte(v[i])
			start = i + 1
		}
	}
	flush(len(v))
	if !changed {
		return v
	}
	return b.String()
}

// RedactURL hides a URL's credentials: its password and every query value.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return Redacted
	}
	if p.User != nil {
		if _, ok := p.User.Password(); ok {
			p.User = url.UserPassword(p.User.Username(), "xxxxx")
		}
	}
	if p.RawQuery != "" {
		q := p.Query()
		for k := range q {
			q[k] = []string{"xxxxx"}
		}
		p.RawQuery = q.Encode()
	}
	return p.String()
}

// rulesFor returns the rules of an application, or nil for none.
func (c *compiled) rulesFor(appName string) *app {
	if x := c.apps[appName]; x != nil {
		return x
	}
	if i := strings.IndexByte(appName, '/'); i >= 0 {
		if x := c.apps[appName[:i]]; x != nil {
			return x
		}
	}
	return c.apps[DefaultApp]
}

// Hooks returns the hub hooks that apply the rules: Connect (on_connect),
// Authorize (addresses, keys, on_publish and on_play), Start and End (the
// done hooks).
func (a *Auth) Hooks() live.Hooks {
	return live.Hooks{Connect: a.connect, Authorize: a.authorize, Start: a.start, End: a.end}
}

func (a *Auth) connect(ctx context.Context, s *live.Session) error {
	if s.RemoteAddr == "" {
		return nil
	}
	x := a.rules.Load().rulesFor(s.App)
	if x == nil || x.OnConnect == "" {
		return nil
	}
	_, err := a.decide(ctx, x, "on_connect", x.OnConnect, form("connect", s))
	return err
}

// Refusal texts the client sees.
const (
	textAddress = "address not allowed"
	textKey     = "invalid stream key"
)

func (a *Auth) authorize(ctx context.Context, s *live.Session) (string, error) {
	if s.RemoteAddr == "" {
		return "", nil
	}
	x := a.rules.Load().rulesFor(s.App)
	if x == nil {
		return "", nil
	}
	publish := s.Kind == rtmp.KindPublish
	allow, deny, keys, hook, name := x.AllowPlay, x.DenyPlay, x.playKeys, x.OnPlay, "on_play"
	if publish {
		allow, deny, keys, hook, name = x.AllowPublish, x.DenyPublish, x.publishKeys, x.OnPublish, "on_publish"
	}
	if !permits(allow, deny, remoteIP(s.RemoteAddr)) {
		return "", live.Deny(textAddress)
	}
	if len(keys) > 0 && !keyOK(keys, s.Query.Get("key"), s.Stream) {
		return "", live.Deny(textKey)
	}
	if hook == "" {
		return "", nil
	}
	f := form(s.Kind.String(), s)
	if req := s.Request; req != nil {
		if publish {
			f.Set("type", req.PublishType)
		} else {
			f.Set("start", fmtFloat(req.Start))
			f.Set("duration", fmtFloat(req.Duration))
			f.Set("reset", fmt.Sprint(b2i(req.Reset)))
		}
	}
	return a.decide(ctx, x, name, hook, f)
}

// keyOK reports whether the query key or the stream name is one of keys,
// comparing every key in constant time.
func keyOK(keys [][sha256.Size]byte, query, name string) bool {
	q, n := sha256.Sum256([]byte(query)), sha256.Sum256([]byte(name))
	ok := 0
	for i := range keys {
		ok |= subtle.ConstantTimeCompare(keys[i][:], q[:]) & b2i(query != "")
		ok |= subtle.ConstantTimeCompare(keys[i][:], n[:])
	}
	return ok == 1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func remoteIP(addr string) netip.Addr {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap()
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		return ip.Unmap()
	}
	return netip.Addr{}
}

func (a *Auth) start(s *live.Session) {
	if s.RemoteAddr == "" {
		return
	}
	if x := a.rules.Load().rulesFor(s.App); x != nil {
		a.started.Store(s.ID, x)
	}
}

func (a *Auth) end(s *live.Session, e live.SessionEnd) {
	v, ok := a.started.LoadAndDelete(s.ID)
	if !ok {
		return // never started (refused), or internal
	}
	x := v.(*app)
	hook, name, call := x.OnPlayDone, "on_play_done", "play_done"
	if s.Kind == rtmp.KindPublish {
		hook, name, call = x.OnPublishDone, "on_publish_done", "publish_done"
	}
	if hook == "" {
		return
	}
	f := form(call, s)
	f.Set("reason", e.Reason.String())
	f.Set("bytes_in", fmt.Sprint(e.BytesIn))
	f.Set("bytes_out", fmt.Sprint(e.BytesOut))
	f.Set("packets", fmt.Sprint(e.Packets))
	f.Set("duration", fmtFloat(e.Duration.Seconds()))
	a.notify(name, hook, x.HookTimeout, f, "app", s.App, "id", s.ID)
}

// notify posts a done hook (its answer only logged), counted for Wait.
func (a *Auth) notify(name, hook string, timeout time.Duration, f url.Values, attrs ...any) {
	a.hookStarted()
	go func() {
		defer a.hookDone()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		start := time.Now()
		status, _, _, err := a.post(ctx, hook, f)
		if err == nil && (status < 200 || status >= 300) {
			err = fmt.Errorf("HTTP %d", status)
		}
		outcome := "ok"
		if err != nil {
			outcome = "error"
			a.log.Warn("auth: hook failed", append([]any{"hook", name}, append(attrs, "url", RedactURL(hook), "err", err.Error())...)...)
		}
		a.observe(name, time.Since(start), outcome)
	}()
}

func (a *Auth) hookStarted() {
	a.pmu.Lock()
	if a.pending == 0 {
		a.idle = make(chan struct{})
	}
	a.pending++
	a.pmu.Unlock()
}

func (a *Auth) hookDone() {
	a.pmu.Lock()
	a.pending--
	if a.pending == 0 {
		close(a.idle)
	}
	a.pmu.Unlock()
}

// Wait waits for the done hooks in flight (or for ctx).
func (a *Auth) Wait(ctx context.Context) error {
	a.pmu.Lock()
	idle := a.idle
	n := a.pending
	a.pmu.Unlock()
	if n == 0 {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *Auth) observe(hook string, d time.Duration, outcome string) {
	if a.opts.Observe != nil {
		a.opts.Observe(hook, d, outcome)
	}
}
