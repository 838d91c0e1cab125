package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/cors"
	"github.com/ertmp/rtmp/internal/writev"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

// FLVOptions configure an FLV handler.
type FLVOptions struct {
	// Logger gets a debug line per viewer that could not be served; nil
	// means slog.Default().
	Logger *slog.Logger
	// OriginPatterns lists the origins (host patterns, as
	// websocket.AcceptOptions.OriginPatterns) a WebSocket viewer may come
	// from. Empty, any origin may connect, as the CORS header lets any
	// page fetch HTTP-FLV.
	OriginPatterns []string
}

// FLV serves live streams of a hub as endless FLV files, to players such
// as FFmpeg, VLC and mpegts.js:
//
//	GET /APP/STREAM.flv                   HTTP-FLV (Content-Type video/x-flv)
//	GET /APP/STREAM.flv (Upgrade: websocket)  WebSocket-FLV
//
// APP may hold slashes (/live/inst/cam.flv is stream cam of app
// live/inst). The query is the viewer's, as an RTMP play's is: play keys
// (?key=) and hooks see it. Each viewer is a subscriber of the hub like an
// RTMP player (live.Hub.Subscribe, protocol "http-flv" or "ws-flv"): it
// waits for the publisher as long as the hub's PlayWait, starts at the
// cached GOP, has the hub's queue bounds and is closed as a slow consumer
// when it falls behind. The FLV tags are the hub's shared encoding
// (live.FLVTag), made once per packet for every viewer.
//
// Codecs: a viewer gets legacy tags (H.264, AAC, MP3, ... and the legacy
// form of track 0 of a multitrack stream) unless its query asks for
// Enhanced RTMP with enhanced=1 (or true, or enhanced alone): then it gets
// every codec's enhanced tags and multitrack tags whole (FFmpeg 7 and
// later read them; mpegts.js reads HEVC and AV1).
//
// HTTP-FLV: the answer is the FLV header (audio and video flags set), then
// the tags, flushed once per batch the subscription hands over; the body
// ends when the stream does. Refusals: 403 with the hook's description
// (a play key missing or wrong, an address not allowed), 404 when no
// publisher came within the wait, 503 when the server shuts down or the
// stream has its maximum of players. Every answer carries
// Access-Control-Allow-Origin: *; OPTIONS answers a CORS preflight.
//
// WebSocket-FLV: the same stream as binary messages, the FLV header in the
// first one, then one message per batch of tags (a message holds whole
// tags; mpegts.js takes any split). The subscription is made before the
// upgrade, so a refusal is the same HTTP status as for HTTP-FLV. When the
// stream ends the server closes with 1000 (publisher gone), 1001 (server
// shutting down) or 1008 (kicked, slow consumer), the reason as the text;
// a viewer blocked in a write when the hub ends it is cut off instead.
//
// An FLV is safe for concurrent use.
type FLV struct {
	// Immutable after NewFLV.
	hub    *live.Hub
	log    *slog.Logger
	accept websocket.AcceptOptions
}

// NewFLV returns the FLV handler of hub's streams.
func NewFLV(hub *live.Hub, o FLVOptions) *FLV {
	f := &FLV{hub: hub, log: o.Logger}
	if f.log == nil {
		f.log = slog.Default()
	}
	f.accept.OriginPatterns = o.OriginPatterns
	f.accept.InsecureSkipVerify = len(o.OriginPatterns) == 0
	return f
}

// Enhanced capabilities: every FourCC, audio and video, and multitrack.
var enhancedCaps = rtmp.Capabilities{
	FourCCList: []string{message.FourCCWildcard},
	CapsEx:     message.CapsExMultitrack,
	Enhanced:   true,
}

// FLVPath splits a path /APP/STREAM.flv into its app and stream; ok is
// false for any other path.
func FLVPath(path string) (app, stream string, ok bool) {
	p, ok := strings.CutSuffix(strings.TrimPrefix(path, "/"), ".flv")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(p, '/')
	if i <= 0 || i == len(p)-1 {
		return "", "", false
	}
	return p[:i], p[i+1:], true
}

func (f *FLV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	app, name, ok := FLVPath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !cors.Handle(w, r, http.MethodGet) {
		return
	}
	ws := isWebSocket(r)
	sess := &live.Session{Protocol: "http-flv", App: app, Stream: name, RemoteAddr: r.RemoteAddr, Query: r.URL.Query()}
	if ws {
		sess.Protocol = "ws-flv"
	}
	var out atomic.Uint64
	sess.Counters = func() (uint64, uint64) { return 0, out.Load() }
	// Each packet's FLV tag is made once, on the publisher's goroutine, as
	// RTMP players have their chunks made.
	opts := live.SubscribeOptions{Session: sess, Prepare: func(p *live.Packet) { p.Bytes(live.FLVTag) }}
	if wantsEnhanced(sess.Query) {
		opts.Capabilities = enhancedCaps
	}
	if ws {
		f.serveWS(w, r, opts, &out)
	} else {
		f.serveHTTP(w, r, opts, &out)
	}
}

