package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ertmp/rtmp/live"
)

// MaxDescription bounds the refusal text taken from a hook's answer.
const MaxDescription = 256

// maxBody bounds what is read of a hook's answer.
const maxBody = 4 << 10

// form is the body every hook call shares, as nginx-rtmp sends it.
func form(call string, s *live.Session) url.Values {
	f := url.Values{}
	f.Set("call", call)
	f.Set("app", s.App)
	if call != "connect" {
		f.Set("name", s.Stream)
		f.Set("clientid", strconv.FormatUint(s.ID, 10))
	}
	if ip := remoteIP(s.RemoteAddr); ip.IsValid() {
		f.Set("addr", ip.String())
	} else {
		f.Set("addr", s.RemoteAddr)
	}
	f.Set("tcurl", s.TcURL)
	f.Set("flashver", s.FlashVer)
	for _, k := range []string{"swfUrl", "pageUrl"} {
		if v, ok := s.ConnectObject.GetString(k); ok {
			f.Set(strings.ToLower(k), v)
		}
	}
	// The stream's query arguments, as nginx-rtmp appends them; they never
	// override the fields above.
	for k, vs := range s.Query {
		if _, fixed := f[k]; fixed || reserved[k] {
			continue
		}
		f[k] = append([]string(nil), vs...)
	}
	return f
}

// reserved names fields the server sets in some calls.
var reserved = map[string]bool{"call": true, "app": true, "name": true, "clientid": true, "addr": true,
	"tcurl": true, "flashver": true, "swfurl": true, "pageurl": true, "type": true, "start": true,
	"duration": true, "reset": true, "reason": true, "bytes_in": true, "bytes_out": true, "packets": true}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// errNoAnswer marks a hook that gave no HTTP answer.
var errNoAnswer = errors.New("no answer")

// post sends a hook call and returns the answer's status and body (at most
// maxBody bytes).
func (a *Auth) post(ctx context.Context, hook string, f url.Values) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, strings.NewReader(f.Encode()))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "ertmp")
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %v", errNoAnswer, scrub(err, hook))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: reading the answer: %v", errNoAnswer, scrub(err, hook))
	}
	// Let the connection be reused if the rest is short.
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, resp.Header, body, nil
}

// scrub removes the hook URL (which may hold credentials) from an error.
func scrub(err error, hook string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return strings.ReplaceAll(err.Error(), hook, RedactURL(hook))
}

// decide calls a decision hook: it returns a new stream name (a 3xx with a
// Location) or a refusal.
func (a *Auth) decide(ctx context.Context, x *app, name, hook string, f url.Values) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, x.HookTimeout)
	defer cancel()
	start := time.Now()
	status, hdr, body, err := a.post(ctx, hook, f)
	d := time.Since(start)
	switch {
	case err != nil:
		a.observe(name, d, "error")
		a.log.Warn("auth: hook failed", "hook", name, "app", logValue(f.Get("app")), "url", RedactURL(hook), "policy", x.HookFailure.String(), "err", err.Error())
		if x.HookFailure == FailAllow {
			return "", nil
		}
		return "", live.Deny("authorization unavailable")
	case status >= 200 && status < 300:
		a.observe(name, d, "allow")
		return "", nil
	case status >= 300 && status < 400 && name != "on_connect":
		loc, _, _ := strings.Cut(hdr.Get("Location"), "?")
		switch {
		case loc == "":
			a.observe(name, d, "error")
			a.log.Warn("auth: hook answered a redirect without a Location", "hook", name, "status", status, "url", RedactURL(hook))
			return "", live.Deny("authorization unavailable")
		case strings.Contains(loc, "://"):
			// nginx-rtmp makes a relay of an rtmp:// Location; relays are
			// not here yet.
			a.observe(name, d, "refuse")
			a.log.Warn("auth: hook redirected to another server; relays are not supported", "hook", name, "url", RedactURL(hook))
			return "", live.Deny("redirect to another server not supported")
		}
		a.observe(name, d, "rename")
		return loc, nil
	}
	a.observe(name, d, "refuse")
	text := describe(body)
	if text == "" {
		text = fmt.Sprintf("refused by %s (HTTP %d)", name, status)
	}
	return "", live.Deny(text)
}

// describe makes a hook's answer a description for the client: trimmed,
// its first MaxDescription bytes of valid UTF-8, controls as spaces.
func describe(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > MaxDescription {
		s = s[:MaxDescription]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// ParseAddrList reads a list of addresses and prefixes: "192.0.2.7",
// "10.0.0.0/8", "2001:db8::/32", "::1", or "all" (every IPv4 and IPv6
// address).
func ParseAddrList(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		p, err := ParseAddr(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p...)
	}
	return out, nil
}

// ParseAddr reads one entry of an address list (see ParseAddrList).
func ParseAddr(s string) ([]netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "all" {
		return []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("auth: %q is not an address, a prefix (CIDR) or all", s)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return []netip.Prefix{p.Masked()}, nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return nil, fmt.Errorf("auth: %q is not an address, a prefix (CIDR) or all", s)
	}
	ip = ip.Unmap()
	return []netip.Prefix{netip.PrefixFrom(ip, ip.BitLen())}, nil
}

// permits applies an allow and a deny list to an address: the longest
// prefix that contains it decides, deny winning a tie; none: allowed
// unless there is an allow list. An unknown address passes empty lists
// only.
func permits(allow, deny []netip.Prefix, ip netip.Addr) bool {
	if len(allow) == 0 && len(deny) == 0 {
		return true
	}
	best, ok := -1, len(allow) == 0
	for _, p := range allow {
		if p.Contains(ip) && p.Bits() > best {
			best, ok = p.Bits(), true
		}
	}
	for _, p := range deny {
		if p.Contains(ip) && p.Bits() >= best {
			best, ok = p.Bits(), false
		}
	}
	if !ip.IsValid() {
		return false
	}
	return ok
}

// RecordDone is a finished recorded file, for the on_record_done hook.
type RecordDone struct {
	// App and Name are the stream's; Path the file's.
	App, Name, Path string
	// Reason is why the file ended (rotate, end, stop, error, ...).
	Reason string
	// Size is the file's bytes; Duration its media time.
	Size     int64
	Duration time.Duration
}

// RecordDone sends the app's on_record_done hook (when set) for a
// finished file, as nginx-rtmp does: a form with call=record_done, app,
// name and path, plus reason, size (bytes) and duration (seconds). It
// does not wait for the answer; Wait does.
func (a *Auth) RecordDone(d RecordDone) {
	x := a.rules.Load().rulesFor(d.App)
	if x == nil || x.OnRecordDone == "" {
		return
	}
	hook := x.OnRecordDone
	f := url.Values{}
	f.Set("call", "record_done")
	f.Set("app", d.App)
	f.Set("name", d.Name)
	f.Set("path", d.Path)
	f.Set("reason", d.Reason)
	f.Set("size", strconv.FormatInt(d.Size, 10))
	f.Set("duration", fmtFloat(d.Duration.Seconds()))
	a.notify("on_record_done", hook, x.HookTimeout, f, "app", d.App)
}

// logValue bounds a peer's string in a log line (the log handler escapes
// it): a connect app is not yet checked against the hub's name bounds.
func logValue(s string) string {
	const max = 256
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "..."
}
