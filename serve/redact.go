package serve

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// redactHandler is a slog.Handler that removes secrets (stream keys) from
// every string of a record before the next handler sees it: the message,
// attribute values, errors and Stringers among them, in groups too. The
// hub logs stream names, and a stream name may be a key.
type redactHandler struct {
	next   slog.Handler
	redact func(string) string
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, capLog(h.redact(v.String())))
	case slog.KindGroup:
		g := v.Group()
		as := make([]any, len(g))
		for i, x := range g {
			as[i] = h.attr(x)
		}
		return slog.Group(a.Key, as...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, capLog(h.redact(x.Error())))
		case fmt.Stringer:
			return slog.String(a.Key, capLog(h.redact(x.String())))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (h *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = h.attr(a)
	}
	return &redactHandler{next: h.next.WithAttrs(out), redact: h.redact}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{next: h.next.WithGroup(name), redact: h.redact}
}

// maxLogValue bounds every string of a log line: a peer's names and the
// errors that quote them never make a line longer than a few KiB (the
// handler escapes what it writes).
const maxLogValue = 1024

func capLog(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	return strings.ToValidUTF8(s[:maxLogValue], "") + "...(" + strconv.Itoa(len(s)) + " bytes)"
}
