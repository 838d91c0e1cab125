package rtmp

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

// Kind says what a peer asked for.
type Kind uint8

// Request kinds.
const (
	KindPublish Kind = iota + 1
	KindPlay
)

func (k Kind) String() string {
	switch k {
	case KindPublish:
		return "publish"
	case KindPlay:
		return "play"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Request is a peer that connected and announced publish or play. The
// handler accepts it (AcceptPublish, AcceptPlay) or rejects it (Reject);
// one of them must be called, else the request is rejected when the handler
// returns. A Request is used by one goroutine.
type Request struct {
	Kind Kind
	// App is the connect command's app, e.g. "live" or "live/instance".
	App string
	// StreamName is the name given to publish or play, without its query.
	StreamName string
	// Query is the parsed query string of the stream name (stream keys and
	// tokens ride there); RawQuery is it unparsed.
	Query    url.Values
	RawQuery string
	// TcURL is the connect command's tcUrl.
	TcURL string
	// PublishType is "live", "record" or "append" (publish only).
	PublishType string
	// Start, Duration and Reset are the play arguments (play only), with the
	// spec's defaults (-2, -1, true) where the peer left them out.
	Start    float64
	Duration float64
	Reset    bool
	// BufferLength is the SetBufferLength (ms) the player sent before play,
	// if any.
	BufferLength uint32
	// StreamID is the message stream the publish or play came on.
	StreamID uint32
	// RemoteAddr is the peer's address.
	RemoteAddr net.Addr
	// ConnectObject is the whole connect command object; ConnectArgs the
	// optional arguments after it. Read-only: connections that sent the
	// same connect command share them (and Capabilities' list and maps).
	ConnectObject amf0.Object
	ConnectArgs   []amf0.Value
	// Capabilities are the peer's Enhanced RTMP capabilities and object
	// encoding, from connect.
	Capabilities Capabilities
	// Handshake is the handshake the connection began with: simple or
	// digest, and the digest's schema.
	Handshake handshake.Result

	c       *serverConn
	ns      *netStream // the NetStream of the publish or play
	rawName string     // the stream name as the peer sent it, query included
	amf3    bool       // the peer sends commands as AMF3 (type 17)
	decided bool
}

// Conn returns the connection, for low-level use. Every request of a
// connection (one per NetStream) shares it.
func (r *Request) Conn() *Conn { return r.c.conn }

// ErrAnswered: the request was already accepted or rejected.
var ErrAnswered = errors.New("rtmp: request already answered")

// Reject refuses the request with an error onStatus on its stream. When no
// other request or session is open on the connection, the connection is
// then closed politely; otherwise the others go on. An empty code picks
// NetStream.Publish.BadName for a publisher and
// NetStream.Play.StreamNotFound for a player.
func (r *Request) Reject(code, description string) error {
	if r.decided {
		return ErrAnswered
	}
	r.decided = true
	if code == "" {
		code = message.CodePlayStreamNotFound
		if r.Kind == KindPublish {
			code = message.CodePublishBadName
		}
	}
	if description == "" {
		description = "rejected"
	}
	conn := r.c.conn
	r.c.sendStatus(r.StreamID, r.amf3, "error", code, description, nil)
	conn.Flush()
	if r.c.endRequest(r.ns) {
		r.c.politeClose()
	}
	return nil
}

// finish runs when the handler returns: an unanswered request is rejected,
// an open session is closed politely.
func (r *Request) finish() {
	if !r.decided {
		r.Reject("", "not accepted")
		return
	}
	r.c.smu.Lock()
	sess := r.ns.sess
	r.c.smu.Unlock()
	if sess != nil {
		sess.shutdown()
	}
}

// splitName separates a stream name from its query string.
func splitName(s string) (name, raw string, q url.Values) {
	name, raw, _ = strings.Cut(s, "?")
	q, _ = url.ParseQuery(raw)
	return name, raw, q
}

// politeClose half-closes after flushing and drains briefly, so a last
// onStatus is not lost to a connection reset (a peer that still sends while
// we close would get RST and may discard what we sent). It runs once no
// request or session is open.
func (c *serverConn) politeClose() {
	c.conn.CloseWrite()
	c.closeAll()
	c.tryFinish()
}

// sendStatus queues onStatus on a message stream: level, code, description
// and the extra properties.
func (c *serverConn) sendStatus(streamID uint32, amf3 bool, level, code, description string, extra amf0.Object) error {
	cmd := message.NewStatusCommand(message.NameOnStatus, message.Status{Level: level, Code: code, Description: description, Props: extra})
	cmd.AMF3 = amf3
	return c.sendCommand(streamID, cmd)
}

func (c *serverConn) sendCommand(streamID uint32, cmd message.Command) error {
	csid := uint32(CSIDCommand)
	if streamID != 0 {
		csid = CSIDData
	}
	return c.conn.Write(csid, streamID, 0, cmd)
}
