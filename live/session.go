package live

import (
	"context"
	"crypto/tls"
	"errors"
	"net/url"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
)

// Key names a stream: the connect app and the stream name (without its
// query string).
type Key struct {
	App  string `json:"app"`
	Name string `json:"name"`
}

func (k Key) String() string { return k.App + "/" + k.Name }

// Rejections. Subscribe and Publish return these (wrapped, with the
// details); callers branch with errors.Is.
var (
	// ErrBadName: an empty or over-long app or stream name.
	ErrBadName = errors.New("live: bad stream name")
	// ErrDenied: a hook refused the session (see DeniedError).
	ErrDenied = errors.New("live: denied")
	// ErrStreamBusy: the key already has a publisher and
	// Config.ReplacePublisher is off.
	ErrStreamBusy = errors.New("live: already publishing")
	// ErrTooManyStreams: Config.MaxStreams streams are published.
	ErrTooManyStreams = errors.New("live: too many streams")
	// ErrTooManyPlayers: the stream has Config.MaxPlayers subscribers.
	ErrTooManyPlayers = errors.New("live: too many players")
	// ErrStreamNotFound: no publisher came within the subscriber's wait.
	ErrStreamNotFound = errors.New("live: stream not found")
	// ErrShutdown: the hub is shutting down.
	ErrShutdown = errors.New("live: server shutting down")
	// ErrNoSession: Kick found no such session or stream.
	ErrNoSession = errors.New("live: no such session")
)

// DeniedError is a refusal by a hook: Text is what the client is told (an
// RTMP client sees it in onStatus). It matches ErrDenied.
type DeniedError struct{ Text string }

func (e *DeniedError) Error() string        { return "live: denied: " + e.Text }
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// Description is what the client is told (rtmp.Server uses it for a
// refused connect).
func (e *DeniedError) Description() string { return e.Text }

// Deny returns a refusal with the description the client is told.
func Deny(description string) error { return &DeniedError{Text: description} }

// Session describes one publisher or subscriber of the hub, of any
// protocol: an RTMP publisher or player, an HTTP-FLV viewer, a recorder, a
// relay. The hub fills ID, Key and Start; the caller of Publish or Subscribe
// fills the rest (any field may be empty). Hooks get it; they must not
// change it.
type Session struct {
	// ID is unique among the hub's sessions (see Hub.Kick).
	ID uint64 `json:"id"`
	// Kind is rtmp.KindPublish or rtmp.KindPlay.
	Kind rtmp.Kind `json:"-"`
	// Protocol names the transport: "rtmp", "rtmps", "http-flv",
	// "ws-flv", "hls", "record", "relay", ...
	Protocol string `json:"protocol"`
	// App and Stream are what the client asked for; Key is the stream it
	// is attached to, which an authorization hook may have renamed.
	App    string `json:"app"`
	Stream string `json:"stream"`
	Key    Key    `json:"key"`
	// RemoteAddr is the client's address ("" for internal sources).
	RemoteAddr string     `json:"remote_addr,omitempty"`
	Query      url.Values `json:"-"`
	TcURL      string     `json:"tc_url,omitempty"`
	FlashVer   string     `json:"flash_ver,omitempty"`
	// ConnectObject is the RTMP connect command object, if any (read-only:
	// shared by the sessions whose connect commands were the same).
	ConnectObject amf0.Object `json:"-"`
	// Capabilities are the client's Enhanced RTMP capabilities (RTMP).
	Capabilities rtmp.Capabilities `json:"-"`
	// Request is the RTMP request, nil for other protocols.
	Request *rtmp.Request `json:"-"`
	// Counters, when set, reports the transport's bytes read and written
	// (for SessionEnd and Sessions). The sessions of one RTMP connection
	// (several NetStreams) share it: their Packets and Bytes are their own.
	Counters func() (in, out uint64) `json:"-"`
	// Start is when the hub took the session.
	Start time.Time `json:"since"`
}

// KindName is "publish" or "play".
func (s *Session) KindName() string { return s.Kind.String() }

