package rtmp

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ErrURL: a URL that is not an RTMP URL ertmp can use.
var ErrURL = errors.New("rtmp: bad URL")

// URL is a parsed rtmp:// or rtmps:// URL:
//
//	rtmp[s]://host[:port]/app[/instance]/stream[?query]
//
// The first path segment is the application; with three or more segments
// the second is the application instance ("app/instance"), as FFmpeg and OBS
// read it; the rest is the stream name. Set App and Stream directly when a
// server uses another layout.
type URL struct {
	Scheme string // "rtmp" or "rtmps"
	Host   string // host name or IP, without brackets
	Port   int    // 0 when the URL has none (DefaultPort applies)
	App    string
	// Stream is the stream name, with its query string (stream keys and
	// tokens travel there), exactly as sent to publish or play.
	Stream string
}

// Default ports.
const (
	DefaultPort    = 1935
	DefaultTLSPort = 443
)

// ParseURL parses an RTMP URL.
func ParseURL(s string) (*URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrURL, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "rtmp" && scheme != "rtmps" {
		return nil, fmt.Errorf("%w: %q: the scheme must be rtmp or rtmps", ErrURL, s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: %q has no host", ErrURL, s)
	}
	out := &URL{Scheme: scheme, Host: u.Hostname()}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: %q: bad port %q", ErrURL, s, p)
		}
		out.Port = n
	}
	path := strings.TrimPrefix(u.EscapedPath(), "/")
	segs := strings.Split(path, "/")
	for i, sg := range segs {
		if v, err := url.PathUnescape(sg); err == nil {
			segs[i] = v
		}
	}
	switch {
	case path == "":
		return nil, fmt.Errorf("%w: %q has no application", ErrURL, s)
	case len(segs) == 1:
		out.App = segs[0]
	case len(segs) == 2:
		out.App, out.Stream = segs[0], segs[1]
	default:
		out.App, out.Stream = segs[0]+"/"+segs[1], strings.Join(segs[2:], "/")
	}
	if u.RawQuery != "" {
		out.Stream += "?" + u.RawQuery
	}
	return out, nil
}

// Addr returns host:port for dialing, with the default port for the scheme.
func (u *URL) Addr() string {
	port := u.Port
	if port == 0 {
		port = DefaultPort
		if u.Scheme == "rtmps" {
			port = DefaultTLSPort
		}
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(port))
}

// TcURL returns the tcUrl sent in connect: scheme, host, the port when the
// URL has one, and the application — what FFmpeg and OBS send.
func (u *URL) TcURL() string {
	host := u.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if u.Port != 0 {
		host += ":" + strconv.Itoa(u.Port)
	}
	return u.Scheme + "://" + host + "/" + u.App
}

// String returns the URL in the form ParseURL reads.
func (u *URL) String() string {
	s := u.TcURL()
	if u.Stream != "" {
		s += "/" + u.Stream
	}
	return s
}

// ResolveReconnect resolves the tcUrl of a NetConnection.Connect.
// ReconnectRequest against the current connection's tcUrl (Enhanced RTMP
// v2, "Reconnect Request"): absent means the current one; an absolute URL,
// a network-path reference (//host/app), an absolute-path reference (/app)
// or a relative one (app) are resolved as RFC 3986 says. The stream name
// stays the same.
func (u *URL) ResolveReconnect(tcURL string) (*URL, error) {
	if tcURL == "" {
		c := *u
		return &c, nil
	}
	base, err := url.Parse(u.TcURL())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrURL, err)
	}
	ref, err := url.Parse(tcURL)
	if err != nil {
		return nil, fmt.Errorf("%w: reconnect tcUrl %q: %v", ErrURL, tcURL, err)
	}
	next, err := ParseURL(base.ResolveReference(ref).String())
	if err != nil {
		return nil, err
	}
	next.Stream = u.Stream
	return next, nil
}