// serveHTTP streams to an HTTP-FLV viewer.
func (f *FLV) serveHTTP(w http.ResponseWriter, r *http.Request, opts live.SubscribeOptions, out *atomic.Uint64) {
	rc := http.NewResponseController(w)
	// A slow consumer, a kick or a forced shutdown may find the handler
	// blocked in a write: a deadline in the past frees it.
	var hijacked atomic.Value // net.Conn, once the body goes out raw
	opts.Stop = func(live.Reason) {
		if c, ok := hijacked.Load().(net.Conn); ok {
			c.SetWriteDeadline(time.Now())
			return
		}
		rc.SetWriteDeadline(time.Now())
	}
	sub, err := f.hub.Subscribe(r.Context(), live.Key{App: opts.Session.App, Name: opts.Session.Stream}, opts)
	if err != nil {
		f.refuse(w, r, err)
		return
	}
	defer sub.Close()
	h := w.Header()
	h.Set("Content-Type", "video/x-flv")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.ProtoMajor == 1 {
		if conn, brw, err := rc.Hijack(); err == nil {
			hijacked.Store(conn)
			serveRaw(r.Context(), conn, brw, h, sub, out)
			return
		}
	}
	cw := &countWriter{w: w, n: out}
	if _, err := cw.Write(flvHeader); err != nil || rc.Flush() != nil {
		return
	}
	stream(r.Context(), sub, func(tags [][]byte) error {
		for _, t := range tags {
			if _, err := cw.Write(t); err != nil {
				return err
			}
		}
		return rc.Flush()
	})
}

// rawWriteTimeout bounds each batch written to a viewer's connection.
const rawWriteTimeout = 30 * time.Second

// serveRaw writes an HTTP/1.1 response on a hijacked connection: the
// status line and header, then each batch of tags as one chunk of the
// chunked encoding, in one write (writev on TCP). Through net/http's
// writer each tag would take a chunk of its own, a copy and up to three
// writes. The connection closes at the end; a read of it that ends (the
// viewer left) ends the stream.
func serveRaw(ctx context.Context, conn net.Conn, brw *bufio.ReadWriter, h http.Header, sub *live.Subscription, out *atomic.Uint64) {
	defer conn.Close()
	conn.SetDeadline(time.Time{}) // the server's header deadlines
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		io.Copy(io.Discard, brw.Reader)
		cancel()
	}()
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Transfer-Encoding", "chunked")
	h.Set("Connection", "close")
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	h.Write(&head)
	head.WriteString("\r\n")
	_, tcp := conn.(*net.TCPConn)
	var (
		size  []byte
		vec   net.Buffers
		wire  net.Buffers // what WriteTo consumes
		flat  []byte
		first = head.Bytes()
	)
	write := func(tags [][]byte) error {
		n := 0
		for _, t := range tags {
			n += len(t)
		}
		size = append(strconv.AppendInt(size[:0], int64(n), 16), '\r', '\n')
		vec = vec[:0]
		if first != nil {
			vec = append(vec, first)
			first = nil
		}
		vec = append(vec, size)
		vec = append(vec, tags...)
		vec = append(vec, crlf)
		conn.SetWriteDeadline(time.Now().Add(rawWriteTimeout))
		var err error
		if tcp {
			_, err = writev.Write(conn, vec, &wire)
		} else {
			flat = flat[:0]
			for _, b := range vec {
				flat = append(flat, b...)
			}
			_, err = conn.Write(flat)
		}
		clear(vec)
		if err == nil {
			out.Add(uint64(n))
		}
		return err
	}
	if write([][]byte{flvHeader}) != nil {
		return
	}
	if reason := stream(ctx, sub, write); reason != live.ReasonNone {
		// The stream ended: the last chunk, so the viewer sees a whole body.
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.Write(lastChunk)
	}
}

var (
	crlf      = []byte("\r\n")
	lastChunk = []byte("0\r\n\r\n")
)