// SessionFromRequest describes an RTMP request.
func SessionFromRequest(req *rtmp.Request) *Session {
	s := &Session{Kind: req.Kind, Protocol: "rtmp", App: req.App, Stream: req.StreamName, Query: req.Query,
		TcURL: req.TcURL, ConnectObject: req.ConnectObject, Capabilities: req.Capabilities, Request: req}
	if v, ok := req.ConnectObject.GetString("flashVer"); ok {
		s.FlashVer = v
	}
	if req.RemoteAddr != nil {
		s.RemoteAddr = req.RemoteAddr.String()
	}
	if _, tls := req.Conn().NetConn().(*tls.Conn); tls {
		s.Protocol = "rtmps"
	}
	c := req.Conn()
	s.Counters = func() (uint64, uint64) { return c.BytesRead(), c.BytesWritten() }
	return s
}

// SessionEnd is how a session ended, for Hooks.End and the log.
type SessionEnd struct {
	// Reason says why it ended; Err is the error behind it, if any.
	Reason Reason
	Err    error
	// Duration runs from the start of the session to its end.
	Duration time.Duration
	// BytesIn and BytesOut are the transport's bytes (Session.Counters),
	// headers included: the whole connection's when it carried several
	// sessions.
	BytesIn, BytesOut uint64
	// Packets counts media and data packets: relayed from a publisher, or
	// delivered to a subscriber; Bytes their payload bytes.
	Packets, Bytes uint64
	// Dropped counts a subscriber's packets skipped by its queue policy.
	Dropped uint64
	// PeakQueue is the most bytes a subscriber's queue held at once.
	PeakQueue int
}

// Hooks are the hub's lifecycle callbacks, each optional. They run on the
// session's goroutine (the connection's, for RTMP): a hook that waits (an
// HTTP call) delays only its own session. Decision hooks get a context
// that ends when the session's caller gives up or the hub shuts down.
type Hooks struct {
	// Connect is asked when an RTMP client connects, before publish or
	// play, with Kind 0 and no stream yet: an error refuses the
	// connection (NetConnection.Connect.Rejected with the error's
	// description). Serve the hub with rtmp.Server for it to be asked.
	Connect func(ctx context.Context, s *Session) error
	// Authorize is asked about each publish and play (s.Kind) before the
	// hub takes it. An error refuses it: a DeniedError's description is
	// what the client sees (NetStream.Publish.Denied or
	// NetStream.Play.StreamNotFound for RTMP); other errors are refused
	// with their text. A non-empty name maps the session to another stream
	// name of the same app (nginx-rtmp's on_publish redirect).
	Authorize func(ctx context.Context, s *Session) (name string, err error)
	// Start is called once the hub took a publish (the key is claimed) or
	// a subscription (a publisher is on).
	Start func(s *Session)
	// End is called once for every session that reached the hub, started
	// or refused, after its log line.
	End func(s *Session, e SessionEnd)
}

// sessionEnd fills e's duration and transport counts.
func (s *Session) end(e *SessionEnd) {
	e.Duration = time.Since(s.Start)
	if s.Counters != nil {
		e.BytesIn, e.BytesOut = s.Counters()
	}
}

// JoinHooks runs several sets of hooks as one: Connect and Authorize in
// order until one refuses (a rename by one is seen by the next in
// s.Key), Start and End all of them in order.
func JoinHooks(hs ...Hooks) Hooks {
	var j Hooks
	var connects []func(context.Context, *Session) error
	var auths []func(context.Context, *Session) (string, error)
	var starts []func(*Session)
	var ends []func(*Session, SessionEnd)
	for _, h := range hs {
		if h.Connect != nil {
			connects = append(connects, h.Connect)
		}
		if h.Authorize != nil {
			auths = append(auths, h.Authorize)
		}
		if h.Start != nil {
			starts = append(starts, h.Start)
		}
		if h.End != nil {
			ends = append(ends, h.End)
		}
	}
	if len(connects) > 0 {
		j.Connect = func(ctx context.Context, s *Session) error {
			for _, f := range connects {
				if err := f(ctx, s); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if len(auths) > 0 {
		j.Authorize = func(ctx context.Context, s *Session) (string, error) {
			name := ""
			for _, f := range auths {
				n, err := f(ctx, s)
				if err != nil {
					return "", err
				}
				if n != "" && n != s.Key.Name {
					name = n
					s.Key.Name = n
				}
			}
			return name, nil
		}
	}
	if len(starts) > 0 {
		j.Start = func(s *Session) {
			for _, f := range starts {
				f(s)
			}
		}
	}
	if len(ends) > 0 {
		j.End = func(s *Session, e SessionEnd) {
			for _, f := range ends {
				f(s, e)
			}
		}
	}
	return j
}
