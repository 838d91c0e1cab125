package relay

import (
	"net/url"
	"strings"

	rtmp "github.com/ertmp/rtmp"
)

// StreamVar is replaced by the stream's name in a push URL.
const StreamVar = "{stream}"

// PushURL is a push target for a stream: the URL as written, with
// {stream} replaced by the stream's name (a platform URL with its own
// key has none).
func PushURL(target, stream string) string {
	return strings.ReplaceAll(target, StreamVar, url.PathEscape(stream))
}

// PullURL is the upstream URL of a stream: the stream's name appended to
// the upstream's rtmp://HOST/APP (before its query string, if any).
func PullURL(upstream, stream string) string {
	base, query, hasQuery := strings.Cut(upstream, "?")
	u := strings.TrimSuffix(base, "/") + "/" + url.PathEscape(stream)
	if hasQuery {
		u += "?" + query
	}
	return u
}

// Redact returns a URL fit for logs and the API: the stream name (where
// platform keys travel) and its query string are masked, unless the name
// is the stream's own (name, from {stream}).
func Redact(raw, name string) string {
	u, err := rtmp.ParseURL(raw)
	if err != nil {
		return "(bad url)"
	}
	stream, _, _ := strings.Cut(u.Stream, "?")
	if stream != "" && (name == "" || stream != name) {
		stream = "***"
	}
	u.Stream = stream
	return u.String()
}