// serveWS streams to a WebSocket-FLV viewer.
func (f *FLV) serveWS(w http.ResponseWriter, r *http.Request, opts live.SubscribeOptions, out *atomic.Uint64) {
	// Writes take wctx: Stop cancels it, which makes the WebSocket library
	// close the connection under a blocked write.
	wctx, stop := context.WithCancel(context.Background())
	defer stop()
	opts.Stop = func(live.Reason) { stop() }
	sub, err := f.hub.Subscribe(r.Context(), live.Key{App: opts.Session.App, Name: opts.Session.Stream}, opts)
	if err != nil {
		f.refuse(w, r, err)
		return
	}
	defer sub.Close()
	c, err := websocket.Accept(w, r, &f.accept)
	if err != nil {
		f.log.Debug("httpapi: ws-flv: upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	defer c.CloseNow()
	// The viewer sends nothing but control frames: CloseRead reads them
	// and ends rctx when the viewer closes or goes away.
	rctx := c.CloseRead(r.Context())
	write := func(bufs ...[]byte) error {
		mw, err := c.Writer(wctx, websocket.MessageBinary)
		if err != nil {
			return err
		}
		for _, b := range bufs {
			if _, err := mw.Write(b); err != nil {
				return err
			}
			out.Add(uint64(len(b)))
		}
		return mw.Close()
	}
	if write(flvHeader) != nil {
		return
	}
	reason := stream(rctx, sub, func(tags [][]byte) error { return write(tags...) })
	switch reason {
	case live.ReasonNone, live.ReasonClientClosed:
		// The viewer left: nothing to say.
	case live.ReasonPublisherGone:
		c.Close(websocket.StatusNormalClosure, reason.String())
	case live.ReasonShutdown:
		c.Close(websocket.StatusGoingAway, reason.String())
	default:
		c.Close(websocket.StatusPolicyViolation, reason.String())
	}
}

// flvHeader is the FLV file header of every viewer (FLV 10.1 §E.2): audio
// and video flags set, whatever the stream holds, as players expect.
var flvHeader = func() []byte {
	var b bytes.Buffer
	w, err := flv.NewWriter(&b, flv.NewHeader(true, true))
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		panic(err)
	}
	return b.Bytes()
}()

// stream writes a subscription's FLV tags, a batch per write call, until
// the subscription or the viewer ends; it returns the reason the hub gave,
// or ReasonNone when the viewer left or a write failed.
func stream(ctx context.Context, sub *live.Subscription, write func([][]byte) error) live.Reason {
	var items []live.Item
	var tags [][]byte
	for {
		var err error
		if items, err = sub.Read(ctx, items[:0]); err != nil {
			if e, ok := errors.AsType[*live.EndError](err); ok {
				return e.Reason
			}
			return live.ReasonNone
		}
		tags = tags[:0]
		for _, it := range items {
			if it.Packet == nil {
				continue // notices: an FLV stream has no place for them
			}
			tag, err := it.Packet.Bytes(live.FLVTag)
			if err != nil {
				continue // too large for an FLV tag
			}
			tags = append(tags, tag)
		}
		clear(items)
		if len(tags) > 0 {
			err := write(tags)
			clear(tags)
			if err != nil {
				return live.ReasonNone
			}
		}
	}
}

// refuse answers a refused subscription.
func (f *FLV) refuse(w http.ResponseWriter, r *http.Request, err error) {
	code, text, ok := live.HTTPStatus(err)
	if !ok {
		return // the viewer gave up waiting
	}
	if code == http.StatusInternalServerError {
		f.log.Warn("httpapi: flv: subscribe", "remote", r.RemoteAddr, "err", err)
	}
	http.Error(w, text, code)
}

// wantsEnhanced reports whether a viewer's query asks for Enhanced RTMP
// codecs: enhanced=1, true, ... or enhanced with no value.
func wantsEnhanced(q map[string][]string) bool {
	v, ok := q["enhanced"]
	if !ok {
		return false
	}
	if len(v) == 0 || v[0] == "" {
		return true
	}
	b, _ := strconv.ParseBool(v[0])
	return b
}

// isWebSocket reports whether r asks for a WebSocket upgrade.
func isWebSocket(r *http.Request) bool {
	return headerHas(r.Header, "Connection", "upgrade") && headerHas(r.Header, "Upgrade", "websocket")
}

func headerHas(h http.Header, key, token string) bool {
	for _, v := range h[key] {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// countWriter counts the bytes written to a viewer.
type countWriter struct {
	w io.Writer
	n *atomic.Uint64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(uint64(n))
	return n, err
}

// Root dispatches the paths of the HTTP listener that no fixed route
// (/metrics, /healthz, /v1/) takes: mount it at "/". A path ending in .flv
// goes to FLV; exactly the paths Page serves ("/" and its assets) to Page,
// so that no stream path is shadowed; any other path under /APP/STREAM/
// (/APP/STREAM/index.m3u8 and the playlists and segments it names) to HLS;
// the others answer 404. A nil handler is not served. Root is safe for
// concurrent use once set up.
type Root struct {
	FLV  http.Handler
	HLS  http.Handler
	Page *Page
}

func (rt *Root) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case rt.FLV != nil && strings.HasSuffix(p, ".flv"):
		rt.FLV.ServeHTTP(w, r)
	case rt.Page != nil && rt.Page.Serves(p):
		rt.Page.ServeHTTP(w, r)
	case rt.HLS != nil && strings.Count(p, "/") >= 3:
		rt.HLS.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}
